import Foundation
import ImageDSL

/// The differences between two canonical models of one system, walked field by field:
/// lists of named things (users, files, services, interfaces…) are matched by name, so a
/// review reads "user alice added" or "openssh.port: 22 → 2222", never a reordered array.
public enum ModelDiff {
    /// The changes from `old` to `new`, sorted by section and item. `relative` turns a
    /// declaration's file into the path a reviewer knows (repository-relative).
    public static func changes(from old: SystemModel, to new: SystemModel, relative: @escaping (String) -> String = { $0 }) throws -> [ModelChange] {
        var walk = Walk(old: old, new: new, relative: relative)
        walk.compare(try reviewed(old), try reviewed(new), at: [])
        return walk.changes.sorted { ($0.section, $0.item, $0.kind.rawValue) < ($1.section, $1.item, $1.kind.rawValue) }
    }

    /// What a review compares: the canonical model, and where the system is deployed.
    static func reviewed(_ model: SystemModel) throws -> JSONValue {
        guard let deployment = model.deployment, case .object(var fields) = try JSONValue(encoding: model.canonical) else {
            return try JSONValue(encoding: model.canonical)
        }
        fields["deployment"] = try JSONValue(encoding: deployment)
        return .object(fields)
    }

    /// The section a top-level field of the model belongs to.
    public static func section(of field: String) -> String {
        switch field {
        case "hostName": "host name"
        case "distribution", "architecture", "firmware", "aptSources": "distribution"
        case "kernelPackage", "kernelArguments": "kernel"
        case "timezone", "locales", "keyboard": "locale"
        default: field
        }
    }

    /// The field that names the elements of a list, tried in order.
    static let identities = ["name", "path", "mountPoint", "destination", "type"]

    /// What the model's `sources` call an element of a list, by the list's field name.
    static let sourcePrefixes = [
        "users": "user", "groups": "group", "files": "file", "units": "unit", "mounts": "mount", "services": "service",
        "packages": "package", "persistentVolumes": "volume", "partitions": "partition", "interfaces": "interface",
        "routes": "route", "aptSources": "aptSource", "kernelArguments": "kernelArgument",
    ]

    /// A path element: a field, or an element of a list with its identity.
    enum Step: Equatable {
        case field(String)
        case element(list: String, key: String)
    }

    private struct Walk {
        let old: SystemModel, new: SystemModel
        let relative: (String) -> String
        var changes: [ModelChange] = []

        mutating func compare(_ a: JSONValue, _ b: JSONValue, at path: [Step]) {
            guard a != b else { return }
            switch (a, b) {
            case (.object(let x), .object(let y)):
                for key in Set(x.keys).union(y.keys).sorted() {
                    let next = path + [.field(key)]
                    switch (x[key], y[key]) {
                    case (let p?, let q?): compare(p, q, at: next)
                    case (let p?, nil): record(.removed, at: next, old: p, new: nil)
                    case (nil, let q?): record(.added, at: next, old: nil, new: q)
                    case (nil, nil): break
                    }
                }
            case (.array(let x), .array(let y)):
                compareLists(x, y, at: path)
            default:
                record(.changed, at: path, old: a, new: b)
            }
        }

        /// Lists of named objects are matched by name; lists of plain values compared as sets
        /// (and as a whole when only their order changed: kernel arguments' order matters).
        mutating func compareLists(_ x: [JSONValue], _ y: [JSONValue], at path: [Step]) {
            let list = path.last.flatMap { if case .field(let name) = $0 { name } else { nil } } ?? ""
            let keyed = (x + y).allSatisfy { if case .object = $0 { true } else { false } }
            if keyed, !(x + y).isEmpty {
                let before = ModelDiff.keyed(x), after = ModelDiff.keyed(y)
                for key in Set(before.keys).union(after.keys).sorted() {
                    let next = path + [.element(list: list, key: key)]
                    switch (before[key], after[key]) {
                    case (let p?, let q?): compare(p, q, at: next)
                    case (let p?, nil): record(.removed, at: next, old: p, new: nil)
                    case (nil, let q?): record(.added, at: next, old: nil, new: q)
                    case (nil, nil): break
                    }
                }
                return
            }
            let removed = x.filter { !y.contains($0) }, added = y.filter { !x.contains($0) }
            for value in removed { record(.removed, at: path + [.element(list: list, key: ModelDiff.line(value))], old: value, new: nil) }
            for value in added { record(.added, at: path + [.element(list: list, key: ModelDiff.line(value))], old: nil, new: value) }
            if removed.isEmpty, added.isEmpty { record(.changed, at: path, old: .array(x), new: .array(y)) }
        }

