import Foundation
import ImagecCore
import ImageDSL

/// Applies a system's configuration to a root tree (`ConfiguredTree`): host name, accounts,
/// localisation, network, file systems, apt sources, files, units and the boot loader's
/// configuration. Everything it writes follows from the model and the identifiers, nothing
/// from the clock or chance. It replaces files, never edits them in place.
struct SystemConfigurator {
    let model: SystemModel
    let tree: ConfiguredTree
    let ids: ImageIdentifiers
    let aptSources: [AptSource]
    let sourceDateEpoch: Int
    /// Where compiled locales are kept, by root base and locale list.
    let store: Store
    let rootBase: String

    func apply() throws {
        try writeIdentity()
        try writeAccounts()
        try writeLocalisation()
        try writeNetwork()
        try writeFileSystemTable()
        try write("/etc/apt/sources.list.d/imagec.sources", aptSourcesText)
        try writeUnits()
        // An initramfs system is booted by its kernel and runs from memory: no boot loader.
        if model.format != .initramfs { try writeBootConfiguration() }
        // The definition's own files come last: they win over anything generated.
        let accounts = try Accounts(tree: tree)
        for file in model.files {
            try write(file.path, file.contents, mode: file.mode,
                      owner: try accounts.uid(of: file.owner, forFile: file.path, in: model),
                      group: try accounts.gid(of: file.group, forFile: file.path, in: model))
        }
    }

    /// The store entry of the compiled locales of `model` on a root base; `nil` when it needs none.
    static func localeEntryName(_ model: SystemModel, rootBase: String) -> String? {
        let locales = generatedLocales(model)
        guard !locales.isEmpty else { return nil }
        return CanonicalJSON.sha256(Data("imagec locales 1\n\(rootBase)\n\(locales.joined(separator: "\n"))".utf8)) + "-locales"
    }

    private static func generatedLocales(_ model: SystemModel) -> [String] {
        model.locales.filter { !["C", "C.UTF-8", "POSIX"].contains($0) }
    }

    // MARK: - Steps

    private func writeIdentity() throws {
        try write("/etc/hostname", "\(model.hostName)\n")
        try write("/etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\t\(model.hostName)\n::1\tlocalhost ip6-localhost ip6-loopback\n")
        // Empty: systemd makes the id at first boot; no two machines share one.
        try write("/etc/machine-id", "", mode: 0o444)
    }

    private func writeAccounts() throws {
        var accounts = try Accounts(tree: tree)
        for group in model.groups { try accounts.add(group, in: model) }
        for user in model.users { try accounts.add(user, in: model, lastChange: sourceDateEpoch / 86400) }
        try accounts.save()
        // Keys live outside the home folders, so they work when /home is a persistent volume.
        for user in model.users where !user.sshKeys.isEmpty {
            try write("/etc/ssh/authorized_keys/\(user.name)", user.sshKeys.joined(separator: "\n") + "\n")
        }
        if model.users.contains(where: { !$0.sshKeys.isEmpty }) {
            try write("/etc/ssh/sshd_config.d/40-imagec-keys.conf",
                      "AuthorizedKeysFile /etc/ssh/authorized_keys/%u .ssh/authorized_keys\n")
        }
        // Home folders are made at boot, after the file systems (a persistent /home included).
        let homes = model.users.filter { $0.home.hasPrefix("/home/") }.map { user in
            "d \(user.home) 0750 \(user.name) \(user.primaryGroup ?? user.name) -\n"
        }
        if !homes.isEmpty { try write("/etc/tmpfiles.d/imagec-homes.conf", homes.joined()) }
        // A persistent volume that holds them may be mounted after systemd-tmpfiles-setup (it is
        // `nofail`, and formatting it for a new booking takes seconds): they are made again once
        // it is mounted, or they would be left under it.
        if let unit = homesOnVolumesUnit { try write("/etc/systemd/system/\(Self.homesUnit)", unit) }
    }

    static let homesUnit = "imagec-homes.service"

    /// The unit that makes the home folders on the persistent volumes that hold them, if any do.
    private var homesOnVolumesUnit: String? {
        let homes = model.users.map(\.home).filter { $0.hasPrefix("/home/") }
        let volumes = model.disk.persistentVolumes.map(\.mountPoint).filter { mountPoint in
            homes.contains { $0.hasPrefix(mountPoint.hasSuffix("/") ? mountPoint : mountPoint + "/") }
        }
        guard !volumes.isEmpty else { return nil }
        return """
            [Unit]
            Description=imagec: the users' home folders on their persistent volumes
            RequiresMountsFor=\(volumes.joined(separator: " "))

            [Service]
            Type=oneshot
            ExecStart=/usr/bin/systemd-tmpfiles --create /etc/tmpfiles.d/imagec-homes.conf

            [Install]
            WantedBy=multi-user.target

            """
    }

