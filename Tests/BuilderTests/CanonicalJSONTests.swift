import Foundation
import ImagecCore
import ImageDSL
import Testing

/// The canonical form is imagec's own, byte for byte.
struct CanonicalJSONTests {
    struct Sample: Encodable {
        var b = 1
        var a = ["x\"y\\z\n\t\u{01}é/", ""]
        var c: [String: Bool] = [:]
        var d: [Int] = []
        var é = 2.5
        var z: Int? = nil
    }

    @Test func formatIsFixed() throws {
        let text = String(decoding: try CanonicalJSON.encode(value: Sample()), as: UTF8.self)
        #expect(text == """
            {
              "a": [
                "x\\"y\\\\z\\n\\t\\u0001é/",
                ""
              ],
              "b": 1,
              "c": {},
              "d": [],
              "é": 2.5
            }

            """)
    }
}
