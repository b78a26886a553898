/// The result builder behind `OperatingSystem { … }`, `Network { … }` and `Disk { … }`: it
/// records each item together with the file and line it was written on.
@resultBuilder
public enum DeclarationBuilder<Item> {
    /// One item and where it was written.
    public struct Declaration {
        public var item: Item
        public var location: SourceLocation
    }

    public static func buildExpression(_ item: Item, file: String = #filePath, line: Int = #line) -> [Declaration] {
        [Declaration(item: item, location: SourceLocation(file: file, line: line))]
    }

    public static func buildBlock(_ parts: [Declaration]...) -> [Declaration] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [Declaration]?) -> [Declaration] { part ?? [] }
    public static func buildEither(first part: [Declaration]) -> [Declaration] { part }
    public static func buildEither(second part: [Declaration]) -> [Declaration] { part }
    public static func buildArray(_ parts: [[Declaration]]) -> [Declaration] { parts.flatMap { $0 } }
    public static func buildLimitedAvailability(_ part: [Declaration]) -> [Declaration] { part }
}

extension DeclarationBuilder.Declaration: Sendable where Item: Sendable {}

/// The builder of `OperatingSystem { … }` and `Components { … }` blocks.
public typealias SystemBuilder = DeclarationBuilder<any SystemComponent>
/// The builder of `Network { … }` blocks.
public typealias NetworkBuilder = DeclarationBuilder<any NetworkItem>
/// The builder of `Disk { … }` blocks.
public typealias DiskBuilder = DeclarationBuilder<any DiskItem>
