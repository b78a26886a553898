/// A login console on a serial port, for `qemu -nographic`, IPMI serial-over-LAN and the
/// hypervisor's console.
public struct SerialConsole: Service {
    public static let name = "serial-console"

    public var port: String
    public var baudRate: Int

    public init(port: String = "ttyS0", baudRate: Int = 115_200) {
        self.port = port
        self.baudRate = baudRate
    }

    public var extensions: [ServiceExtension] {
        ServiceExtension.kernelArguments("console=tty0", "console=\(port),\(baudRate)")
        ServiceExtension.enable("serial-getty@\(port).service")
    }

    public func validate() -> [String] {
        [9600, 19200, 38400, 57600, 115_200].contains(baudRate) ? [] : ["serial baud rate \(baudRate) is not a standard rate"]
    }
}