    private func writeLocalisation() throws {
        try link("/etc/localtime", to: "/usr/share/zoneinfo/\(model.timezone)")
        try write("/etc/timezone", "\(model.timezone)\n")
        try write("/etc/default/locale", "LANG=\(model.locales.first ?? "C.UTF-8")\n")
        let generated = Self.generatedLocales(model)
        if !generated.isEmpty {
            try write("/etc/locale.gen", generated.map { "\($0) \($0.split(separator: ".").last.map(String.init) ?? "UTF-8")\n" }.joined())
            // Compiling locales takes a second or more each: the archive is kept in the store.
            let path = "/usr/lib/locale/locale-archive"
            let entry = try store.entry(Self.localeEntryName(model, rootBase: rootBase)!) { folder in
                try run("/usr/sbin/chroot", [tree.root.path, "/bin/sh", "-c", "rm -f \(path) && exec /usr/sbin/locale-gen --keep-existing"],
                        what: "locale-gen")
                guard let made = tree.existing(path) else { throw BuildEnvironmentError("locale-gen made no \(path)") }
                try FileManager.default.copyItem(at: made, to: folder.appendingPathComponent("locale-archive"))
            }
            let archive = try tree.replacing(path)
            try FileManager.default.copyItem(at: entry.appendingPathComponent("locale-archive"), to: archive)
            chmod(archive.path, 0o644)  // the store's copy is read-only
        }
        try write("/etc/default/keyboard", """
            XKBMODEL="pc105"
            XKBLAYOUT="\(model.keyboard.layout)"
            XKBVARIANT="\(model.keyboard.variant ?? "")"
            XKBOPTIONS=""
            BACKSPACE="guess"

            """)
    }

    private func writeNetwork() throws {
        let network = model.network
        guard !network.interfaces.isEmpty else { return }
        for interface in network.interfaces {
            var lines = ["[Match]", "Name=\(interface.name)", "", "[Network]"]
            if interface.dhcp { lines.append("DHCP=yes") }
            lines += interface.addresses.map { "Address=\($0)" }
            if let gateway = interface.gateway { lines.append("Gateway=\(gateway)") }
            lines += network.interfaces.filter { $0.vlan?.parent == interface.name }.map { "VLAN=\($0.name)" }
            let routes = network.routes.filter { ($0.interface ?? network.interfaces.first { !$0.addresses.isEmpty }?.name) == interface.name }
            for route in routes { lines += ["", "[Route]", "Destination=\(route.destination == "default" ? "0.0.0.0/0" : route.destination)", "Gateway=\(route.gateway)"] }
            if let mtu = interface.mtu { lines += ["", "[Link]", "MTUBytes=\(mtu)"] }
            try write("/etc/systemd/network/20-\(interface.name).network", lines.joined(separator: "\n") + "\n")
            if let vlan = interface.vlan {
                try write("/etc/systemd/network/10-\(interface.name).netdev",
                          "[NetDev]\nName=\(interface.name)\nKind=vlan\n\n[VLAN]\nId=\(vlan.id)\n")
            }
        }
        if !network.nameServers.isEmpty || !network.searchDomains.isEmpty {
            var lines = network.nameServers.map { "nameserver \($0)" }
            if !network.searchDomains.isEmpty { lines.append("search \(network.searchDomains.joined(separator: " "))") }
            try write("/etc/resolv.conf", lines.joined(separator: "\n") + "\n")
        }
    }

    private func writeFileSystemTable() throws {
        if model.format == .initramfs {
            // Its root is the initramfs in memory: only the declared mounts.
            let lines = ["# Written by imagec from the system definition."]
                + model.mounts.map { "\($0.what) \($0.mountPoint) \($0.type) \($0.options.joined(separator: ",")) 0 0" }
            try write("/etc/fstab", lines.joined(separator: "\n") + "\n")
            return
        }
        // Two root slots share the other partitions, made with an earlier image: they are found
        // by their partition names, which every image of the layout gives them, and the root
        // keeps its size.
        let slotted = model.disk.rootSlots == .ab
        func source(_ name: String) -> String { slotted ? "PARTLABEL=\(name)" : "UUID=\(ids.fileSystemUUID(name))" }
        var lines = ["# Written by imagec from the system definition.",
                     "UUID=\(ids.fileSystemUUID("root")) / \(model.disk.rootFileSystem.rawValue) errors=remount-ro\(slotted ? "" : ",x-systemd.growfs") 0 1"]
        if slotted { lines.append("PARTLABEL=esp \(SlotBoot.espMountPoint) vfat umask=0077,nofail 0 2") }
        for partition in model.disk.partitions {
            if partition.fileSystem == .swap {
                lines.append("\(source(partition.name)) none swap sw 0 0")
            } else if let mountPoint = partition.mountPoint {
                lines.append("\(source(partition.name)) \(mountPoint) \(partition.fileSystem.rawValue) defaults 0 2")
            }
        }
        // Persistent volumes are never formatted by the image; a missing one does not stop the
        // boot (nofail: nothing waits for it). A slow one is still mounted: 10 s was too short
        // for a disk to show up under emulation (OVMF, TCG).
        for volume in model.disk.persistentVolumes {
            let options = (volume.mountOptions + ["nofail", "x-systemd.device-timeout=90s"]).joined(separator: ",")
            lines.append("\(volume.device ?? "LABEL=\(volume.name)") \(volume.mountPoint) \(volume.fileSystem.rawValue) \(options) 0 2")
        }
        for mount in model.mounts {
            lines.append("\(mount.what) \(mount.mountPoint) \(mount.type) \(mount.options.joined(separator: ",")) 0 0")
        }
        try write("/etc/fstab", lines.joined(separator: "\n") + "\n")
        // On first boot the root partition grows to the end of the disk (systemd-repart), and
        // its file system with it (x-systemd.growfs above). A slot keeps its size.
        if !slotted { try write("/etc/repart.d/50-root.conf", "[Partition]\nType=root\n") }
    }

