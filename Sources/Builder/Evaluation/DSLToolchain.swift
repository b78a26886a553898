import Foundation
import ImagecCore

/// What compiling a definition needs: the Swift compiler, and the ImageDSL library with its
/// module files, found next to the running imagec (a SwiftPM build folder or an installation).
public struct DSLToolchain: Sendable {
    /// The `swiftc` to compile definitions with.
    public var compiler: URL
    /// The folder holding `libImageDSL.so`.
    public var libraryDirectory: URL
    /// The folder holding `ImageDSL.swiftmodule` and `EvaluationRuntime.swiftmodule`.
    public var moduleDirectory: URL

    public init(compiler: URL, libraryDirectory: URL, moduleDirectory: URL) {
        self.compiler = compiler
        self.libraryDirectory = libraryDirectory
        self.moduleDirectory = moduleDirectory
    }

    /// Finds the toolchain: `$IMAGEC_DSL_PATH` if set, else beside the executable
    /// (`.build/debug` layout), else `../lib/imagec` from it (installed layout).
    public static func locate(executable: URL = Self.currentExecutable) throws -> DSLToolchain {
        let environment = ProcessInfo.processInfo.environment
        let binDirectory = executable.deletingLastPathComponent()
        var candidates: [URL] = []
        if let path = environment["IMAGEC_DSL_PATH"] { candidates.append(URL(fileURLWithPath: path)) }
        candidates += [binDirectory, binDirectory.appendingPathComponent("../lib/imagec").standardizedFileURL]

        var library: URL?
        var modules: URL?
        for directory in candidates {
            guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("libImageDSL.so").path) else { continue }
            for moduleDirectory in [directory.appendingPathComponent("Modules"), directory]
            where FileManager.default.fileExists(atPath: moduleDirectory.appendingPathComponent("ImageDSL.swiftmodule").path) {
                library = directory
                modules = moduleDirectory
                break
            }
            if library != nil { break }
        }
        guard let library, let modules else {
            throw BuildEnvironmentError(
                "cannot find the ImageDSL library (libImageDSL.so and ImageDSL.swiftmodule); looked in "
                    + candidates.map(\.path).joined(separator: ", ")
                    + ". Build it with `swift build`, or set IMAGEC_DSL_PATH")
        }
        return DSLToolchain(compiler: try findCompiler(), libraryDirectory: library, moduleDirectory: modules)
    }

    /// `$IMAGEC_SWIFTC`, else `swiftc` on the PATH, else beside the toolchain's `swift`.
    static func findCompiler() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["IMAGEC_SWIFTC"] { return URL(fileURLWithPath: path) }
        let path = (environment["PATH"] ?? "/usr/bin:/bin") + ":/opt/swift/usr/bin:/usr/local/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("swiftc")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw BuildEnvironmentError("cannot find swiftc on the PATH; install a Swift toolchain or set IMAGEC_SWIFTC")
    }

    /// The running program (imagec, or the test runner in the build folder).
    public static var currentExecutable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    }

    /// A fingerprint of imagec itself, the compiler binary and the library and module files:
    /// it changes whenever any of them is rebuilt or replaced.
    func fingerprint() -> String {
        let files = [
            Self.currentExecutable,
            compiler.resolvingSymlinksInPath(),
            libraryDirectory.appendingPathComponent("libImageDSL.so"),
            moduleDirectory.appendingPathComponent("ImageDSL.swiftmodule"),
            moduleDirectory.appendingPathComponent("EvaluationRuntime.swiftmodule"),
        ]
        return files.map { url in
            var info = stat()
            guard stat(url.path, &info) == 0 else { return "\(url.path) missing" }
            return "\(url.path) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }.joined(separator: "\n")
    }
}
