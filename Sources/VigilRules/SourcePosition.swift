/// A 1-based line and column in a rule file.
struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    var line: Int
    var column: Int

    var description: String {
        "\(self.line):\(self.column)"
    }
}
