/// A physical machine's BMC, as imagec uses it: read and change the power, and choose the
/// device the machine boots from. Drivers: ``RedfishController`` and ``IPMIController``; made
/// from a definition's ``ImageDSL/BaseboardManagement`` by ``BaseboardControllers/controller(for:)``.
///
/// One-time boot overrides are unreliable on real BMCs (iDRAC forgets them, some machines keep
/// PXE-booting): callers set the network boot for the install and the disk back afterwards,
/// both explicitly.
public protocol BaseboardController: Sendable {
    /// The BMC, for messages: `redfish https://bmc/redfish/v1/Systems/1`.
    var description: String { get }

    /// Whether the machine is powered on.
    func powerState() throws -> PowerState

    /// Makes the machine boot from `device`, at its next boot only (`once`) or from now on.
    func setBootDevice(_ device: BootDevice, once: Bool) throws

    /// Changes the machine's power.
    func power(_ action: PowerAction) throws
}

/// A machine's power, as its BMC reports it.
public enum PowerState: String, Sendable, Codable {
    case on, off
}

/// What a machine boots from.
public enum BootDevice: String, Sendable, Codable {
    /// PXE from its network card: iPXE, then `imagec serve`.
    case network
    /// Its own disks.
    case disk
}

/// A change of a machine's power.
public enum PowerAction: String, Sendable, Codable {
    /// Power on (nothing if it is on).
    case on
    /// Cut the power at once.
    case forceOff
    /// Ask the operating system to shut down (ACPI).
    case gracefulShutdown
    /// Reset at once: the machine boots again (power on if it was off).
    case forceRestart
}
