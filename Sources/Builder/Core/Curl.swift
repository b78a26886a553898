import Foundation

/// One transfer through curl: how imagec speaks HTTP(S) to BMCs and calendars and SMTP to
/// mail servers, with one set of rules. The password goes in a config file only this user
/// reads, never on the command line; TLS certificates are checked against the system's CA
/// bundle, or `caFile` (unless `verifyCertificate` is off); a transfer that does not end
/// within `timeout` is stopped.
public struct Curl: Sendable {
    public var url: String
    /// `GET`, `REPORT`…; `nil` lets curl choose (GET, POST with a body, or SMTP's own).
    public var method: String?
    public var headers: [String] = []
    public var body: Data?
    public var credentials: Credentials?
    public var caFile: String?
    public var verifyCertificate = true
    public var timeout: Double = 30
    /// Further options, such as `--mail-from`.
    public var arguments: [String] = []

    public init(url: String, method: String? = nil, headers: [String] = [], body: Data? = nil, credentials: Credentials? = nil,
                caFile: String? = nil, verifyCertificate: Bool = true, timeout: Double = 30, arguments: [String] = []) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.credentials = credentials
        self.caFile = caFile
        self.verifyCertificate = verifyCertificate
        self.timeout = timeout
        self.arguments = arguments
    }

    /// The answer: its status (HTTP's, or the SMTP server's last reply code) and body.
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Performs the transfer. Any whole answer is returned, whatever its status; a server that
    /// does not answer, or not wholly (refused connection, name not found, TLS refused,
    /// time-out, an answer cut short), throws ``CurlError`` with curl's reason.
    public func perform() throws -> Response {
        try withPrivateFolder("imagec-curl") { folder in
            var config = ["silent", "show-error", "max-time = \(Int(timeout.rounded(.up)))", "connect-timeout = \(Int(min(timeout, 10).rounded(.up)))"]
            if let credentials {
                let escaped = "\(credentials.user):\(credentials.password)".replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "\"", with: "\\\"")
                config.append("user = \"\(escaped)\"")
            }
            if !verifyCertificate { config.append("insecure") }
            let configFile = folder.appendingPathComponent("curl.conf"), answer = folder.appendingPathComponent("answer")
            try (config.joined(separator: "\n") + "\n").write(to: configFile, atomically: false, encoding: .utf8)
            var arguments = ["--config", configFile.path, "-o", answer.path, "-w", "\n%{response_code}"]
            if let method { arguments += ["-X", method] }
            if let caFile { arguments += ["--cacert", caFile] }
            for header in headers { arguments += ["-H", header] }
            if let body {
                let file = folder.appendingPathComponent("body")
                try body.write(to: file)
                arguments += url.hasPrefix("smtp") ? ["--upload-file", file.path] : ["--data-binary", "@\(file.path)"]
            }
            let result = try Command(executable: "/usr/bin/curl", arguments: arguments + self.arguments + [url], package: "curl")
                .run(timeout: timeout + 15, outputFile: folder.appendingPathComponent("curl.txt"))
            let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
            let status = lines.last.flatMap { Int($0) } ?? 0
            let data = FileManager.default.contents(atPath: answer.path) ?? Data()
            if result.status != 0 || result.timedOut {
                let reason = lines.dropLast().joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines)
                throw CurlError(status: result.status, reason: reason.isEmpty ? "curl status \(result.status)" : reason.replacingOccurrences(of: "curl: ", with: ""))
            }
            return Response(status: status, body: data)
        }
    }
}

/// A transfer that got no answer: curl's exit status and what it said.
public struct CurlError: Error, CustomStringConvertible, Sendable {
    public var status: Int32
    public var reason: String
    public var description: String { reason }
}
