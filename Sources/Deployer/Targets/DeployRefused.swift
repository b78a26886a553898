import ImagecCore
import SwapLedger

/// A deploy that a rule of the fleet forbids (exit status 5).
public enum DeployRefused: CategorizedError, CustomStringConvertible {
    /// The image has not passed `imagec test`, and the rollout is not forced.
    case untested(host: String, image: String, status: String)
    /// The host's last swap never finished: it must be resumed or rolled back first.
    case unfinished(host: String, swap: Int64, step: SwapStep)

    public var failureKind: FailureKind { .refused }

    public var description: String {
        switch self {
        case .untested(let host, let image, let status):
            "\(host)'s image \(image) has not passed `imagec test` (\(status)): test it, or deploy with --force"
        case .unfinished(let host, let swap, let step):
            "swap \(swap) of \(host) never finished (at step \(step)): run `imagec deploy --resume` or `imagec rollback \(host)` first"
        }
    }
}
