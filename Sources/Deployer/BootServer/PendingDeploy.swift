import Foundation
import ImageDSL

/// A deploy that `imagec serve` hands to a machine's installer: what `imagec deploy` records
/// before it power-cycles the machine, read by the server for every request that names it.
public struct PendingDeploy: Codable, Equatable, Sendable {
    /// The secret the iPXE script gives the installer, which every later request carries.
    public var token: String
    public var host: String
    public var mac: String
    /// The ledger's swap this deploy belongs to.
    public var swap: String
    /// The image's store entry (`disk.raw`, `slot-image.json`).
    public var entry: String
    /// The installer: kernel, initramfs, and kernel arguments added to imagec's own.
    public var installer: InstallerBoot
    /// The root disk the installer writes.
    public var rootDisk: DiskSelector

    public init(token: String, host: String, mac: String, swap: String, entry: String, installer: InstallerBoot,
                rootDisk: DiskSelector) {
        self.token = token
        self.host = host
        self.mac = mac
        self.swap = swap
        self.entry = entry
        self.installer = installer
        self.rootDisk = rootDisk
    }

    /// A new token: 32 random bytes, in hex.
    public static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// How a machine boots the installer: the files iPXE fetches and the kernel's arguments.
public struct InstallerBoot: Codable, Equatable, Sendable {
    public var kernel: String
    public var initramfs: String
    public var arguments: [String]

    public init(kernel: String, initramfs: String, arguments: [String] = []) {
        self.kernel = kernel
        self.initramfs = initramfs
        self.arguments = arguments
    }
}
