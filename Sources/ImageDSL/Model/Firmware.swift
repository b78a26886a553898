/// The firmware a system's image must boot under.
public enum Firmware: String, Codable, Hashable, Sendable, CaseIterable, SystemComponent {
    /// Legacy BIOS (SeaBIOS in QEMU), through GRUB on a BIOS boot partition.
    case bios
    /// UEFI (OVMF in QEMU), through the EFI system partition.
    case uefi
    /// Both: the image carries both boot paths.
    case both

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.firmware, to: self, key: "firmware", at: location)
    }
}
