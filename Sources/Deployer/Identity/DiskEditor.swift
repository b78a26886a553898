import CGuestfs
import CLibraryLoader
import Foundation
import Pools

/// Writes files into the root file system of a pool image without booting it and without
/// mounting anything on the admin machine: libguestfs starts a small appliance VM that opens
/// the disk (a qcow2 file, or an RBD image through QEMU's rbd driver) and edits it.
///
/// The root file system is the one labelled `root` (every imagec image has it), else the one
/// libguestfs's inspection finds. Nothing is kept until ``finish()`` has shut the appliance
/// down cleanly.
final class DiskEditor {
    private let handle: OpaquePointer
    let disk: DiskLocation

    /// Only one appliance at a time reads `CEPH_CONF` from this process's environment.
    private static let environmentLock = NSLock()

    /// Starts the appliance on `disk` (15–30 s under TCG) and mounts its root file system.
    /// - Parameter emulate: run the appliance under TCG (where KVM hangs or is missing).
    init(_ disk: DiskLocation, emulate: Bool) throws {
        if let error = imagec_load_guestfs() {
            throw IdentityError("cannot load libguestfs: \(String(cString: error)) (install libguestfs0)")
        }
        guard let handle = guestfs_create() else {
            throw IdentityError("cannot start libguestfs (install libguestfs-tools and linux-image-amd64)")
        }
        self.handle = handle
        self.disk = disk
        guestfs_set_error_handler(handle, nil, nil)
        if emulate, ProcessInfo.processInfo.environment["LIBGUESTFS_BACKEND_SETTINGS"] == nil {
            try withCStrings(["force_tcg"]) { try check(guestfs_set_backend_settings(handle, $0), "cannot configure libguestfs") }
        }
        switch disk {
        case .file(let path, let format):
            try check(imagec_guestfs_add_drive(handle, path, format, nil, nil), "cannot open \(path)")
            try check(guestfs_launch(handle), "libguestfs could not start its appliance for \(path)")
        case .rbd(let pool, let namespace, let image, let client, let configuration):
            // libguestfs passes no configuration file to QEMU's rbd driver, which then reads
            // $CEPH_CONF (monitors, keyring); without a user it turns authentication off.
            let name = [pool, namespace, image].compactMap { $0 }.joined(separator: "/")
            try check(imagec_guestfs_add_drive(handle, name, "raw", "rbd", client), "cannot open rbd:\(name)")
            Self.environmentLock.lock()
            defer { Self.environmentLock.unlock() }
            let previous = ProcessInfo.processInfo.environment["CEPH_CONF"]
            setenv("CEPH_CONF", configuration, 1)
            defer { if let previous { setenv("CEPH_CONF", previous, 1) } else { unsetenv("CEPH_CONF") } }
            try check(guestfs_launch(handle), "libguestfs could not open rbd:\(name) (client.\(client), \(configuration))")
        }
        try mountRoot()
    }

    deinit { guestfs_close(handle) }

    private func mountRoot() throws {
        var device = guestfs_findfs_label(handle, "root").map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        }
        if device == nil, let roots = guestfs_inspect_os(handle) {
            defer { Self.freeList(roots) }
            device = roots.pointee.map { String(cString: $0) }
        }
        guard let device else { throw IdentityError("\(disk.description) has no root file system (no file system labelled 'root', and inspection found no OS)") }
        try check(guestfs_mount(handle, device, "/"), "cannot mount \(device) of \(disk.description)")
    }

    /// Writes `contents` to `path` (replacing it), owned by `owner`:`group` with `mode`;
    /// makes missing parent folders (root's, mode 0755).
    func write(_ path: String, _ contents: Data, mode: Int32, owner: Int32 = 0, group: Int32 = 0) throws {
        let parent = (path as NSString).deletingLastPathComponent
        if guestfs_is_dir(handle, parent) != 1 {
            try check(guestfs_mkdir_p(handle, parent), "cannot make \(parent) in \(disk.description)")
        }
        // Data's bytes, with a terminating zero so even an empty file has a valid pointer.
        let result = Array(contents + [0]).withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { guestfs_write(handle, path, $0.baseAddress, contents.count) }
        }
        try check(result, "cannot write \(path) in \(disk.description)")
        try check(guestfs_chown(handle, owner, group, path), "cannot change the owner of \(path) in \(disk.description)")
        try check(guestfs_chmod(handle, mode, path), "cannot change the mode of \(path) in \(disk.description)")
    }

    /// Unmounts, flushes and stops the appliance: only then is everything written.
    func finish() throws {
        try check(guestfs_umount_all(handle), "cannot unmount \(disk.description)")
        try check(guestfs_shutdown(handle), "libguestfs failed while writing \(disk.description)")
    }

    private func check(_ result: Int32, _ what: String) throws {
        if result == -1 { throw error(what) }
    }

    private func error(_ what: String) -> IdentityError {
        let detail = guestfs_last_error(handle).map { String(cString: $0) } ?? "unknown error"
        return IdentityError("\(what): \(detail)")
    }

    private static func freeList(_ list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) {
        var item = list
        while let string = item.pointee { free(string); item += 1 }
        free(list)
    }
}

/// Calls `body` with `strings` as a NULL-terminated C array.
private func withCStrings<Result>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws -> Result) rethrows -> Result {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return try pointers.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
}
