import Foundation
import ImageDSL

/// Makes the driver a definition's BMC needs, its credentials read from their file.
public enum BaseboardControllers {
    public static func controller(for bmc: BaseboardManagement) throws -> any BaseboardController {
        switch bmc {
        case .redfish(let url, let system, let file, let verify):
            guard let root = URL(string: url) else { throw BMCError("the Redfish URL '\(url)' is not a URL", kind: .invalidDefinition) }
            return RedfishController(root: root, system: system, credentials: try BMCCredentials(file: file), verifyCertificate: verify)
        case .ipmi(let host, let port, let file):
            return IPMIController(host: host, port: port, credentials: try BMCCredentials(file: file))
        }
    }
}
