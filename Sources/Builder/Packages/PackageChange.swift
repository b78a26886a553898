import Foundation

/// A package whose locked version differs (`nil`: absent on that side).
public struct PackageChange: Codable, Sendable, Equatable {
    public var name: String
    public var old: String?
    public var new: String?

    /// The packages whose version differs between two sides, by name.
    public static func between(_ old: [String: String], _ new: [String: String]) -> [PackageChange] {
        Set(old.keys).union(new.keys).sorted().compactMap { name in
            old[name] == new[name] ? nil : PackageChange(name: name, old: old[name], new: new[name])
        }
    }

    /// `+`, `-` or `~`.
    public var mark: Character { old == nil ? "+" : new == nil ? "-" : "~" }

    /// `name new`, `name old`, or `name old → new`: what reviews and `imagec lock --update` print.
    public var text: String {
        switch (old, new) {
        case (nil, let new?): "\(name) \(new)"
        case (let old?, nil): "\(name) \(old)"
        default: "\(name) \(old ?? "") → \(new ?? "")"
        }
    }
}
