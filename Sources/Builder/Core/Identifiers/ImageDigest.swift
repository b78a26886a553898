

/// The digest of a build: of the system's canonical model, its locked package set and the
/// versions of imagec and its recipe. It names the image's store entry, its pool images and
/// its swaps in the ledger; equal digests are the same bytes.
public struct ImageDigest: SHA256Digest {
    public var hex: String
    public init(hex: String) { self.hex = hex }
}
