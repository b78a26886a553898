import Foundation
import ImageDSL

/// What the target release itself says is valid, read from a package layer's tree (never
/// from the build host): its time zones (tzdata), the locales it can make (locales), its
/// keyboard layouts (xkb-data), Debian's static accounts (base-passwd), the id ranges adduser
/// keeps for system accounts, and the accounts its packages made.
struct ReleaseData {
    let tree: URL

    /// Every value of `model` the release refutes, at the line that declared it.
    func problems(of model: SystemModel) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        func problem(_ message: String, _ key: String, _ severity: Diagnostic.Severity = .error) {
            problems.append(Diagnostic(message, at: model.location(of: key), severity: severity))
        }
        checkTimezone(model, problem)
        checkLocales(model, problem)
        checkKeyboard(model, problem)
        checkAccounts(model, problem)
        return problems
    }

    private typealias Report = (String, String, Diagnostic.Severity) -> Void

    private func file(_ path: String) -> String? { try? String(contentsOf: tree.appendingPathComponent(path), encoding: .utf8) }

    private func checkTimezone(_ model: SystemModel, _ problem: Report) {
        guard model.timezone != "UTC" else { return }
        let zoneinfo = tree.appendingPathComponent("usr/share/zoneinfo")
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: zoneinfo.path) else {
            return problem("time zone '\(model.timezone)' needs the package tzdata, which the image does not install: "
                + "add Packages(\"tzdata\")", "timezone", .error)
        }
        if FileManager.default.fileExists(atPath: zoneinfo.appendingPathComponent(model.timezone).path, isDirectory: &isFolder),
           !isFolder.boolValue { return }
        let zones = (file("usr/share/zoneinfo/tzdata.zi") ?? "").split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count >= 2 && (fields[0] == "Z" || fields[0] == "L") ? String(fields[fields[0] == "Z" ? 1 : 2]) : nil
        }
        problem("'\(model.timezone)' is not a time zone of the release's tzdata" + Self.suggestion(model.timezone, among: zones),
                "timezone", .error)
    }

    private func checkLocales(_ model: SystemModel, _ problem: Report) {
        let wanted = model.locales.filter { !["C", "C.UTF-8", "POSIX"].contains($0) }
        guard !wanted.isEmpty else { return }
        guard let supported = file("usr/share/i18n/SUPPORTED") else {
            return problem("locale '\(wanted[0])' needs the package locales, which the image does not install: "
                + "add Packages(\"locales\")", "locales", .error)
        }
        let names = supported.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        for locale in wanted where !names.contains(locale) {
            problem("'\(locale)' is not a locale the release supports (/usr/share/i18n/SUPPORTED)"
                + Self.suggestion(locale, among: names), "locales", .error)
        }
    }

    private func checkKeyboard(_ model: SystemModel, _ problem: Report) {
        // Without xkb-data nothing in the image reads the layout.
        guard let list = file("usr/share/X11/xkb/rules/base.lst") else { return }
        var section = "", layouts: [String] = [], variants: [String: [String]] = [:]
        for line in list.split(separator: "\n") {
            if line.hasPrefix("! ") { section = String(line.dropFirst(2)); continue }
            let fields = line.split(separator: " ", maxSplits: 2)
            guard let name = fields.first.map(String.init) else { continue }
            if section == "layout" { layouts.append(name) }
            if section == "variant", fields.count > 1, fields[1].hasSuffix(":") { variants[String(fields[1].dropLast()), default: []].append(name) }
        }
        let layout = model.keyboard.layout
        guard layouts.contains(layout) else {
            return problem("'\(layout)' is not a keyboard layout of the release's xkb-data" + Self.suggestion(layout, among: layouts),
                           "keyboard", .error)
        }
        if let variant = model.keyboard.variant, !variant.isEmpty, !(variants[layout] ?? []).contains(variant) {
            problem("'\(variant)' is not a variant of keyboard layout '\(layout)' in the release's xkb-data"
                + Self.suggestion(variant, among: variants[layout] ?? []), "keyboard", .error)
        }
    }

    /// One account database: `name:x:id:…` lines.
    private func table(_ path: String) -> [(name: String, id: Int)] {
        (file(path) ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            return fields.count >= 3 ? Int(fields[2]).map { (String(fields[0]), $0) } : nil
        }
    }

    /// adduser's ranges, or Debian policy's (§9.2.2) when adduser is not installed.
    private func range(_ kind: String) -> ClosedRange<Int> {
        let conf = file("etc/adduser.conf") ?? ""
        func value(_ name: String, _ fallback: Int) -> Int {
            conf.firstMatch(of: try! Regex("(?m)^\\s*\(name)\\s*=\\s*([0-9]+)")).flatMap { Int($0.output[1].substring ?? "") } ?? fallback
        }
        return value("FIRST_SYSTEM_\(kind)", 100)...max(value("FIRST_SYSTEM_\(kind)", 100), value("LAST_SYSTEM_\(kind)", 999))
    }

    private func checkAccounts(_ model: SystemModel, _ problem: Report) {
        let passwd = table("etc/passwd"), group = table("etc/group")
        let staticUsers = table("usr/share/base-passwd/passwd.master"), staticGroups = table("usr/share/base-passwd/group.master")
        let users = Set(passwd.map(\.name) + model.users.map(\.name))
        let groups = Set(group.map(\.name) + model.groups.map(\.name) + model.users.filter { $0.primaryGroup == nil }.map(\.name))

        func checkID(_ id: Int, of name: String, kind: String, key: String, image: [(name: String, id: Int)],
                     static debian: [(name: String, id: Int)], system: ClosedRange<Int>) {
            let what = kind == "UID" ? "uid" : "gid"
            if id < 100, let owner = debian.first(where: { $0.id == id }), owner.name != name {
                problem("\(what) \(id) of '\(name)' is Debian's static \(what) of '\(owner.name)' (base-passwd); "
                    + "take one from 1000–59999", key, .error)
            } else if id < 100, !debian.contains(where: { $0.id == id }) {
                problem("\(what) \(id) of '\(name)' is in 0–99, the ids Debian allocates itself (base-passwd); "
                    + "take one from 1000–59999", key, .error)
            } else if let owner = image.first(where: { $0.id == id && $0.name != name }) {
                problem("\(what) \(id) of '\(name)' is already the \(what) of '\(owner.name)' in the image", key, .error)
            } else if (60000...65533).contains(id) {
                problem("\(what) \(id) of '\(name)' is in 60000–65533, which Debian reserves; take one from 1000–59999", key, .error)
            } else if system.contains(id), !image.contains(where: { $0.name == name }) {
                problem("\(what) \(id) of '\(name)' is in \(system.lowerBound)–\(system.upperBound), where packages take their "
                    + "system accounts: one installed later may take it too", key, .warning)
            }
        }
        for user in model.users {
            let key = "user:\(user.name)"
            if let uid = user.uid {
                checkID(uid, of: user.name, kind: "UID", key: key, image: passwd, static: staticUsers, system: range("UID"))
            }
            for name in user.groups where !groups.contains(name) {
                problem("group '\(name)' of user '\(user.name)' is neither declared nor in the image"
                    + Self.suggestion(name, among: Array(groups)), key, .error)
            }
        }
        for declared in model.groups {
            let key = "group:\(declared.name)"
            if let gid = declared.gid {
                checkID(gid, of: declared.name, kind: "GID", key: key, image: group, static: staticGroups, system: range("GID"))
            }
            for member in declared.members where !users.contains(member) {
                problem("member '\(member)' of group '\(declared.name)' is neither a declared user nor one of the image"
                    + Self.suggestion(member, among: Array(users)), key, .error)
            }
        }
        for file in model.files {
            if !users.contains(file.owner) {
                problem("file \(file.path) belongs to user '\(file.owner)', who is neither declared nor in the image"
                    + Self.suggestion(file.owner, among: Array(users)), "file:\(file.path)", .error)
            }
            if !groups.contains(file.group) {
                problem("file \(file.path) belongs to group '\(file.group)', which is neither declared nor in the image"
                    + Self.suggestion(file.group, among: Array(groups)), "file:\(file.path)", .error)
            }
        }
    }

    /// "; did you mean 'Europe/Paris'?" for the closest of `names` (at most two letters or a third of the
    /// name away), else nothing.
    static func suggestion(_ name: String, among names: [String]) -> String {
        let scored = names.map { ($0, editDistance(name.lowercased(), $0.lowercased())) }.filter { $0.1 <= max(2, name.count / 3) }
        guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }) else { return "" }
        return "; did you mean '\(best.0)'?"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let saved = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
