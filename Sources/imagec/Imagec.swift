import ArgumentParser
import Builder
import Foundation

/// The `imagec` command.
@main
struct ImagecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagec",
        abstract: "Compile declarative system definitions into reproducible OS images.",
        discussion: """
            Exit status: 0 on success, 1 when a definition is invalid, 2 for a usage error, \
            3 when the build host lacks something imagec needs.
            """,
        version: Imagec.version,
        subcommands: [ShowCommand.self])

    /// Runs the command and exits with imagec's documented status codes.
    static func main() {
        Interruption.install()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as DefinitionError {
            Report.print(error)
            Foundation.exit(1)
        } catch let error as UsageError {
            Report.error(error.description)
            Foundation.exit(2)
        } catch let error as BuildEnvironmentError {
            Report.error(error.description)
            Foundation.exit(3)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            Report.error(fullMessage(for: error).replacingOccurrences(of: "Error: ", with: ""))
            Foundation.exit(2)
        }
    }
}
