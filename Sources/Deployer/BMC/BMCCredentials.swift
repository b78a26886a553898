import Foundation

/// A BMC's user and password, read from a file holding `USER:PASSWORD` on one line. The file
/// must be readable by its owner only: one that others can read is refused, as ssh refuses
/// such a key.
public struct BMCCredentials: Sendable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    public init(file path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw BMCError("cannot read the BMC credentials file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw BMCError("the BMC credentials file \(path) can be read by others (mode \(String(info.st_mode & 0o777, radix: 8))): "
                + "chmod 600 \(path)")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw BMCError("cannot read the BMC credentials file \(path)")
        }
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
            throw BMCError("the BMC credentials file \(path) does not hold USER:PASSWORD on its first line")
        }
        user = String(line[..<colon])
        password = String(line[line.index(after: colon)...])
    }
}