    private var aptSourcesText: String {
        aptSources.map { source in
            var lines = ["Types: deb", "URIs: \(source.uris.joined(separator: " "))", "Suites: \(source.suites.joined(separator: " "))"]
            if !source.components.isEmpty { lines.append("Components: \(source.components.joined(separator: " "))") }
            if let signedBy = source.signedBy { lines.append("Signed-By: \(signedBy)") }
            return lines.joined(separator: "\n") + "\n"
        }.joined(separator: "\n")
    }

    private func writeUnits() throws {
        for unit in model.units {
            if let contents = unit.contents { try write("/etc/systemd/system/\(unit.name)", contents) }
        }
        // Stand-alone use: secrets are made at first boot; deployment injects each host's own.
        for secret in MachineUniqueState.all { try write("/etc/systemd/system/\(secret.unitName)", secret.unit) }
        var enabled = model.units.filter(\.enabled).map(\.name) + MachineUniqueState.all.map(\.unitName)
        if homesOnVolumesUnit != nil { enabled.append(Self.homesUnit) }
        if !model.network.interfaces.isEmpty { enabled.append("systemd-networkd.service") }
        let result = try tree.command("/usr/bin/systemctl", ["--root=\(tree.root.path)", "enable"] + enabled)
            .run(timeout: 120, outputFile: tree.root.deletingLastPathComponent().appendingPathComponent("systemctl.txt"))
        guard result.status == 0 else {
            let missing = model.units.first { result.output.contains($0.name) }
            throw DefinitionError(.invalid, [Diagnostic(
                "cannot enable the units: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))",
                at: missing.flatMap { model.location(of: "unit:\($0.name)") } ?? model.location(of: "system"))])
        }
    }

    private func writeBootConfiguration() throws {
        let rootUUID = ids.fileSystemUUID("root")
        // A slot whose kernel panics resets, and comes back on the default slot (SlotBoot).
        let panic = model.disk.rootSlots == .ab && !model.kernelArguments.contains { $0.hasPrefix("panic=") } ? [SlotBoot.panicArgument] : []
        let arguments = (["root=UUID=\(rootUUID)", "ro"] + model.kernelArguments + panic).joined(separator: " ")
        try write("/boot/grub/grub.cfg", """
            # Written by imagec from the system definition.
            serial --unit=0 --speed=115200
            terminal_input serial console
            terminal_output serial console
            set timeout=1
            menuentry '\(model.hostName)' {
              search --no-floppy --fs-uuid --set=root \(rootUUID)
              linux /vmlinuz \(arguments)
              initrd /initrd.img
            }

            """)
    }

    // MARK: - Writing into the tree

    /// Writes a file at an absolute path of the image, making its folders.
    func write(_ path: String, _ contents: String, mode: Int = 0o644, owner: UInt32 = 0, group: UInt32 = 0) throws {
        let url = try tree.replacing(path)
        try Data(contents.utf8).write(to: url)
        guard chown(url.path, owner, group) == 0, chmod(url.path, mode_t(mode)) == 0 else {
            throw BuildEnvironmentError("cannot set the owner or mode of \(url.path): \(String(cString: strerror(errno)))")
        }
    }

    private func link(_ path: String, to target: String) throws {
        let url = try tree.replacing(path)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
    }

    private func run(_ executable: String, _ arguments: [String], what: String) throws {
        let result = try tree.command(executable, arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"])
            .run(timeout: 600, outputFile: tree.root.deletingLastPathComponent().appendingPathComponent("\(what).txt"))
        guard result.status == 0 else { throw ToolError(what, result) }
    }
}
