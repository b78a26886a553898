/// MUNGE, the authentication service Slurm relies on. Its key is a secret shared by the
/// cluster: it is injected at deployment, never built into the image.
public struct Munge: Service {
    public static let name = "munge"

    public init() {}

    public var extensions: [ServiceExtension] {
        ServiceExtension.packages("munge")
        ServiceExtension.enable("munge.service")
    }
}
