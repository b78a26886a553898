/// The result builder behind `Disk { … }`.
@resultBuilder
public enum DiskBuilder {
    public struct Declaration: Sendable {
        var item: any DiskItem
        var location: SourceLocation
    }

    public static func buildExpression(
        _ item: any DiskItem, file: String = #filePath, line: Int = #line
    ) -> [Declaration] {
        [Declaration(item: item, location: SourceLocation(file: file, line: line))]
    }

    public static func buildBlock(_ parts: [Declaration]...) -> [Declaration] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [Declaration]?) -> [Declaration] { part ?? [] }
    public static func buildEither(first part: [Declaration]) -> [Declaration] { part }
    public static func buildEither(second part: [Declaration]) -> [Declaration] { part }
    public static func buildArray(_ parts: [[Declaration]]) -> [Declaration] { parts.flatMap { $0 } }
}
