/// Declares networking: interfaces (DHCP, static, VLANs), routes and name servers.
///
/// ```swift
/// Network {
///     Interface("eno1", address: "10.8.0.42/16", gateway: "10.8.255.254")
///     VLAN(1504, on: "eno2", address: "10.50.0.42/16")
///     NameServers("10.8.0.1", "10.8.0.2")
///     SearchDomains("lab.example")
/// }
/// ```
///
/// An interface replaces an inherited interface of the same name; routes add to the
/// inherited ones; name servers and search domains replace the inherited lists.
public struct Network: SystemComponent {
    let declarations: [NetworkBuilder.Declaration]

    public init(@NetworkBuilder _ content: () -> [NetworkBuilder.Declaration]) {
        declarations = content()
    }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        for declaration in declarations {
            declaration.item.apply(to: &system, at: declaration.location)
        }
    }
}

/// Something that can appear in a `Network { … }` block.
public protocol NetworkItem: Sendable {
    func apply(to system: inout OperatingSystem, at location: SourceLocation)
}

/// The result builder behind `Network { … }`.
@resultBuilder
public enum NetworkBuilder {
    public struct Declaration: Sendable {
        var item: any NetworkItem
        var location: SourceLocation
    }

    public static func buildExpression(
        _ item: any NetworkItem, file: String = #filePath, line: Int = #line
    ) -> [Declaration] {
        [Declaration(item: item, location: SourceLocation(file: file, line: line))]
    }

    public static func buildBlock(_ parts: [Declaration]...) -> [Declaration] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [Declaration]?) -> [Declaration] { part ?? [] }
    public static func buildEither(first part: [Declaration]) -> [Declaration] { part }
    public static func buildEither(second part: [Declaration]) -> [Declaration] { part }
    public static func buildArray(_ parts: [[Declaration]]) -> [Declaration] { parts.flatMap { $0 } }
}
