/// The result builder behind a service's `extensions`.
@resultBuilder
public enum ExtensionBuilder {
    public static func buildExpression(_ extension: ServiceExtension) -> [ServiceExtension] { [`extension`] }
    public static func buildExpression(_ extensions: [ServiceExtension]) -> [ServiceExtension] { extensions }
    public static func buildBlock(_ parts: [ServiceExtension]...) -> [ServiceExtension] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [ServiceExtension]?) -> [ServiceExtension] { part ?? [] }
    public static func buildEither(first part: [ServiceExtension]) -> [ServiceExtension] { part }
    public static func buildEither(second part: [ServiceExtension]) -> [ServiceExtension] { part }
    public static func buildArray(_ parts: [[ServiceExtension]]) -> [ServiceExtension] { parts.flatMap { $0 } }
}
