/// A Slurm compute node (`slurmd`) in configless mode: it fetches `slurm.conf` from the
/// controller. Needs ``Munge`` on the same system.
///
/// ```swift
/// SlurmClient(controller: "slurmctld.lab.example")
/// ```
public struct SlurmClient: Service {
    public static let name = "slurm-client"

    public var controller: String
    public var controllerPort: Int
    /// Extra options given to `slurmd`.
    public var options: [String]

    public init(controller: String, controllerPort: Int = 6817, options: [String] = []) {
        self.controller = controller
        self.controllerPort = controllerPort
        self.options = options
    }

    public var extensions: [ServiceExtension] {
        ServiceExtension.requires(Munge.self)
        ServiceExtension.packages("slurmd", "slurm-client")
        ServiceExtension.file(File(
            "/etc/default/slurmd",
            contents: "SLURMD_OPTIONS=\"\((["--conf-server \(controller):\(controllerPort)"] + options).joined(separator: " "))\"\n"))
        ServiceExtension.enable("slurmd.service")
        ServiceExtension.extendIfPresent(Firewall.self, with: FirewallRule(.tcp, port: 6818))
        ServiceExtension.extend(Sysctl.self, with: ["vm.overcommit_memory": "0"])
    }

    public func validate() -> [String] {
        var problems: [String] = []
        if controller.isEmpty { problems.append("the Slurm controller's host name is empty") }
        if !(1...65535).contains(controllerPort) { problems.append("Slurm controller port \(controllerPort) is not between 1 and 65535") }
        return problems
    }
}
