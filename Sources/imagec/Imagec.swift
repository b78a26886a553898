import ArgumentParser
import Foundation
import ImagecCore

/// The `imagec` command.
@main
struct ImagecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagec",
        abstract: "Compile declarative system definitions into reproducible OS images.",
        discussion: """
            Exit status: 0 on success, 1 when a definition is invalid (for `imagec diff`: a side does not evaluate), 2 for a usage error, \
            3 when the build host, a pool or a machine cannot do what is needed, 4 when a check failed (`imagec test`, a host of \
            `imagec deploy` or `imagec rollback` not healthy, `imagec build --check` not reproducible), 5 when a rule of the fleet \
            refuses (an untested image, an unfinished swap).
            """,
        version: Imagec.version,
        subcommands: [ShowCommand.self, LockCommand.self, BuildCommand.self, TestCommand.self, SBOMCommand.self, PushCommand.self, DeployCommand.self, RollbackCommand.self, StatusCommand.self, BookingsCommand.self,
                      PoolCommand.self, KnownHostsCommand.self, StoreCommand.self, ServeCommand.self,
                      CheckCommand.self, DiffCommand.self, AffectedCommand.self, AuditCommand.self, GCCommand.self])

    /// Runs the command and exits with imagec's documented status codes.
    static func main() async {
        Interruption.install()
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand { try await command.run() } else { try command.run() }
            Interruption.exit(0)
        } catch let error as any CategorizedError {
            report(error)
            Interruption.exit(error.failureKind.rawValue)
        } catch let error as CocoaError {
            // A file imagec could not read or write (its cache, its store).
            let reason = (error.underlying as? POSIXError).map { String(cString: strerror($0.code.rawValue)) }
                ?? (error.underlying as NSError?).map { String(cString: strerror(Int32($0.code))) }
                ?? error.localizedDescription
            Report.error("\(error.filePath.map { "\($0): " } ?? "")\(reason)")
            Interruption.exit(FailureKind.environment.rawValue)
        } catch {
            switch exitCode(for: error) {
            case .success:
                exit(withError: error)  // --help, --version
            case .validationFailure:
                Report.error(fullMessage(for: error).replacingOccurrences(of: "Error: ", with: ""))
                Interruption.exit(FailureKind.usage.rawValue)
            default:
                Report.error("\(error)")
                Interruption.exit(FailureKind.environment.rawValue)
            }
        }
    }

    /// Prints an error the compiler's way; checks that failed were printed as they ran.
    private static func report(_ error: any CategorizedError) {
        switch error {
        case let error as DefinitionError: Report.print(error)
        case let error as BuildEnvironmentError: Report.error(error.description, file: error.file)
        case let error as UsageError: Report.error(error.description, file: error.file)
        case is ChecksFailed, is DefinitionsInvalid, is FindingsAtOrAbove: break
        default: Report.error("\(error)")
        }
    }
}
