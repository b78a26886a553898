

/// A unified diff of two texts, line by line, as `diff -u` prints it (without the file
/// header): hunks of `@@ -a,b +c,d @@`, then ` `, `-` and `+` lines.
public enum LineDiff {
    enum Operation: Equatable { case same(String), removed(String), added(String) }

    public static func unified(_ old: String, _ new: String, context: Int = 3) -> String {
        let operations = self.operations(lines(old), lines(new))
        // Hunks: changed lines with `context` lines either side, merged when they touch.
        let changed = operations.indices.filter { if case .same = operations[$0] { false } else { true } }
        guard !changed.isEmpty else { return "" }
        var ranges: [ClosedRange<Int>] = []
        for index in changed {
            let range = max(0, index - context)...min(operations.count - 1, index + context)
            if let last = ranges.last, range.lowerBound <= last.upperBound + 1 {
                ranges[ranges.count - 1] = last.lowerBound...range.upperBound
            } else {
                ranges.append(range)
            }
        }
        // Line numbers of each operation on both sides.
        var oldLine = 1, newLine = 1
        var positions: [(old: Int, new: Int)] = []
        for operation in operations {
            positions.append((oldLine, newLine))
            switch operation {
            case .same: oldLine += 1; newLine += 1
            case .removed: oldLine += 1
            case .added: newLine += 1
            }
        }
        var text = ""
        for range in ranges {
            let slice = operations[range]
            let oldCount = slice.filter { if case .added = $0 { false } else { true } }.count
            let newCount = slice.filter { if case .removed = $0 { false } else { true } }.count
            let start = positions[range.lowerBound]
            text += "@@ -\(Self.range(start.old, oldCount)) +\(Self.range(start.new, newCount)) @@\n"
            for operation in slice {
                switch operation {
                case .same(let line): text += " \(line)\n"
                case .removed(let line): text += "-\(line)\n"
                case .added(let line): text += "+\(line)\n"
                }
            }
        }
        return text
    }

    /// A hunk's range as diff writes it: `3` for one line, `3,4`, or `2,0` (after line 2) for none.
    static func range(_ start: Int, _ count: Int) -> String {
        count == 1 ? "\(start)" : count == 0 ? "\(start - 1),0" : "\(start),\(count)"
    }

    static func lines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// The edit script of a longest common subsequence (dynamic programming: the texts a
    /// system declares are small); past a million cells, everything removed then added.
    static func operations(_ a: [String], _ b: [String]) -> [Operation] {
        guard a.count * b.count <= 1_000_000 else { return a.map(Operation.removed) + b.map(Operation.added) }
        // lengths[i][j]: the longest common subsequence of a[i...] and b[j...].
        var lengths = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i][j] = a[i] == b[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        var result: [Operation] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                result.append(.same(a[i])); i += 1; j += 1
            } else if i < a.count, j == b.count || lengths[i + 1][j] >= lengths[i][j + 1] {
                result.append(.removed(a[i])); i += 1  // removals first, as diff prints them
            } else {
                result.append(.added(b[j])); j += 1
            }
        }
        return result
    }
}
