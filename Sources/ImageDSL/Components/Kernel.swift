/// The kernel package to install, when not the distribution's default
/// (`linux-image-amd64` on Debian, `linux-image-generic` on Ubuntu).
public struct Kernel: SystemComponent {
    public var package: String

    public init(_ package: String) { self.package = package }

    public func apply(to system: inout OperatingSystem, at location: SourceLocation) {
        system.set(\.kernelPackage, to: package, key: "kernel", at: location)
    }
}
