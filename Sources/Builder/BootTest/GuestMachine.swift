import Foundation
import ImagecCore

/// A QEMU virtual machine booting a store image on a throw-away qcow2 overlay: the store's
/// file is only ever read. The serial console goes to `console.log`; SSH on the guest is
/// forwarded to a free port of 127.0.0.1; systemd credentials reach the guest as SMBIOS
/// type 11 strings, so what they create exists only in this machine's overlay.
final class GuestMachine {
    enum Firmware: String, Codable, Sendable, CaseIterable { case bios, uefi }

    /// How a disk is attached, which decides the name the guest's kernel gives it:
    /// `/dev/vdX` (virtio), `/dev/sdX` (SCSI), `/dev/nvmeNn1` (NVMe).
    enum Bus: String, Sendable { case virtio, scsi, nvme }

    /// A raw disk attached besides the image. Virtio and NVMe disks are named in order. Linux
    /// names SCSI (and SATA) disks as their probes finish, in any order, so a SCSI disk meant
    /// to be `/dev/sdX` (`slot`: 1 for sdb) is plugged in once the guest has named the one
    /// before it (the image is sda).
    struct Disk: Sendable {
        var file: URL
        var bus: Bus
        var slot: Int = 0
    }

    /// The MAC address of the machine's network card, which an injected network file matches.
    static let macAddress = "52:54:00:1c:ec:01"
    /// The guest's and the host's addresses on QEMU's default user network.
    static let guestAddress = "10.0.2.15", hostAddress = "10.0.2.2"

    let folder: URL
    let sshPort: Int
    private let process = Process()

    var console: URL { folder.appendingPathComponent("console.log") }
    var isRunning: Bool { process.isRunning }
    var processIdentifier: Int32 { process.processIdentifier }

