import Foundation
import Packages

/// The shared store as a place locked .debs come from: each is an entry `deb-<sha256>`
/// holding the file `deb`.
public struct SharedStoreOrigin: PackageOrigin {
    public var client: SharedStoreClient

    public init(client: SharedStoreClient) { self.client = client }
    public var description: String { client.description }
    public var isFallback: Bool { false }

    public static func entryName(_ package: LockedPackage) -> String { "deb-\(package.sha256)" }

    public func fetch(_ packages: [LockedPackage], into folder: URL) throws -> [String: String] {
        var reasons: [String: String] = [:]
        for (index, package) in packages.enumerated() {
            let entry = folder.appendingPathComponent(".\(package.sha256)")
            try FileManager.default.createDirectory(at: entry, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: entry) }
            do {
                if try client.fetch(Self.entryName(package), into: entry) == nil {
                    reasons[package.sha256] = "not there"
                } else {
                    try FileManager.default.moveItem(at: entry.appendingPathComponent("deb"), to: folder.appendingPathComponent("\(package.sha256).deb"))
                }
            } catch let refused as SubstituteRefused {
                reasons[package.sha256] = refused.description
            } catch {
                // The store went away: the rest would each wait for its time limit.
                for rest in packages[index...] { reasons[rest.sha256] = "\(error)" }
                break
            }
        }
        return reasons
    }
}
