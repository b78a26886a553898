/// What a build makes of the system.
///
/// ```swift
/// ImageFormat.initramfs  // the network installer: a kernel and an initramfs, nothing on disk
/// ```
public enum ImageFormat: String, Codable, Hashable, Sendable, SystemComponent {
    /// A GPT disk image that boots under BIOS and UEFI (the default).
    case disk
    /// A kernel and an initramfs holding the whole system (a newc cpio archive, compressed),
    /// booted over the network and run from memory: imagec's installer is one. Its init is
    /// the system's systemd.
    case initramfs

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.format, to: self, key: "format", at: location)
    }
}
