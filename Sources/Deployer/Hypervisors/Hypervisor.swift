import Foundation
import ImageDSL

/// A hypervisor whose machines boot from pool images: what a root-disk swap needs of it.
/// The swap itself happens in the pool (renames) while the machine is stopped; the machine's
/// configuration keeps naming the same disk. Two drivers: ``LibvirtHypervisor`` and
/// ``ProxmoxHypervisor``.
public protocol Hypervisor: Sendable {
    /// For messages: `libvirt:qemu:///system test001`.
    var description: String { get }

    /// Whether the machine is running (false when it is shut off).
    func isRunning() throws -> Bool

    /// Stops the machine: a clean shutdown, powered off if it has not stopped after `timeout` seconds.
    func stop(timeout: Double) throws

    /// Stops the machine at once, as if its plug were pulled (the hypervisor still flushes
    /// its own disk caches).
    func powerOff() throws

    /// Has the guest agent freeze the system's file systems (consistent on disk, as before a
    /// snapshot); whether it did. False for a machine without an agent that answers.
    func freezeFileSystems() -> Bool

    /// Starts the machine.
    func start() throws

    /// The pool images the machine's configuration names as its disks (image names, without
    /// pool or path), so a deployment can check that its root disk is one of them.
    func disks() throws -> [String]
}

extension Hypervisor {
    /// Waits until `condition` holds or `timeout` seconds pass; whether it held.
    public func wait(timeout: Double, interval: Double = 0.2, until condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: interval)
        }
        return try condition()
    }
}
