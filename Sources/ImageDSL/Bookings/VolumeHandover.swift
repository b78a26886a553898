/// Gives a booked machine's persistent volumes to its user: at boot, before each volume is
/// mounted, a volume whose file system is not this user's (its UUID is derived from the
/// machine and the user's account) is formatted anew, so the previous user's data is gone,
/// and a reboot, a redeploy or the same user's next booking keeps the user's own. A volume
/// that cannot be probed is left alone (the mount, and so the boot's checks, fail instead).
/// With `snapshot`, the deploy snapshots each volume in its pool first.
struct VolumeHandover: SystemComponent {
    var booking: Booking
    var snapshot: Bool

    static let script = "/usr/local/lib/imagec/claim-volume"

    func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        guard !system.disk.persistentVolumes.isEmpty else { return }
        File(Self.script, mode: 0o755, contents: """
            #!/bin/sh
            # claim-volume DEVICE TYPE LABEL UUID: formats DEVICE unless its file system has UUID
            # (the user's), written by imagec for the booking in /etc/imagec/booking.
            set -eu
            device=$(readlink -f "$1")
            # blkid -p reads the device itself: 0, a file system; 2, none. Anything else (an I/O
            # error, an ambivalent probe) formats nothing.
            status=0
            current=$(blkid -p -s UUID -o value "$device") || status=$?
            case $status in
                0) ;;
                2) current="" ;;
                *) echo "claim-volume: cannot probe $device (blkid exit status $status): nothing formatted" >&2; exit 1 ;;
            esac
            [ "$current" = "$4" ] && exit 0
            echo "claim-volume: $device holds ${current:-no file system}: formatting it for this user ($4)"
            case "$2" in
                xfs) mkfs.xfs -f -q -L "$3" -m uuid="$4" "$device" ;;
                ext4) mkfs.ext4 -F -q -L "$3" -U "$4" "$device" ;;
                btrfs) mkfs.btrfs -f -q -L "$3" -U "$4" "$device" ;;
                *) echo "claim-volume: cannot format $2" >&2; exit 1 ;;
            esac
            udevadm settle || true

            """).apply(to: &system, at: location)
        let uuid = Self.uuid(of: "\(booking.machine) \(booking.account.name)")
        for index in system.disk.persistentVolumes.indices {
            let volume = system.disk.persistentVolumes[index]
            if snapshot { system.disk.persistentVolumes[index].snapshotBeforeDeploy = true }
            let device = volume.device ?? "/dev/disk/by-label/\(volume.name)"
            let deviceUnit = SystemdUnit.name(ofPath: device, suffix: "device")
            let mountUnit = SystemdUnit.name(ofPath: volume.mountPoint, suffix: "mount")
            SystemdUnit("imagec-claim-\(volume.name).service", contents: """
                [Unit]
                Description=Give the volume \(volume.name) to \(booking.account.name) (formats it unless it is theirs)
                DefaultDependencies=no
                BindsTo=\(deviceUnit)
                After=\(deviceUnit)
                Before=\(mountUnit)

                [Service]
                Type=oneshot
                RemainAfterExit=yes
                ExecStart=\(Self.script) \(device) \(volume.fileSystem.rawValue) \(volume.name) \(uuid)

                [Install]
                RequiredBy=\(mountUnit)

                """).apply(to: &system, at: location)
        }
        let tools: [FileSystemType: String] = [.xfs: "xfsprogs", .btrfs: "btrfs-progs", .ext4: "e2fsprogs"]
        let needed = Set(system.disk.persistentVolumes.compactMap { tools[$0.fileSystem] }).subtracting(system.packages)
        if !needed.isEmpty { Packages(needed.sorted()).apply(to: &system, at: location) }
    }

    /// A UUID (version 8, RFC 9562) that only `text` gives: two FNV-1a hashes of it.
    static func uuid(of text: String) -> String {
        func fnv(_ seed: UInt64) -> UInt64 {
            var hash = seed
            for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return hash
        }
        var bytes = withUnsafeBytes(of: fnv(0xcbf2_9ce4_8422_2325).bigEndian, Array.init) + withUnsafeBytes(of: fnv(0x84222325_cbf29ce4).bigEndian, Array.init)
        bytes[6] = bytes[6] & 0x0f | 0x80
        bytes[8] = bytes[8] & 0x3f | 0x80
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        return [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)].joined(separator: "-")
    }
}