        mutating func record(_ kind: ModelChange.Kind, at path: [Step], old a: JSONValue?, new b: JSONValue?) {
            guard case .field(let top)? = path.first else { return }
            let section = ModelDiff.section(of: top)
            // The item: the path below the section, without the `configuration` level of services.
            var parts: [String] = []
            for (index, step) in path.enumerated() {
                switch step {
                case .field(let name) where index == 0: if section != name { parts.append(name) }
                case .field("configuration") where top == "services": break
                case .field(let name): parts.append(name)
                case .element(_, let key): parts.append(key)
                }
            }
            // `openssh.port`, `alice.uid`; after a path, a space: `/etc/motd contents`.
            var item = parts.first ?? top
            for (previous, part) in zip(parts, parts.dropFirst()) { item += (previous.contains("/") ? " " : ".") + part }
            let field: String? = path.last.flatMap { if case .field(let name) = $0 { name } else { nil } }
            // An element added or removed: its fields but the name it is listed by.
            func shown(_ value: JSONValue) -> String {
                guard case .element(_, let key)? = path.last, case .object(var fields) = value else { return ModelDiff.line(value, field: field) }
                for identity in ModelDiff.identities where fields[identity].flatMap(ModelDiff.plain) == key { fields[identity] = nil }
                return ModelDiff.line(.object(fields))
            }
            var change = ModelChange(section: section, item: item, kind: kind, old: a.map(shown), new: b.map(shown))
            // Text of several lines (a file's contents, a unit): a unified diff.
            var texts = [a, b].map { value -> String? in
                switch value {
                case .string(let text)?: text
                case .object(let fields)?: fields["contents"].flatMap { if case .string(let text) = $0 { text } else { nil } }
                default: nil
                }
            }
            if !texts.contains(where: { $0?.contains("\n") == true }) { texts = [nil, nil] }
            if texts[0] != nil || texts[1] != nil {
                change.textDiff = LineDiff.unified(texts[0] ?? "", texts[1] ?? "", context: 3)
                if case .string = a ?? b ?? .null { change.old = nil; change.new = nil }
            }
            change.source = source(of: path, model: kind == .removed ? old : new)
            changes.append(change)
        }

        /// Where the changed part was declared: its own entry in the model's sources, else the
        /// nearest enclosing one, else the system's declaration.
        func source(of path: [Step], model: SystemModel) -> String? {
            var keys: [String] = []
            for step in path {
                switch step {
                case .field(let name): keys.append(name)
                case .element(let list, let key):
                    if let prefix = ModelDiff.sourcePrefixes[list] { keys.append("\(prefix):\(key.split(separator: " ").first ?? "")") }
                }
            }
            if case .field("kernelPackage")? = path.first { keys.append("kernel") }
            for key in keys.reversed() {
                if let location = model.sources?[key] { return "\(relative(location.file)):\(location.line)" }
            }
            return model.location(of: "system").map { "\(relative($0.file)):\($0.line)" }
        }
    }

    /// The elements of a list of objects by their identity: the first of ``identities`` they
    /// have, made unique with a service's mount point or name (several NFS mounts), else
    /// the element's JSON.
    static func keyed(_ values: [JSONValue]) -> [String: JSONValue] {
        func identity(_ value: JSONValue) -> String {
            guard case .object(let fields) = value else { return line(value) }
            var key = identities.lazy.compactMap { fields[$0].flatMap(plain) }.first ?? line(value)
            if case .object(let configuration)? = fields["configuration"],
               let detail = ["mountPoint", "name", "path"].lazy.compactMap({ configuration[$0].flatMap(plain) }).first {
                key += " " + detail
            }
            return key
        }
        var result: [String: JSONValue] = [:]
        for value in values {
            var key = identity(value)
            if result[key] != nil { key = line(value) }
            result[key] = value
        }
        return result
    }

    static func plain(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .integer(let number): String(number)
        default: nil
        }
    }

    /// A value on one line: text as it is, sizes in binary units, lists and objects compactly.
    static func line(_ value: JSONValue, field: String? = nil) -> String {
        switch value {
        case .null: return "none"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let number):
            if let field, field.lowercased().hasSuffix("size"), number >= 0 { return ByteCount(bytes: UInt64(number)).description }
            if field == "mode", number >= 0 { return "0" + String(number, radix: 8) }
            return String(number)
        case .number(let number): return String(number)
        case .string(let text): return text.contains("\n") ? "\(text.split(separator: "\n", omittingEmptySubsequences: false).count - 1) lines" : text
        case .array(let values): return "[" + values.map { line($0) }.joined(separator: ", ") + "]"
        case .object(let fields):
            return "{" + fields.keys.sorted().map { "\($0): \(line(fields[$0]!, field: $0))" }.joined(separator: ", ") + "}"
        }
    }
}