    /// Makes the overlay in `folder` and starts the machine.
    /// The image is attached on `imageBus`, `disks` after it. `kernelLogsToSerial`: the
    /// image's kernel command line has `console=ttyS0`, so its notices reach the console.
    init(image: URL, firmware: Firmware, accelerator: Accelerator, folder: URL, credentials: [String: String],
         imageBus: Bus = .virtio, disks: [Disk] = [], network: GuestNetwork = .fallback, memoryMiB: Int = 2048,
         kernelLogsToSerial: Bool = false) throws {
        self.folder = folder
        sshPort = try Self.freePort()
        let overlay = folder.appendingPathComponent("overlay.qcow2")
        let created = try Command(executable: "/usr/bin/qemu-img", arguments: [
            "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image.path, overlay.path,
        ]).run(timeout: 60, outputFile: folder.appendingPathComponent("qemu-img.txt"))
        guard created.status == 0 else { throw ToolError("qemu-img create", created) }
        _ = FileManager.default.createFile(atPath: console.path, contents: nil)

        var arguments = [
            "-accel", accelerator.rawValue, "-machine", "q35", "-m", "\(memoryMiB)", "-smp", "2",
            "-display", "none", "-nodefaults", "-no-reboot",
            "-serial", "file:\(console.path)",
        ]
        // The card first: a slot it asks for (enp0s5) is still free.
        arguments += network.qemuArguments(sshPort: sshPort, mac: Self.macAddress)
        let attached = [Disk(file: overlay, bus: imageBus)] + disks
        if attached.contains(where: { $0.bus == .scsi }) { arguments += ["-device", "virtio-scsi-pci,id=scsi0"] }
        var later: [(device: String, after: String)] = []
        for (index, disk) in attached.enumerated() {
            arguments += ["-drive", "file=\(disk.file.path),format=\(index == 0 ? "qcow2" : "raw"),if=none,id=disk\(index)"]
            if index > 0, disk.bus == .scsi {
                let previous = Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(disk.slot - 1)))
                later.append(("scsi-hd,drive=disk\(index),bus=scsi0.0,channel=0,scsi-id=\(disk.slot),lun=0,id=plug\(index)", "[sd\(previous)] Attached SCSI disk"))
                continue
            }
            let device = switch disk.bus {
            case .virtio: "virtio-blk-pci,drive=disk\(index)"
            case .scsi: "scsi-hd,drive=disk\(index),bus=scsi0.0,channel=0,scsi-id=\(disk.slot),lun=0"
            case .nvme: "nvme,drive=disk\(index),serial=imagec\(index)"
            }
            arguments += ["-device", device + (index == 0 ? ",bootindex=0" : "")]
        }
        // Relative to QEMU's working directory (the folder): a socket's path must fit in 108 bytes.
        if !later.isEmpty { arguments += ["-qmp", "unix:qmp.sock,server=on,wait=off"] }
        if accelerator == .kvm { arguments += ["-cpu", "host"] }
        if firmware == .uefi { arguments += ["-bios", "/usr/share/ovmf/OVMF.fd"] }
        for (name, value) in credentials.sorted(by: { $0.key < $1.key }) {
            arguments += ["-smbios", "type=11,value=io.systemd.credential.binary:\(name)=\(Data(value.utf8).base64EncodedString())"]
        }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardInput = FileHandle.nullDevice
        let output = folder.appendingPathComponent("qemu.txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = process.standardOutput
        do { try process.start() } catch { throw BuildEnvironmentError("cannot start QEMU: \(error.localizedDescription)") }
        Interruption.killOnInterrupt(process.processIdentifier)
        if !later.isEmpty { plug(later, kernelLogsToSerial: kernelLogsToSerial) }
    }

    /// Plugs each device once the console shows its predecessor's name, in the background.
    private func plug(_ devices: [(device: String, after: String)], kernelLogsToSerial: Bool) {
        let folder = folder
        let console = console, pid = process.processIdentifier
        let running: @Sendable () -> Bool = { kill(pid, 0) == 0 }
        Thread.detachNewThread {
            let qemuStarted = Date()
            var bootStarted: Date?
            for (device, after) in devices {
                // The kernel's notice of the disk before. The kernel names SCSI disks in the
                // order their (asynchronous) probes run: a volume there when the kernel scans
                // could be sda. A kernel that printed its banner prints that notice too: wait
                // for it, however slow the boot (under load a minute after GRUB was too soon, and
                // so was waiting for the banner: it came more than a minute after GRUB). A kernel
                // whose command line logs to the serial console is known to print it.
                // A quiet kernel prints neither: then a minute after GRUB (the image is named
                // well before, and the mount waits 90 s for the volume), or three minutes after
                // QEMU started.
                while running() {
                    let text = String(decoding: (try? Data(contentsOf: console)) ?? Data(), as: UTF8.self)
                    if text.contains(after) { break }
                    let verbose = kernelLogsToSerial || text.contains("Linux version")
                    if bootStarted == nil, text.contains("GRUB") || verbose { bootStarted = Date() }
                    if !verbose, let bootStarted, Date().timeIntervalSince(bootStarted) >= 60 { break }
                    if Date().timeIntervalSince(qemuStarted) >= (verbose ? 900 : 180) { break }
                    Thread.sleep(forTimeInterval: 0.2)
                }
                guard running() else { return }
                Self.monitor(folder.appendingPathComponent("qmp.sock"), #"{"execute":"device_add","arguments":{"# + device.split(separator: ",").map { part -> String in
                    let pair = part.split(separator: "=", maxSplits: 1)
                    let key = pair.count == 2 ? String(pair[0]) : "driver", value = String(pair.last!)
                    return Int(value).map { #""\#(key)":\#($0)"# } ?? #""\#(key)":"\#(value)""#
                }.joined(separator: ",") + "}}")
            }
        }
    }

    /// Sends one command to QEMU's monitor (QMP) and waits for its answer.
    private static func monitor(_ socketFile: URL, _ command: String) {
        // Reached through /proc/self/fd/N/ (N: its folder): a deep folder's path would not fit
        // in a socket address.
        let directory = open(socketFile.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { return }
        defer { close(directory) }
        let path = "/proc/self/fd/\(directory)/\(socketFile.lastPathComponent)"
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { return }
        // The greeting, then capabilities negotiation, then the command: one answer line each.
        var pending = ""
        func answer() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !pending.contains("\"return\"") && !pending.contains("\"error\"") && !pending.contains("\"QMP\"") {
                let count = read(descriptor, &buffer, buffer.count)
                if count <= 0 { return }
                pending += String(decoding: buffer.prefix(count), as: UTF8.self)
            }
            pending = ""
        }
        answer()
        for line in [#"{"execute":"qmp_capabilities"}"#, command] {
            _ = (line + "\n").withCString { write(descriptor, $0, strlen($0)) }
            answer()
        }
    }

    /// What the console has printed so far.
    func consoleText() -> String {
        String(decoding: (try? Data(contentsOf: console)) ?? Data(), as: UTF8.self)
    }

    /// QEMU's own messages (why it stopped, when it did).
    func qemuMessages() -> String {
        String(decoding: (try? Data(contentsOf: folder.appendingPathComponent("qemu.txt"))) ?? Data(), as: UTF8.self)
    }

    /// Stops the machine: SIGTERM, then SIGKILL after 5 s.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<50 where process.isRunning { usleep(100_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        Interruption.forget(process: process.processIdentifier)
    }

    /// Leaves the machine running after imagec exits.
    func detach() { Interruption.forget(process: process.processIdentifier) }

    /// A TCP port of 127.0.0.1 nobody listens on now.
    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw BuildEnvironmentError("cannot find a free port on 127.0.0.1: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
