import Foundation

/// A QEMU virtual machine booting a store image on a throw-away qcow2 overlay: the store's
/// file is only ever read. The serial console goes to `console.log`; SSH on the guest is
/// forwarded to a free port of 127.0.0.1; systemd credentials reach the guest as SMBIOS
/// type 11 strings, so what they create exists only in this machine's overlay.
final class GuestMachine {
    enum Firmware: String, Codable, Sendable, CaseIterable { case bios, uefi }

    /// The MAC address of the machine's network card, which the injected network file matches.
    static let macAddress = "52:54:00:1c:ec:01"
    /// The guest's and the host's addresses on QEMU's user network (its defaults).
    static let guestAddress = "10.0.2.15", hostAddress = "10.0.2.2"

    let folder: URL
    let sshPort: Int
    private let process = Process()

    var console: URL { folder.appendingPathComponent("console.log") }
    var isRunning: Bool { process.isRunning }
    var processIdentifier: Int32 { process.processIdentifier }

    /// Makes the overlay in `folder` and starts the machine.
    /// `disks` are attached after the image, as further virtio disks.
    init(image: URL, firmware: Firmware, accelerator: Accelerator, folder: URL, credentials: [String: String], disks: [URL] = [],
         memoryMiB: Int = 2048) throws {
        self.folder = folder
        sshPort = try Self.freePort()
        let overlay = folder.appendingPathComponent("overlay.qcow2")
        let created = try Command(executable: "/usr/bin/qemu-img", arguments: [
            "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image.path, overlay.path,
        ]).run(timeout: 60, outputFile: folder.appendingPathComponent("qemu-img.txt"))
        guard created.status == 0 else { throw ToolError("qemu-img create", created) }
        FileManager.default.createFile(atPath: console.path, contents: nil)

        var arguments = [
            "-accel", accelerator.rawValue, "-machine", "q35", "-m", "\(memoryMiB)", "-smp", "2",
            "-display", "none", "-nodefaults", "-no-reboot",
            "-serial", "file:\(console.path)",
            "-drive", "file=\(overlay.path),format=qcow2,if=virtio",
            "-netdev", "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:\(sshPort)-\(Self.guestAddress):22",
            "-device", "virtio-net-pci,netdev=n0,mac=\(Self.macAddress)",
        ]
        for disk in disks { arguments += ["-drive", "file=\(disk.path),format=raw,if=virtio"] }
        if accelerator == .kvm { arguments += ["-cpu", "host"] }
        if firmware == .uefi { arguments += ["-bios", "/usr/share/ovmf/OVMF.fd"] }
        for (name, value) in credentials.sorted(by: { $0.key < $1.key }) {
            arguments += ["-smbios", "type=11,value=io.systemd.credential.binary:\(name)=\(Data(value.utf8).base64EncodedString())"]
        }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let output = folder.appendingPathComponent("qemu.txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = process.standardOutput
        do { try process.run() } catch { throw BuildEnvironmentError("cannot start QEMU: \(error.localizedDescription)") }
        Interruption.killOnInterrupt(process.processIdentifier)
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
