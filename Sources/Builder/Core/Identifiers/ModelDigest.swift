

/// The digest of a system's canonical model (what `imagec show` prints): what the definition
/// declares, without the package versions a build adds (see ``ImageDigest``).
public struct ModelDigest: SHA256Digest {
    public var hex: String
    public init(hex: String) { self.hex = hex }
}
