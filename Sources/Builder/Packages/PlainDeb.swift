import Foundation
import ImagecCore

/// A .deb rewritten with its `data.tar` member uncompressed, which dpkg installs without
/// running xz (about a third of an install's time for the base layer). Everything dpkg reads is
/// the same: `debian-binary` and the control member are copied byte for byte, and the data
/// member is the very tar stream the original compresses. So the installed files, and the
/// layers, do not depend on which form was installed. The cache keeps it beside the .deb it is
/// made from (`DebCache.installable`), which stays the one checked against the lock.
enum PlainDeb {
    /// Writes the plain form of `deb` to `output`. A .deb whose data member is not compressed
    /// by xz, lzma or gzip is copied as it is.
    static func make(from deb: URL, to output: URL) throws {
        let input = try FileHandle(forReadingFrom: deb)
        defer { try? input.close() }
        func fail(_ reason: String) -> BuildEnvironmentError { BuildEnvironmentError("\(deb.path) is not a .deb: \(reason)") }
        guard try input.read(upToCount: 8) == Data("!<arch>\n".utf8) else { throw fail("no ar header") }
        guard FileManager.default.createFile(atPath: output.path, contents: Data("!<arch>\n".utf8)) else {
            throw BuildEnvironmentError("cannot write \(output.path)")
        }
        let out = try FileHandle(forWritingTo: output)
        defer { try? out.close() }
        try out.seekToEnd()
        while let header = try input.read(upToCount: 60), !header.isEmpty {
            guard header.count == 60, header.suffix(2) == Data("`\n".utf8),
                  let size = Int(String(decoding: header[48..<58], as: UTF8.self).trimmingCharacters(in: .whitespaces)) else {
                throw fail("a member's header is damaged")
            }
            let name = String(decoding: header[0..<16], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            let start = try input.offset()
            let padded = size + size % 2
            if name.hasPrefix("data.tar."), let decompressor = decompressor[String(name.dropFirst("data.tar.".count))] {
                // The same fields, but for the name and the size, filled in once the tar is written.
                var plainHeader = header
                plainHeader.replaceSubrange(0..<16, with: Data("data.tar".padding(toLength: 16, withPad: " ", startingAt: 0).utf8))
                let headerOffset = try out.offset()
                try out.write(contentsOf: plainHeader)
                // Appended by the decompressor after the header (this handle's writes are not buffered).
                _ = try Command(executable: "/bin/sh", arguments: [
                    "-c", #"dd if="$1" bs=1M iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none | \#(decompressor) >> "$4""#,
                    "sh", deb.path, String(start), String(size), output.path,
                ]).output(timeout: 600) { fail("its \(name) does not decompress: \($0.output)") }
                let end = try out.seekToEnd()
                let plainSize = end - headerOffset - 60
                if plainSize % 2 == 1 { try out.write(contentsOf: Data("\n".utf8)) }
                try out.seek(toOffset: headerOffset + 48)
                try out.write(contentsOf: Data(String(plainSize).padding(toLength: 10, withPad: " ", startingAt: 0).utf8))
                try out.seekToEnd()
            } else {
                try out.write(contentsOf: header)
                var left = padded
                while left > 0 {
                    guard let chunk = try input.read(upToCount: min(left, 1 << 20)), !chunk.isEmpty else { throw fail("it ends early") }
                    try out.write(contentsOf: chunk)
                    left -= chunk.count
                }
            }
            try input.seek(toOffset: start + UInt64(padded))
        }
    }

    /// The command that decompresses each compression dpkg knows, from standard input.
    private static let decompressor = ["xz": "xz -dc", "lzma": "xz --format=lzma -dc", "gz": "gzip -dc"]
}
