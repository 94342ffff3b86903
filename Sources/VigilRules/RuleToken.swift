/// One lexical unit of a rule file.
struct RuleToken: Equatable, Sendable, CustomStringConvertible {
    var kind: Kind
    var position: SourcePosition
    /// The source text of the token, for messages.
    var lexeme: String

    enum Kind: Equatable, Sendable {
        case identifier(String)
        case keyword(Keyword)
        case number(Double)
        case string(String)
        case comparison(ComparisonOperator)
        case leftParen
        case rightParen
        case leftBracket
        case rightBracket
        case comma
        case colon
        case arrow
        /// A character that starts no token; the parser reports it as whatever it expected instead.
        case invalid
        case endOfInput
    }

    /// Reserved words; they cannot name operands.
    enum Keyword: String, Sendable, CaseIterable {
        case rule
        case and
        case or
        case not
        case `in`
    }

    /// How a message quotes this token after "found".
    var description: String {
        switch self.kind {
        case .endOfInput:
            return "end of input"
        case .string(let value):
            return "string \"\(quoted(value))\""
        case .invalid:
            let scalar = self.lexeme.unicodeScalars.first ?? " "
            if scalar.value < 0x21 || (0x7F...0xA0).contains(scalar.value) || scalar.properties.isWhitespace {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            }
            return "'\(self.lexeme)'"
        default:
            return "'\(truncated(self.lexeme))'"
        }
    }
}

/// `text` cut to a length that keeps messages readable whatever the input.
func truncated(_ text: String) -> String {
    let limit = 40
    return text.count > limit ? String(text.prefix(limit)) + "…" : text
}

/// `text` escaped as it would be written between double quotes, and truncated.
func quoted(_ text: String) -> String {
    var escaped = ""
    for character in truncated(text) {
        if character == "\"" || character == "\\" { escaped.append("\\") }
        escaped.append(character)
    }
    return escaped
}
