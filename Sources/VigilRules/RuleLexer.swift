/// Splits a rule file into tokens on demand, so the first error in the file is the one reported.
///
/// Works on UTF-8 bytes: every token is ASCII, and only string literals, comments and
/// stray characters may hold other scalars.
struct RuleLexer {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var column = 1

    init(_ source: String) {
        self.bytes = Array(source.utf8)
    }

    /// The next token, or `endOfInput` forever once the source is used up.
    mutating func next() throws(RuleError) -> RuleToken {
        self.skipWhitespaceAndComments()
        let start = self.index
        let position = SourcePosition(line: self.line, column: self.column)
        guard let byte = self.peek() else {
            return RuleToken(kind: .endOfInput, position: position, lexeme: "")
        }
        let kind: RuleToken.Kind
        switch byte {
        case .leftParen: self.advance(); kind = .leftParen
        case .rightParen: self.advance(); kind = .rightParen
        case .leftBracket: self.advance(); kind = .leftBracket
        case .rightBracket: self.advance(); kind = .rightBracket
        case .comma: self.advance(); kind = .comma
        case .colon: self.advance(); kind = .colon
        case .less: kind = self.comparison(.lessThan, orEqual: .lessThanOrEqual)
        case .greater: kind = self.comparison(.greaterThan, orEqual: .greaterThanOrEqual)
        case .equals: kind = self.comparison(nil, orEqual: .equal)
        case .bang: kind = self.comparison(nil, orEqual: .notEqual)
        case .minus where self.peek(1) == .greater:
            self.advance(count: 2)
            kind = .arrow
        case .minus where self.peek(1).map(isDigit) == true:
            kind = try self.number(at: position)
        case _ where isDigit(byte):
            kind = try self.number(at: position)
        case .quote:
            kind = .string(try self.string(at: position))
        case _ where isIdentifierStart(byte):
            while let next = self.peek(), isIdentifierContinue(next) { self.advance() }
            let word = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
            kind = RuleToken.Keyword(rawValue: word).map { .keyword($0) } ?? .identifier(word)
        default:
            self.advanceScalar()
            kind = .invalid
        }
        let lexeme = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
        return RuleToken(kind: kind, position: position, lexeme: lexeme)
    }

    private mutating func comparison(_ single: ComparisonOperator?, orEqual: ComparisonOperator) -> RuleToken.Kind {
        if self.peek(1) == .equals {
            self.advance(count: 2)
            return .comparison(orEqual)
        }
        self.advance()
        return single.map { .comparison($0) } ?? .invalid
    }

    /// `-? digits ('.' digits)?`, read greedily up to the next delimiter so `1.2.3` or `7x` is one bad number.
    private mutating func number(at position: SourcePosition) throws(RuleError) -> RuleToken.Kind {
        let start = self.index
        if self.peek() == .minus { self.advance() }
        while let next = self.peek(), isIdentifierContinue(next) { self.advance() }
        let lexeme = self.bytes[start..<self.index]
        let text = String(decoding: lexeme, as: UTF8.self)
        guard isWellFormedNumber(lexeme) else {
            throw RuleError(
                .invalidNumber, at: position,
                "invalid number '\(truncated(text))', expected digits with an optional fraction, such as 12 or -1.5"
            )
        }
        guard let value = Double(text), value.isFinite else {
            throw RuleError(.invalidNumber, at: position, "number '\(truncated(text))' is out of range, expected a finite number")
        }
        return .number(value)
    }

