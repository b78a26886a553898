/// The distribution and release a system is built from.
///
/// ```swift
/// Distribution.trixie
/// ```
public struct Distribution: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The vendor: `debian` or `ubuntu`.
    public var vendor: String
    /// The release code name, such as `bookworm` or `noble`.
    public var release: String

    init(vendor: String, release: String) {
        self.vendor = vendor
        self.release = release
    }

    /// Debian 12.
    public static let bookworm = Distribution(vendor: "debian", release: "bookworm")
    /// Debian 13.
    public static let trixie = Distribution(vendor: "debian", release: "trixie")
    /// Ubuntu 22.04 LTS.
    public static let jammy = Distribution(vendor: "ubuntu", release: "jammy")
    /// Ubuntu 24.04 LTS.
    public static let noble = Distribution(vendor: "ubuntu", release: "noble")

    public var description: String {
        let vendorName = vendor == "ubuntu" ? "Ubuntu" : "Debian"
        return "\(vendorName) \(release)"
    }

    /// The kernel package used when a definition names none.
    public func defaultKernelPackage(for architecture: Architecture) -> String {
        vendor == "ubuntu" ? "linux-image-generic" : "linux-image-\(architecture.rawValue)"
    }
}

extension Distribution: SystemComponent {
    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.distribution, to: self, key: "distribution", at: location)
    }
}
