/// What happens to the data on a bookable machine's persistent volumes when another user's
/// booking starts. Nothing is wiped that this does not say may be wiped.
public enum DataPolicy: String, Codable, Hashable, Sendable {
    /// The volumes are left as they are: the previous user's files stay (readable by the next
    /// user if they have sudo).
    case kept
    /// The volumes are formatted anew when the next user's system first boots; the previous
    /// user is reminded before their booking ends.
    case wiped
    /// A snapshot of each volume is taken in its pool (kept for the admins), then the volume is
    /// wiped as with ``wiped``. Only for volumes in a pool (virtual machines).
    case snapshotted
}
