import Foundation
import ImagecCore
import ImageDSL

/// The account databases of an image (`/etc/passwd`, `group`, `shadow`, `gshadow`), edited as
/// text so that nothing random (salts, dates) gets in.
struct Accounts {
    let tree: ConfiguredTree
    private var passwd: [[String]]
    private var group: [[String]]
    private var shadow: [[String]]
    private var gshadow: [[String]]

    init(tree: ConfiguredTree) throws {
        self.tree = tree
        func read(_ name: String) throws -> [[String]] {
            let text = tree.existing("/etc/\(name)").flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
            return text.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
        }
        passwd = try read("passwd")
        group = try read("group")
        shadow = try read("shadow")
        gshadow = try read("gshadow")
    }

    /// The uid of the owner of a declared file; an unknown owner is reported at the file.
    func uid(of name: String, forFile path: String, in model: SystemModel) throws -> UInt32 {
        if let entry = passwd.first(where: { $0[0] == name }), let id = UInt32(entry[2]) { return id }
        throw DefinitionError(.invalid, [Diagnostic("file \(path) belongs to user '\(name)', who does not exist in the image",
                                                    at: model.location(of: "file:\(path)"))])
    }

    /// The gid of the group of a declared file; an unknown group is reported at the file.
    func gid(of name: String, forFile path: String, in model: SystemModel) throws -> UInt32 {
        if let entry = group.first(where: { $0[0] == name }), let id = UInt32(entry[2]) { return id }
        throw DefinitionError(.invalid, [Diagnostic("file \(path) belongs to group '\(name)', which does not exist in the image",
                                                    at: model.location(of: "file:\(path)"))])
    }

    private var usedUIDs: Set<Int> { Set(passwd.compactMap { Int($0[2]) }) }
    private var usedGIDs: Set<Int> { Set(group.compactMap { Int($0[2]) }) }

    /// The first free id from 1000, in declaration order: the same every build.
    private func freeID(in used: Set<Int>) -> Int { (1000...).first { !used.contains($0) }! }

    mutating func add(_ declared: ImageDSL.Group, in model: SystemModel) throws {
        if let index = group.firstIndex(where: { $0[0] == declared.name }) {
            if let gid = declared.gid, group[index][2] != String(gid) {
                throw DefinitionError(.invalid, [Diagnostic(
                    "group '\(declared.name)' already exists in the image with gid \(group[index][2])",
                    at: model.location(of: "group:\(declared.name)"))])
            }
            for member in declared.members { addMember(member, to: declared.name) }
            return
        }
        let gid = declared.gid ?? freeID(in: usedGIDs)
        group.append([declared.name, "x", String(gid), declared.members.joined(separator: ",")])
        gshadow.append([declared.name, "!", "", declared.members.joined(separator: ",")])
    }

    mutating func add(_ user: User, in model: SystemModel, lastChange: Int) throws {
        let location = model.location(of: "user:\(user.name)")
        if passwd.contains(where: { $0[0] == user.name }) {
            throw DefinitionError(.invalid, [Diagnostic("user '\(user.name)' already exists in the image (a package made it)", at: location)])
        }
        let uid = user.uid ?? freeID(in: usedUIDs.union(usedGIDs))
        let primary = user.primaryGroup ?? user.name
        if !group.contains(where: { $0[0] == primary }) {
            guard user.primaryGroup == nil else {
                throw DefinitionError(.invalid, [Diagnostic("the primary group '\(primary)' of user '\(user.name)' does not exist", at: location)])
            }
            let gid = usedGIDs.contains(uid) ? freeID(in: usedGIDs) : uid
            group.append([primary, "x", String(gid), ""])
            gshadow.append([primary, "!", "", ""])
        }
        let gid = group.first { $0[0] == primary }![2]
        passwd.append([user.name, "x", String(uid), gid, user.comment, user.home, user.shell])
        // "*": no password works, key logins do.
        shadow.append([user.name, "*", String(lastChange), "0", "99999", "7", "", "", ""])
        for name in user.groups {
            guard group.contains(where: { $0[0] == name }) else {
                throw DefinitionError(.invalid, [Diagnostic(
                    "group '\(name)' of user '\(user.name)' does not exist in the image; declare it with Group(\"\(name)\")",
                    at: location)])
            }
            addMember(user.name, to: name)
        }
    }

    private mutating func addMember(_ user: String, to name: String) {
        for index in group.indices where group[index][0] == name {
            var members = group[index][3].split(separator: ",").map(String.init)
            if !members.contains(user) { members.append(user) }
            group[index][3] = members.joined(separator: ",")
        }
        for index in gshadow.indices where gshadow[index][0] == name {
            var members = gshadow[index][3].split(separator: ",").map(String.init)
            if !members.contains(user) { members.append(user) }
            gshadow[index][3] = members.joined(separator: ",")
        }
    }

    func save() throws {
        for (name, table, mode) in [("passwd", passwd, 0o644), ("group", group, 0o644), ("shadow", shadow, 0o640), ("gshadow", gshadow, 0o640)] {
            let url = try tree.replacing("/etc/\(name)")
            try (table.map { $0.joined(separator: ":") }.joined(separator: "\n") + "\n").write(to: url, atomically: false, encoding: .utf8)
            let shadowGroup = group.first { $0[0] == "shadow" }.flatMap { UInt32($0[2]) } ?? 0
            chown(url.path, 0, mode == 0o640 ? shadowGroup : 0)
            chmod(url.path, mode_t(mode))
        }
    }
}
