import Foundation

/// A user and password read from a file holding `USER:PASSWORD` on its first line (a BMC's,
/// a calendar's, a mail server's). The file must be readable by its owner only: one that
/// others can read is refused, as ssh refuses such a key.
public struct Credentials: Sendable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// Reads `path`; `what` names the file in errors ("the BMC credentials file").
    public init(file path: String, what: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CredentialsError("cannot read \(what) \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw CredentialsError("\(what) \(path) can be read by others (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 \(path)")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CredentialsError("cannot read \(what) \(path)")
        }
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
            throw CredentialsError("\(what) \(path) does not hold USER:PASSWORD on its first line")
        }
        user = String(line[..<colon])
        password = String(line[line.index(after: colon)...])
    }
}

/// A credentials file that cannot be used: missing, readable by others, or malformed.
public struct CredentialsError: CategorizedError, CustomStringConvertible, Sendable {
    public var description: String
    public var failureKind: FailureKind { .usage }

    public init(_ description: String) { self.description = description }
}
