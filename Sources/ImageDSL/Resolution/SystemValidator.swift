/// The semantic checks of a resolved system. Every problem is collected, each at the
/// location of the declaration at fault.
struct SystemValidator {
    let model: SystemModel
    private(set) var problems: [Diagnostic] = []

    /// `users` and `groups` are in declaration order, so a clash is reported at the later one.
    init(_ model: SystemModel, users: [User], groups: [Group]) {
        self.model = model
        checkIdentity()
        checkPackages()
        checkUsers(users)
        checkGroups(groups)
        checkFilesAndUnits()
        checkAccountNames()
        checkNetwork()
        checkDisk()
        checkKernel()
        checkAptSources()
        checkChecks()
    }

    private mutating func problem(_ message: String, at key: String) {
        problems.append(Diagnostic(message, at: model.location(of: key)))
    }

    private mutating func checkIdentity() {
        if !model.hostName.isEmpty, model.hostName.wholeMatch(of: /[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?/) == nil {
            problem("'\(model.hostName)' is not a valid host name (letters, digits and '-', at most 63)", at: "hostName")
        }
        if model.timezone != "UTC", model.timezone.wholeMatch(of: /[A-Z][A-Za-z_-]+(\/[A-Za-z0-9_+-]+){1,2}/) == nil {
            problem("'\(model.timezone)' is not a time zone name such as Europe/Paris", at: "timezone")
        }
        for locale in model.locales where !["C", "C.UTF-8", "POSIX"].contains(locale)
            && locale.wholeMatch(of: /[a-z]{2,3}(_[A-Z]{2})?(\.[A-Za-z0-9-]+)?(@[a-z]+)?/) == nil
        {
            problem("'\(locale)' is not a locale name such as fr_FR.UTF-8", at: "locales")
        }
        if model.keyboard.layout.wholeMatch(of: /[a-z]{2,}/) == nil {
            problem("'\(model.keyboard.layout)' is not a keyboard layout such as fr or us", at: "keyboard")
        }
    }

    private mutating func checkPackages() {
        for name in model.packages where name.wholeMatch(of: /[a-z0-9][a-z0-9+.\-]+/) == nil {
            problem(
                "'\(name)' is not a valid Debian package name (lowercase letters, digits, '+', '-' and '.')",
                at: "package:\(name)")
        }
    }

    private mutating func checkUsers(_ users: [User]) {
        var uids: [Int: String] = [:]
        for user in users {
            let key = "user:\(user.name)"
            if user.name.wholeMatch(of: /[a-z_][a-z0-9_-]{0,30}\$?/) == nil {
                problem("'\(user.name)' is not a valid user name", at: key)
            }
            if let uid = user.uid {
                if !(0...65533).contains(uid) || (uid == 0 && user.name != "root") {
                    problem("uid \(uid) of user '\(user.name)' is out of range", at: key)
                } else if let other = uids[uid] {
                    problem("uid \(uid) of user '\(user.name)' is already used by user '\(other)'" + declared(at: "user:\(other)"), at: key)
                } else if let reason = Self.reservedID(uid, of: user.name, static: DebianAccounts.users, kind: "uid") {
                    problem(reason, at: key)
                } else {
                    uids[uid] = user.name
                }
            }
            for (field, value) in [("comment", user.comment), ("shell", user.shell), ("home", user.home)]
            where value.contains(where: { $0 == ":" || $0.isNewline || $0.asciiValue.map { $0 < 32 } == true }) {
                problem("the \(field) of user '\(user.name)' contains \(value.contains(":") ? "':'" : "a newline or control character"), "
                    + "which would break /etc/passwd (one line per user, fields separated by ':')", at: key)
            }
            if !user.shell.hasPrefix("/") { problem("shell '\(user.shell)' of user '\(user.name)' is not an absolute path", at: key) }
            if !user.home.hasPrefix("/") { problem("home '\(user.home)' of user '\(user.name)' is not an absolute path", at: key) }
            for (index, sshKey) in user.sshKeys.enumerated() {
                do {
                    _ = try SSHPublicKey(parsing: sshKey)
                } catch {
                    let which = user.sshKeys.count > 1 ? "SSH key \(index + 1)" : "SSH key"
                    problems.append(Diagnostic("\(which) of user '\(user.name)' is not usable: \(error.reason)",
                                               at: model.location(of: key), severity: error.isWarning ? .warning : .error))
                }
            }
        }
    }

    private mutating func checkGroups(_ groups: [Group]) {
        var gids: [Int: String] = [:]
        for group in groups {
            let key = "group:\(group.name)"
            if group.name.wholeMatch(of: /[a-z_][a-z0-9_-]{0,30}/) == nil {
                problem("'\(group.name)' is not a valid group name", at: key)
            }
            guard let gid = group.gid else { continue }
            if !(0...65533).contains(gid) {
                problem("gid \(gid) of group '\(group.name)' is out of range", at: key)
            } else if let other = gids[gid] {
                problem("gid \(gid) of group '\(group.name)' is already used by group '\(other)'" + declared(at: "group:\(other)"), at: key)
            } else if let reason = Self.reservedID(gid, of: group.name, static: DebianAccounts.groups, kind: "gid") {
                problem(reason, at: key)
            } else {
                gids[gid] = group.name
            }
        }
    }

    /// Why `id` cannot be `name`'s: ids 0–99 are Debian's own (base-passwd), 60000–65533 are
    /// reserved (Debian policy 9.2.2).
    static func reservedID(_ id: Int, of name: String, static accounts: [String: Int], kind: String) -> String? {
        if id < 100, accounts[name] != id {
            let owner = accounts.first { $0.value == id }?.key
            return "\(kind) \(id) of '\(name)' is " + (owner.map { "Debian's static \(kind) of '\($0)'" } ?? "in 0–99, which Debian allocates itself")
                + " (base-passwd); take one from 1000–59999"
        }
        if (60000...65533).contains(id) {
            return "\(kind) \(id) of '\(name)' is in 60000–65533, which Debian reserves; take one from 1000–59999"
        }
        return nil
    }

    /// " (declared at file:line)" for the declaration with this key, if known.
    private func declared(at key: String) -> String {
        model.sources?[key].map { " (declared at \($0))" } ?? ""
    }

    /// Names of users and groups that are one slip away from a declared or Debian account
    /// (`sudoo`, `alcie`, `www-date`). Others may be made by a package: the build checks them
    /// against the package layer.
    private mutating func checkAccountNames() {
        let users = Set(model.users.map(\.name)).union(DebianAccounts.users.keys)
        let groups = Set(model.groups.map(\.name)).union(DebianAccounts.groups.keys)
            .union(model.users.filter { $0.primaryGroup == nil }.map(\.name))
        func check(_ name: String, among known: Set<String>, _ what: String, at key: String) {
            guard let meant = DebianAccounts.slip(name, of: known) else { return }
            problem("\(what) '\(name)' is neither declared nor one of Debian's accounts; did you mean '\(meant)'?", at: key)
        }
        for user in model.users {
            for name in user.groups { check(name, among: groups, "group", at: "user:\(user.name)") }
            if let primary = user.primaryGroup { check(primary, among: groups, "primary group", at: "user:\(user.name)") }
        }
        for group in model.groups {
            for member in group.members { check(member, among: users, "member", at: "group:\(group.name)") }
        }
        for file in model.files {
            check(file.owner, among: users, "owner", at: "file:\(file.path)")
            check(file.group, among: groups, "group", at: "file:\(file.path)")
        }
    }

    private mutating func checkFilesAndUnits() {
        for file in model.files {
            let key = "file:\(file.path)"
            if !file.path.hasPrefix("/") || file.path.hasSuffix("/") || file.path.split(separator: "/").contains("..") {
                problem("file path '\(file.path)' is not an absolute path to a file", at: key)
            }
            if !(0...0o7777).contains(file.mode) {
                problem("mode \(String(file.mode, radix: 8)) of file '\(file.path)' is not a permission mode", at: key)
            }
            if file.owner.isEmpty || file.group.isEmpty { problem("file '\(file.path)' has an empty owner or group", at: key) }
        }
        for unit in model.units {
            let suffix = unit.name.split(separator: ".").last.map(String.init) ?? ""
            if unit.name.wholeMatch(of: /[A-Za-z0-9:_.@\\-]+/) == nil || !SystemdUnit.suffixes.contains(suffix)
                || unit.name.hasPrefix(".")
            {
                problem(
                    "'\(unit.name)' is not a systemd unit name (a name with a suffix such as .service or .timer)",
                    at: "unit:\(unit.name)")
            }
        }
        let filePaths = Set(model.files.map(\.path))
        for unit in model.units where unit.contents != nil && filePaths.contains("/etc/systemd/system/\(unit.name)") {
            problem("unit '\(unit.name)' is also declared as the file /etc/systemd/system/\(unit.name)", at: "unit:\(unit.name)")
        }
    }

    private mutating func checkNetwork() {
        let network = model.network
        let names = Set(network.interfaces.map(\.name))
        for interface in network.interfaces {
            let key = "interface:\(interface.name)"
            // The kernel's own names (eth0) are renamed by udev unless predictable names are off.
            if interface.name.hasPrefix("eth"), interface.vlan == nil, !model.kernelArguments.contains("net.ifnames=0") {
                problems.append(Diagnostic(
                    "interface '\(interface.name)' will not exist: udev renames cards to predictable names (such as ens18); "
                        + "add KernelArguments(\"net.ifnames=0\") or use the predictable name",
                    at: model.location(of: key), severity: .warning))
            }
            if interface.name.isEmpty || interface.name.count > 15
                || interface.name.contains(where: { $0 == "/" || $0.isWhitespace })
            {
                problem("'\(interface.name)' is not an interface name (at most 15 characters, no '/' or spaces)", at: key)
            }
            for address in interface.addresses where !AddressSyntax.isCIDR(address) {
                problem(
                    "'\(address)' on interface '\(interface.name)' is not an address with a prefix length (such as 10.8.0.42/16)",
                    at: key)
            }
            if interface.dhcp, interface.gateway != nil {
                problem("interface '\(interface.name)' is configured by DHCP, which also sets its gateway; remove the gateway", at: key)
            }
            if let gateway = interface.gateway, !AddressSyntax.isIP(gateway) {
                problem("gateway '\(gateway)' of interface '\(interface.name)' is not an IP address", at: key)
            }
            if let mtu = interface.mtu, !(68...65535).contains(mtu) {
                problem("MTU \(mtu) of interface '\(interface.name)' is out of range (68–65535)", at: key)
            }
            if let vlan = interface.vlan {
                if !(1...4094).contains(vlan.id) { problem("VLAN id \(vlan.id) is out of range (1–4094)", at: key) }
                if let parent = network.interfaces.first(where: { $0.name == vlan.parent }) {
                    // A VLAN's frames carry its parent's MTU at most.
                    if let mtu = interface.mtu, mtu > parent.mtu ?? 1500 {
                        problem("MTU \(mtu) of VLAN '\(interface.name)' exceeds the MTU \(parent.mtu ?? 1500) of its parent '\(parent.name)'"
                            + (parent.mtu == nil ? " (the default)" : ""), at: key)
                    }
                } else {
                    problem("the parent interface '\(vlan.parent)' of VLAN '\(interface.name)' is not declared", at: key)
                }
            }
            checkSubnets(of: interface, at: key)
        }
        let gateways = network.interfaces.filter { $0.gateway != nil }
        if gateways.count > 1 {
            problem(
                "interfaces \(gateways.map { "'\($0.name)'" }.joined(separator: " and ")) both have a gateway; "
                    + "a system has one default route (use Route for the others)",
                at: "interface:\(gateways[1].name)")
        }
        for route in network.routes {
            let key = "route:\(route.destination)"
            if route.destination != "default", !AddressSyntax.isCIDR(route.destination) {
                problem("route destination '\(route.destination)' is not a network (such as 10.141.0.0/16) or 'default'", at: key)
            }
            if !AddressSyntax.isIP(route.gateway) { problem("route gateway '\(route.gateway)' is not an IP address", at: key) }
            if let interface = route.interface, !names.contains(interface) {
                problem("route to '\(route.destination)' uses interface '\(interface)', which is not declared", at: key)
            } else if let gateway = IPAddress(route.gateway), !gateway.isLinkLocal {
                // Only interfaces whose subnets are all known can be said not to reach it.
                let through = network.interfaces.filter { route.interface == nil || $0.name == route.interface }
                let subnets = through.flatMap { $0.addresses.compactMap(IPNetwork.init) }
                if !through.isEmpty, through.allSatisfy({ !$0.dhcp && !$0.addresses.isEmpty }),
                   !subnets.contains(where: { $0.contains(gateway) })
                {
                    let family = subnets.filter { $0.address.isIPv4 == gateway.isIPv4 }.map(\.text)
                    problem("route to '\(route.destination)' goes through gateway \(route.gateway), which no "
                        + (route.interface.map { "address of interface '\($0)'" } ?? "interface") + " reaches"
                        + (family.isEmpty ? "" : " (\(family.joined(separator: ", ")))"), at: key)
                }
            }
        }
        for server in network.nameServers where !AddressSyntax.isIP(server) {
            problem("name server '\(server)' is not an IP address", at: "nameServers")
        }
    }

    /// An interface's addresses that are their network's own or broadcast address, and a
    /// gateway outside all of its subnets.
    private mutating func checkSubnets(of interface: Interface, at key: String) {
        let subnets = interface.addresses.compactMap(IPNetwork.init)
        for subnet in subnets {
            let (network, broadcast) = subnet.isNetworkOrBroadcast
            if network || broadcast {
                problem("'\(subnet.text)' on interface '\(interface.name)' is the \(network ? "network" : "broadcast") address "
                    + "of its subnet, not a host's", at: key)
            }
        }
        if let text = interface.gateway, let gateway = IPAddress(text), !gateway.isLinkLocal {
            let family = subnets.filter { $0.address.isIPv4 == gateway.isIPv4 }
            if !family.isEmpty, !family.contains(where: { $0.contains(gateway) }) {
                problem("gateway \(text) of interface '\(interface.name)' is outside its subnet"
                    + (family.count == 1 ? " " : "s ") + family.map(\.text).joined(separator: ", "), at: key)
            }
        }
    }

    private mutating func checkDisk() {
        let disk = model.disk
        if disk.rootSize < disk.minimumRootSize {
            problem(
                "root size \(disk.rootSize) is smaller than the minimum of \(disk.minimumRootSize)"
                    + (model.sources?["minimumRootSize"].map { " declared at \($0)" } ?? ""),
                at: "rootSize")
        }
        if ![.ext4, .xfs, .btrfs].contains(disk.rootFileSystem) {
            problem("the root file system cannot be \(disk.rootFileSystem.rawValue); use ext4, xfs or btrfs", at: "rootFileSystem")
        }
        var mountPoints: [String: String] = ["/": "the root file system"]
        var names = Set<String>()
        var devices: [String: String] = [:]
        for partition in disk.partitions {
            let key = "partition:\(partition.name)"
            checkName(partition.name, of: "partition", names: &names, at: key)
            if partition.size.bytes == 0 { problem("partition '\(partition.name)' has size zero", at: key) }
            if let mountPoint = partition.mountPoint { claim(mountPoint, by: "partition '\(partition.name)'", in: &mountPoints, at: key) }
        }
        for volume in disk.persistentVolumes {
            let key = "volume:\(volume.name)"
            checkName(volume.name, of: "volume", names: &names, at: key)
            if volume.size.bytes == 0 { problem("persistent volume '\(volume.name)' has size zero", at: key) }
            if let device = volume.device {
                if !device.hasPrefix("/dev/") {
                    problem("device '\(device)' of persistent volume '\(volume.name)' is not a /dev path", at: key)
                } else if let other = devices[device] {
                    problem("persistent volumes '\(other)' and '\(volume.name)' are both on \(device)", at: key)
                }
                devices[device] = volume.name
            }
            if let device = volume.device, let disk = Self.imageDisk(holding: device) {
                problem("persistent volume '\(volume.name)' is on \(device)\(device == disk ? "" : ", a partition of \(disk)"), "
                    + "the disk the image is written to: every reinstall would overwrite it; give the volume a disk of its own",
                    at: key)
            }
            if volume.mountPoint == "/" {
                problem(
                    "persistent volume '\(volume.name)' cannot be mounted on '/': the root file system is replaced by every reinstall",
                    at: key)
            } else if let owned = Self.imageOwned(volume.mountPoint) {
                problem("persistent volume '\(volume.name)' cannot be mounted on '\(volume.mountPoint)': "
                    + (owned == volume.mountPoint ? "the image owns it" : "it holds \(owned), which the image owns")
                    + " (every reinstall replaces it, and a volume there would hide the image's files)", at: key)
            } else {
                claim(volume.mountPoint, by: "persistent volume '\(volume.name)'", in: &mountPoints, at: key)
            }
        }
        for mount in model.mounts {
            claim(mount.mountPoint, by: "'\(mount.what)'", in: &mountPoints, at: "mount:\(mount.mountPoint)")
        }
    }

    /// Partition and volume names double as file system labels.
    private mutating func checkName(_ name: String, of kind: String, names: inout Set<String>, at key: String) {
        if name.wholeMatch(of: /[a-z0-9][a-z0-9_-]{0,15}/) == nil {
            problem("'\(name)' is not a \(kind) name (lowercase, at most 16 characters)", at: key)
        }
        if !names.insert(name).inserted { problem("\(kind) name '\(name)' is already used by a partition or volume", at: key) }
    }

    /// Records that `owner` is mounted on `mountPoint`, reporting a relative or unclean path
    /// or a clash (with the path as the kernel reads it: `/data/` is `/data`).
    private mutating func claim(_ mountPoint: String, by owner: String, in mountPoints: inout [String: String], at key: String) {
        let clean = Self.cleanPath(mountPoint)
        if !mountPoint.hasPrefix("/") {
            problem("mount point '\(mountPoint)' of \(owner) is not an absolute path", at: key)
        } else if clean != mountPoint {
            problem("mount point '\(mountPoint)' of \(owner) is not a clean absolute path (no spaces, '.', '..', '//' or trailing '/')"
                + (clean.map { ": write '\($0)'" } ?? ""), at: key)
        } else if let other = mountPoints[mountPoint] {
            problem("\(owner) is mounted on '\(mountPoint)', already used by \(other)", at: key)
        }
        if let clean, mountPoints[clean] == nil { mountPoints[clean] = owner }
    }

    /// `path` without `//`, `.` and a trailing `/`; `nil` when it has spaces, control characters
    /// or `..` (no clean form can be given).
    static func cleanPath(_ path: String) -> String? {
        guard path.hasPrefix("/"), !path.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 } == true }) else { return nil }
        let parts = path.split(separator: "/").filter { $0 != "." }
        guard !parts.contains("..") else { return nil }
        return "/" + parts.joined(separator: "/")
    }

    /// The image's own paths: a persistent volume on one of them, or on a folder holding one,
    /// hides what the image put there. `/usr/local` and `/var/local` are the site's.
    static func imageOwned(_ mountPoint: String) -> String? {
        guard let path = cleanPath(mountPoint), path != "/" else { return nil }
        let owned = ["/etc", "/usr", "/boot", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/var/lib/dpkg", "/var/lib/apt", "/var/cache/apt"]
        if path.hasPrefix("/usr/local/") || path == "/usr/local" { return nil }
        for owned in owned {
            if path == owned || path.hasPrefix(owned + "/") { return owned }
            if owned.hasPrefix(path + "/") { return owned }
        }
        return nil
    }

    /// The first disk of a bus, which the image is written to and boots from (`/dev/sda`,
    /// `/dev/vda`, `/dev/xvda`, `/dev/nvme0n1`), when `device` is it or one of its partitions.
    static func imageDisk(holding device: String) -> String? {
        if let match = device.wholeMatch(of: /\/dev\/((?:s|v|xv)da)[0-9]*/) { return "/dev/\(match.1)" }
        if device.wholeMatch(of: /\/dev\/nvme0n1(p[0-9]+)?/) != nil { return "/dev/nvme0n1" }
        return nil
    }

    private mutating func checkKernel() {
        if model.architecture != .amd64, model.firmware != .uefi {
            problem("\(model.architecture.rawValue) systems boot with UEFI only; declare Firmware.uefi", at: "firmware")
        }
        if model.kernelPackage.wholeMatch(of: /[a-z0-9][a-z0-9+.\-]+/) == nil {
            problem("'\(model.kernelPackage)' is not a valid Debian package name", at: "kernel")
        }
        for argument in model.kernelArguments where argument.isEmpty || argument.contains(where: \.isWhitespace) {
            problem("kernel argument '\(argument)' is empty or contains spaces; give each argument separately",
                    at: "kernelArgument:\(argument)")
        }
    }

    private mutating func checkChecks() {
        for check in model.checks ?? [] {
            let key = "check:\(check.name)"
            if !(check.timeout > 0 && check.timeout <= 3600) {
                problem("timeout \(check.timeout) of check '\(check.name)' is not between 0 and 3600 seconds", at: key)
            }
            if check.name.isEmpty { problem("a check has an empty name", at: key) }
            switch check.probe {
            case .unitActive(let unit):
                let suffix = unit.split(separator: ".").last.map(String.init) ?? ""
                if unit.wholeMatch(of: /[A-Za-z0-9:_.@\\-]+/) == nil || !SystemdUnit.suffixes.contains(suffix) || unit.hasPrefix(".") {
                    problem("'\(unit)' in check '\(check.name)' is not a systemd unit name such as nginx.service", at: key)
                }
            case .listening(let port, _):
                if !(1...65535).contains(port) { problem("port \(port) in check '\(check.name)' is not between 1 and 65535", at: key) }
            case .command(let command, _):
                if command.allSatisfy(\.isWhitespace) {
                    problem("check '\(check.name)' has an empty command", at: key)
                }
            case .mounted(let mountPoint, _):
                if !mountPoint.hasPrefix("/") { problem("mount point '\(mountPoint)' in check '\(check.name)' is not an absolute path", at: key) }
            case .bootCompleted, .hostName, .users: break
            }
        }
    }

    private mutating func checkAptSources() {
        for source in model.aptSources {
            let key = "aptSource:\(source.uris.joined(separator: ","))"
            if source.uris.isEmpty || source.uris.contains(where: { $0.wholeMatch(of: /(https?|file|mirror\+[a-z]+):\/\/?\S+/) == nil }) {
                problem("apt source URIs \(source.uris) must each be an http(s):// or file:/ URI", at: key)
            }
            if source.suites.isEmpty { problem("apt source \(source.uris.first ?? "") has no suite", at: key) }
        }
        for key in model.sharedStore?.trustedKeys ?? [] where key.wholeMatch(of: /ed25519:[A-Za-z0-9+\/]{43}=/) == nil {
            problem("trusted key '\(key)' is not an ed25519 public key as `imagec store key` prints it (ed25519:<base64>)", at: "sharedStore")
        }
        for template in model.snapshotArchives ?? [] {
            let key = "snapshotArchive:\(template)"
            if template.wholeMatch(of: /(https?:\/\/|file:\/)\S+/) == nil {
                problem("snapshot archive '\(template)' must be an http(s):// or file:/ URL", at: key)
            } else if !template.contains("{timestamp}") {
                problem("snapshot archive '\(template)' has no {timestamp}: a snapshot is chosen by the time the lock was made "
                        + "(such as https://snapshot.lab.example/archive/{archive}/{timestamp}/)", at: key)
            }
        }
    }
}
