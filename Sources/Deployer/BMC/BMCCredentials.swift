import Foundation
import ImagecCore

/// A BMC's user and password, read from a file holding `USER:PASSWORD` on one line. The file
/// must be readable by its owner only: one that others can read is refused, as ssh refuses
/// such a key.
public struct BMCCredentials: Sendable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    public init(file path: String) throws {
        do {
            let credentials = try Credentials(file: path, what: "the BMC credentials file")
            self.init(user: credentials.user, password: credentials.password)
        } catch let error as CredentialsError {
            throw BMCError(error.description)
        }
    }
}
