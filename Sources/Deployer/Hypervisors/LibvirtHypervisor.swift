import CLibraryLoader
import CLibvirt
import Foundation
import FoundationXML

#if canImport(FoundationXML)
#endif

/// A libvirt domain, through libvirt's C API (`libvirtd` or `virtqemud` at `uri`). Its root
/// disk is an RBD image (QEMU's rbd driver) or a qcow2 file of a local pool.
public struct LibvirtHypervisor: Hypervisor {
    public var uri: String
    public var domain: String

    public init(uri: String = "qemu:///system", domain: String) {
        self.uri = uri
        self.domain = domain
    }

    public var description: String { "libvirt:\(uri) \(domain)" }

    /// libvirt prints every error on standard error by default; imagec reports them itself.
    private static let quiet: Void = virSetErrorFunc(nil, { _, _ in })

    /// Runs `body` with the domain, on a connection that lives as long as the call.
    private func withDomain<Result>(_ body: (virDomainPtr) throws -> Result) throws -> Result {
        if let error = imagec_load_libvirt() {
            throw HypervisorError("cannot load libvirt: \(String(cString: error)) (install libvirt0)")
        }
        _ = Self.quiet
        guard let connection = virConnectOpen(uri) else {
            throw HypervisorError("cannot connect to libvirt at \(uri): \(Self.lastError()) (is libvirtd running?)")
        }
        defer { virConnectClose(connection) }
        guard let handle = virDomainLookupByName(connection, domain) else {
            throw HypervisorError("libvirt at \(uri) has no domain '\(domain)': \(Self.lastError())")
        }
        defer { virDomainFree(handle) }
        return try body(handle)
    }

    static func lastError() -> String {
        virGetLastErrorMessage().map { String(cString: $0) } ?? "unknown error"
    }

    private func state(_ handle: virDomainPtr) throws -> Int32 {
        var state: Int32 = 0, reason: Int32 = 0
        guard virDomainGetState(handle, &state, &reason, 0) == 0 else {
            throw HypervisorError("cannot read the state of \(description): \(Self.lastError())")
        }
        return state
    }

    public func isRunning() throws -> Bool {
        try withDomain { try state($0) != Int32(VIR_DOMAIN_SHUTOFF.rawValue) }
    }

    public func stop(timeout: Double) throws {
        try withDomain { handle in
            let off = Int32(VIR_DOMAIN_SHUTOFF.rawValue)
            if try state(handle) == off { return }
            // Through the guest agent where the domain has one (an image without logind and
            // D-Bus ignores the power button), else ACPI; a guest that ignores both (or has not
            // booted far enough) is powered off.
            let flags = VIR_DOMAIN_SHUTDOWN_GUEST_AGENT.rawValue | VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN.rawValue
            if virDomainShutdownFlags(handle, UInt32(flags)) == 0, try wait(timeout: timeout, until: { try state(handle) == off }) { return }
            try powerOff(handle)
        }
    }

    public func powerOff() throws {
        try withDomain { try powerOff($0) }
    }

    public func freezeFileSystems() -> Bool {
        (try? withDomain { handle in
            // An agent channel with no agent behind it would keep libvirt waiting.
            _ = virDomainAgentSetResponseTimeout(handle, 3, 0)
            return virDomainFSFreeze(handle, nil, 0, 0) >= 0
        }) ?? false
    }

    private func powerOff(_ handle: virDomainPtr) throws {
        let off = Int32(VIR_DOMAIN_SHUTOFF.rawValue)
        if try state(handle) != off, virDomainDestroy(handle) != 0, try state(handle) != off {
            let error = Self.lastError()
            _ = virDomainFSThaw(handle, nil, 0, 0)  // still running: not left with frozen file systems
            throw HypervisorError("cannot stop \(description): \(error)")
        }
    }

    public func start() throws {
        try withDomain { handle in
            if try state(handle) != Int32(VIR_DOMAIN_SHUTOFF.rawValue) { return }
            guard virDomainCreate(handle) == 0 else { throw HypervisorError("cannot start \(description): \(Self.lastError())") }
        }
    }

    public func disks() throws -> [String] {
        let xml: String = try withDomain { handle in
            guard let text = virDomainGetXMLDesc(handle, 0) else { throw HypervisorError("cannot read the configuration of \(description): \(Self.lastError())") }
            defer { free(text) }
            return String(cString: text)
        }
        return try Self.diskImages(inDomainXML: xml)
    }

    /// The image names of a domain's disks: `rbd` sources (`pool/[namespace/]image`) and
    /// qcow2 files (`/pool/dir/image.qcow2`).
    static func diskImages(inDomainXML xml: String) throws -> [String] {
        let document = try XMLDocument(xmlString: xml)
        return try document.nodes(forXPath: "/domain/devices/disk[@device='disk']/source").compactMap { node in
            guard let source = node as? XMLElement else { return nil }
            if let name = source.attribute(forName: "name")?.stringValue, source.attribute(forName: "protocol")?.stringValue == "rbd" {
                return String(name.split(separator: "/").last ?? "")
            }
            if let file = source.attribute(forName: "file")?.stringValue {
                let base = (file as NSString).lastPathComponent
                return base.hasSuffix(".qcow2") ? String(base.dropLast(6)) : base
            }
            return nil
        }
    }
}
