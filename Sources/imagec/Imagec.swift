import ArgumentParser
import Builder
import Deployer
import Foundation

/// The `imagec` command.
@main
struct ImagecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagec",
        abstract: "Compile declarative system definitions into reproducible OS images.",
        discussion: """
            Exit status: 0 on success, 1 when a definition is invalid (for `imagec diff`: a side does not evaluate), 2 for a usage error, \
            3 when the build host lacks something imagec needs, 4 when `imagec test` ran and a check failed, or a host of `imagec deploy` or `imagec rollback` did not end healthy.
            """,
        version: Imagec.version,
        subcommands: [ShowCommand.self, LockCommand.self, BuildCommand.self, TestCommand.self, PushCommand.self, DeployCommand.self, RollbackCommand.self, StatusCommand.self,
                      PoolCommand.self, KnownHostsCommand.self, StoreCommand.self,
                      DiffCommand.self, AffectedCommand.self, GCCommand.self])

    /// Runs the command and exits with imagec's documented status codes.
    static func main() {
        Interruption.install()
        do {
            var command = try parseAsRoot()
            try command.run()
            Interruption.exit(0)
        } catch let error as DefinitionError {
            Report.print(error)
            Interruption.exit(1)
        } catch is TestsFailed {
            Interruption.exit(4)
        } catch is ReviewCommand.SideFailed {
            Interruption.exit(1)
        } catch let error as BuildFailure {
            Report.error(error.description)
            Interruption.exit(1)
        } catch let error as UsageError {
            Report.error(error.description)
            Interruption.exit(2)
        } catch let error as PoolError {
            Report.error(error.description)
            Interruption.exit(3)
        } catch let error as BuildEnvironmentError {
            Report.error(error.description, file: error.file)
            Interruption.exit(3)
        } catch let error as CocoaError {
            // A file imagec could not read or write (its cache, its store).
            let reason = (error.underlying as? POSIXError).map { String(cString: strerror($0.code.rawValue)) }
                ?? (error.underlying as NSError?).map { String(cString: strerror(Int32($0.code))) }
                ?? error.localizedDescription
            Report.error("\(error.filePath.map { "\($0): " } ?? "")\(reason)")
            Interruption.exit(3)
        } catch {
            switch exitCode(for: error) {
            case .success:
                exit(withError: error)  // --help, --version
            case .validationFailure:
                Report.error(fullMessage(for: error).replacingOccurrences(of: "Error: ", with: ""))
                Interruption.exit(2)
            default:
                Report.error("\(error)")
                Interruption.exit(3)
            }
        }
    }
}
