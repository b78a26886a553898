

/// imagec itself.
public enum Imagec {
    /// imagec's version; part of every evaluation cache key and, later, of build digests.
    public static let version = "0.1.0"
}