    /// The contents of a string literal; `\"` and `\\` are its only escapes and it ends on its own line.
    private mutating func string(at position: SourcePosition) throws(RuleError) -> String {
        self.advance()
        var contents: [UInt8] = []
        while true {
            guard let byte = self.peek(), byte != .newline, byte != .carriageReturn else {
                throw RuleError(
                    .unterminatedString, at: position,
                    "unterminated string, expected a closing '\"' before the end of the line"
                )
            }
            switch byte {
            case .quote:
                self.advance()
                return String(decoding: contents, as: UTF8.self)
            case .backslash:
                let escapePosition = SourcePosition(line: self.line, column: self.column)
                switch self.peek(1) {
                case .quote?, .backslash?:
                    contents.append(self.bytes[self.index + 1])
                    self.advance(count: 2)
                case nil, .newline?, .carriageReturn?:
                    self.advance()
                default:
                    self.advance()
                    let escapeStart = self.index
                    self.advanceScalar()
                    let escaped = String(decoding: self.bytes[escapeStart..<self.index], as: UTF8.self)
                    throw RuleError(
                        .invalidEscape, at: escapePosition,
                        "invalid escape '\\\(escaped)' in string, expected '\\\"' or '\\\\'"
                    )
                }
            default:
                contents.append(byte)
                self.advance()
            }
        }
    }

    private mutating func skipWhitespaceAndComments() {
        while let byte = self.peek() {
            switch byte {
            case .space, .tab, .newline, .carriageReturn:
                self.advance()
            case .hash:
                while let next = self.peek(), next != .newline { self.advance() }
            default:
                return
            }
        }
    }

    private func peek(_ offset: Int = 0) -> UInt8? {
        let position = self.index + offset
        return position < self.bytes.count ? self.bytes[position] : nil
    }

    private mutating func advance(count: Int = 1) {
        for _ in 0..<count where self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            self.index += 1
            if byte == .newline {
                self.line += 1
                self.column = 1
            } else if !isContinuationByte(byte) {
                self.column += 1
            }
        }
    }

    /// Steps over one whole Unicode scalar, so a stray multi-byte character is reported as itself.
    private mutating func advanceScalar() {
        self.advance()
        while let next = self.peek(), isContinuationByte(next) { self.advance() }
    }
}

private func isDigit(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
}

private func isIdentifierStart(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        || byte == UInt8(ascii: "_")
}

private func isIdentifierContinue(_ byte: UInt8) -> Bool {
    isIdentifierStart(byte) || isDigit(byte) || byte == UInt8(ascii: ".")
}

private func isContinuationByte(_ byte: UInt8) -> Bool {
    byte & 0b1100_0000 == 0b1000_0000
}

private func isWellFormedNumber(_ lexeme: ArraySlice<UInt8>) -> Bool {
    var rest = lexeme[...]
    if rest.first == .minus { rest = rest.dropFirst() }
    let integerDigits = rest.prefix(while: isDigit)
    rest = rest.dropFirst(integerDigits.count)
    guard !integerDigits.isEmpty else { return false }
    if rest.isEmpty { return true }
    guard rest.first == .period else { return false }
    rest = rest.dropFirst()
    return !rest.isEmpty && rest.allSatisfy(isDigit)
}

extension UInt8 {
    fileprivate static let tab = UInt8(ascii: "\t")
    fileprivate static let newline = UInt8(ascii: "\n")
    fileprivate static let carriageReturn = UInt8(ascii: "\r")
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let bang = UInt8(ascii: "!")
    fileprivate static let quote = UInt8(ascii: "\"")
    fileprivate static let hash = UInt8(ascii: "#")
    fileprivate static let leftParen = UInt8(ascii: "(")
    fileprivate static let rightParen = UInt8(ascii: ")")
    fileprivate static let comma = UInt8(ascii: ",")
    fileprivate static let minus = UInt8(ascii: "-")
    fileprivate static let period = UInt8(ascii: ".")
    fileprivate static let colon = UInt8(ascii: ":")
    fileprivate static let less = UInt8(ascii: "<")
    fileprivate static let equals = UInt8(ascii: "=")
    fileprivate static let greater = UInt8(ascii: ">")
    fileprivate static let leftBracket = UInt8(ascii: "[")
    fileprivate static let backslash = UInt8(ascii: "\\")
    fileprivate static let rightBracket = UInt8(ascii: "]")
}
