/// A machine, declared as a value.
///
/// A system starts from defaults or from a template it inherits, and each component in its
/// block sets, adds or removes something:
///
/// ```swift
/// let system = OperatingSystem(inheriting: Lab.bigmem) {
///     HostName("bigmem2")
///     Network { Interface("eno1", address: "10.8.0.42/16", gateway: "10.8.255.254") }
///     Packages("samtools", "bwa", "r-base-core")
/// }
/// ```
///
/// Inheriting keeps everything the base declares; a component in the new block overrides
/// what has the same identity (a user of the same name, a file at the same path, an interface
/// of the same name) and adds the rest. `resolve()` folds the services into the canonical
/// ``SystemModel`` and reports every problem at once.
public struct OperatingSystem: Sendable {
    public var hostName: String?
    public var distribution = Distribution.bookworm
    public var architecture = Architecture.amd64
    /// Package sources; empty means the build host's apt sources.
    public var aptSources: [AptSource] = []
    /// Snapshot services where locked packages that left the apt sources are found.
    public var snapshotArchives: [String] = []
    /// The lab's shared store, where builds find entries other hosts built.
    public var sharedStore: SharedStore?
    /// The kernel package; `nil` means the distribution's default for the architecture.
    public var kernelPackage: String?
    public var kernelArguments: [String] = []
    public var firmware = Firmware.both
    public var format = ImageFormat.disk
    public var disk = DiskLayout()
    public var timezone = "UTC"
    public var locales = ["C.UTF-8"]
    public var keyboard = Keyboard("us")
    public var network = NetworkConfiguration()
    /// Packages declared directly (services add their own when resolved).
    public var packages: [String] = []
    public var users: [User] = []
    public var groups: [Group] = []
    public var files: [File] = []
    public var units: [SystemdUnit] = []
    public var mounts: [Mount] = []
    public var services: [ServiceDeclaration] = []
    /// Checks declared directly (defaults and services add theirs when resolved).
    public var checks: [Check] = []
    /// Where the system is deployed, if it says.
    public var deployment: Deployment?
    /// Checks turned off, by name, with where: applied after the services are folded.
    public var removedChecks: [String: SourceLocation] = [:]
    /// Services removed (`RemoveService`), by name, with where: a service that needs one is
    /// reported there.
    public var removedServices: [String: SourceLocation] = [:]

    /// Where each declaration came from, keyed like `user:alice` or `file:/etc/motd`.
    public internal(set) var sources: [String: SourceLocation] = [:]
    /// The templates this system inherits, from the first to the nearest, each as it was when
    /// inherited (without its own list): the chain its package layers follow.
    public internal(set) var templates: [OperatingSystem] = []
    /// Problems found while applying components (reported by `resolve()`).
    var problems: [Diagnostic] = []
    /// What the block being applied has declared so far, to catch duplicates within one block.
    var declaredInBlock: [String: SourceLocation] = [:]

    /// A system built from imagec's defaults (Debian bookworm, amd64, BIOS and UEFI).
    public init(
        file: String = #filePath, line: Int = #line,
        @SystemBuilder _ content: () -> [SystemBuilder.Declaration]
    ) {
        self.init(base: nil, location: SourceLocation(file: file, line: line), content())
    }

    /// A system that starts as `base` and applies the block on top of it.
    public init(
        inheriting base: OperatingSystem, file: String = #filePath, line: Int = #line,
        @SystemBuilder _ content: () -> [SystemBuilder.Declaration]
    ) {
        self.init(base: base, location: SourceLocation(file: file, line: line), content())
    }

    private init(base: OperatingSystem?, location: SourceLocation, _ declarations: [SystemBuilder.Declaration]) {
        if let base {
            self = base
            var parent = base
            parent.templates = []
            templates.append(parent)
        }
        sources["system"] = location
        declaredInBlock = [:]
        for declaration in declarations {
            declaration.item.apply(to: &self, at: declaration.location)
        }
        declaredInBlock = [:]
    }

    /// This system with `declarations` applied on top, as `OperatingSystem(inheriting: self) { … }`
    /// written at `location` would make it.
    func applying(_ declarations: [SystemBuilder.Declaration], at location: SourceLocation) -> OperatingSystem {
        OperatingSystem(base: self, location: location, declarations)
    }

    /// The location of the `OperatingSystem { … }` expression that made this value.
    public var location: SourceLocation { sources["system"] ?? .unknown }

    // MARK: - Helpers for components

    /// Records that `key` is declared at `location`; a second declaration of the same key
    /// in one block is reported as a duplicate.
    public mutating func declare(_ key: String, at location: SourceLocation) {
        if let first = declaredInBlock[key] {
            problems.append(Diagnostic(
                "\(Self.describe(key)) is declared twice in the same block (first at \(first))", at: location))
        }
        declaredInBlock[key] = location
        sources[key] = location
    }

    /// Sets a single-valued field, such as the host name or the time zone.
    public mutating func set<Value>(
        _ field: WritableKeyPath<OperatingSystem, Value>, to value: Value, key: String, at location: SourceLocation
    ) {
        declare(key, at: location)
        self[keyPath: field] = value
    }

    /// Adds `element` to a list, replacing an inherited element with the same identity.
    public mutating func upsert<Element>(
        _ element: Element, into field: WritableKeyPath<OperatingSystem, [Element]>,
        key: String, at location: SourceLocation, sameAs: (Element) -> Bool
    ) {
        declare(key, at: location)
        if let index = self[keyPath: field].firstIndex(where: sameAs) {
            self[keyPath: field][index] = element
        } else {
            self[keyPath: field].append(element)
        }
    }

    /// Removes the elements of a list that match; reports `what` when none does.
    public mutating func remove<Element>(
        from field: WritableKeyPath<OperatingSystem, [Element]>, _ what: String, at location: SourceLocation,
        where matches: (Element) -> Bool
    ) {
        guard self[keyPath: field].contains(where: matches) else {
            report("cannot remove \(what): the system does not declare it", at: location)
            return
        }
        self[keyPath: field].removeAll(where: matches)
    }

    /// Records a problem to report when the system is resolved.
    public mutating func report(_ message: String, at location: SourceLocation) {
        problems.append(Diagnostic(message, at: location))
    }

    /// `user:alice` → `user 'alice'`, for messages.
    static func describe(_ key: String) -> String {
        guard let colon = key.firstIndex(of: ":") else { return key }
        return "\(key[..<colon]) '\(key[key.index(after: colon)...])'"
    }
}
