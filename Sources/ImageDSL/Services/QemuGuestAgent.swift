/// The QEMU guest agent, through which the hypervisor (and `imagec test`) can talk to a VM.
public struct QemuGuestAgent: Service {
    public static let name = "qemu-guest-agent"

    public init() {}

    public var extensions: [ServiceExtension] {
        ServiceExtension.packages("qemu-guest-agent")
    }
}
