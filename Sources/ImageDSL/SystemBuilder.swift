/// The result builder behind `OperatingSystem { … }`: it records each component
/// together with the file and line it was written on.
@resultBuilder
public enum SystemBuilder {
    public static func buildExpression(
        _ component: any SystemComponent, file: String = #filePath, line: Int = #line
    ) -> [Declaration] {
        [Declaration(component: component, location: SourceLocation(file: file, line: line))]
    }

    public static func buildExpression(_ declarations: [Declaration]) -> [Declaration] { declarations }

    public static func buildBlock(_ parts: [Declaration]...) -> [Declaration] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [Declaration]?) -> [Declaration] { part ?? [] }
    public static func buildEither(first part: [Declaration]) -> [Declaration] { part }
    public static func buildEither(second part: [Declaration]) -> [Declaration] { part }
    public static func buildArray(_ parts: [[Declaration]]) -> [Declaration] { parts.flatMap { $0 } }
    public static func buildLimitedAvailability(_ part: [Declaration]) -> [Declaration] { part }

    /// One component and where it was written.
    public struct Declaration: Sendable {
        public var component: any SystemComponent
        public var location: SourceLocation
    }
}
