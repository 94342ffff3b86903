import Testing
@testable import VigilRules

@Suite struct RuleLexerTests {
    /// Every token of `source` up to and including end of input.
    private func tokens(_ source: String) throws(RuleError) -> [RuleToken] {
        var lexer = RuleLexer(source)
        var tokens: [RuleToken] = []
        repeat {
            tokens.append(try lexer.next())
        } while tokens.last?.kind != .endOfInput
        return tokens
    }

    private func kinds(_ source: String) throws(RuleError) -> [RuleToken.Kind] {
        try self.tokens(source).map(\.kind)
    }

    @Test func punctuationAndOperators() throws {
        #expect(
            try self.kinds("( ) [ ] , : -> < <= > >= == !=") == [
                .leftParen, .rightParen, .leftBracket, .rightBracket, .comma, .colon, .arrow,
                .comparison(.lessThan), .comparison(.lessThanOrEqual), .comparison(.greaterThan),
                .comparison(.greaterThanOrEqual), .comparison(.equal), .comparison(.notEqual), .endOfInput,
            ]
        )
    }

    @Test func keywordsAndIdentifiers() throws {
        #expect(
            try self.kinds("rule and or not in allow creditor.first_time_senders_1h _x rules") == [
                .keyword(.rule), .keyword(.and), .keyword(.or), .keyword(.not), .keyword(.in),
                .identifier("allow"), .identifier("creditor.first_time_senders_1h"), .identifier("_x"),
                .identifier("rules"), .endOfInput,
            ]
        )
    }

    @Test(arguments: [("0", 0.0), ("500", 500), ("-1.5", -1.5), ("10000.25", 10000.25), ("007", 7), ("-0", 0)])
    func numbers(source: String, value: Double) throws {
        #expect(try self.kinds(source) == [.number(value), .endOfInput])
    }

    @Test func minusBeforeGreaterIsAnArrowAndBeforeADigitANumber() throws {
        #expect(try self.kinds("5->block") == [.number(5), .arrow, .identifier("block"), .endOfInput])
        #expect(try self.kinds("x>-2") == [.identifier("x"), .comparison(.greaterThan), .number(-2), .endOfInput])
    }

    @Test(arguments: [
        (#""SEPA_INST""#, "SEPA_INST"),
        (#""""#, ""),
        (#""a\"b""#, #"a"b"#),
        (#""back\\slash""#, #"back\slash"#),
        (#""é # not a comment""#, "é # not a comment"),
    ])
    func strings(source: String, value: String) throws {
        #expect(try self.kinds(source) == [.string(value), .endOfInput])
    }

    @Test func commentsAndWhitespaceAreSkipped() throws {
        let source = "# heading\n\trule # trailing\r\n  \"x\"# end"
        #expect(try self.kinds(source) == [.keyword(.rule), .string("x"), .endOfInput])
    }

    @Test func positionsCountLinesAndScalarColumns() throws {
        let tokens = try self.tokens("rule \"é\":\r\n\tamount >= 1\n")
        #expect(
            tokens.map(\.position) == [
                SourcePosition(line: 1, column: 1), SourcePosition(line: 1, column: 6),
                SourcePosition(line: 1, column: 9), SourcePosition(line: 2, column: 2),
                SourcePosition(line: 2, column: 9), SourcePosition(line: 2, column: 12),
                SourcePosition(line: 3, column: 1),
            ]
        )
    }

    @Test(arguments: ["@", "=", "!", "-", ".", "é", "\u{7}", "{"])
    func strayCharactersBecomeInvalidTokens(source: String) throws {
        let tokens = try self.tokens(source)
        #expect(tokens.map(\.kind) == [.invalid, .endOfInput])
        #expect(tokens[0].lexeme == source)
    }

    @Test(arguments: [
        ("@", "'@'"), ("é", "'é'"), ("\u{7}", "U+0007"), ("\u{A0}", "U+00A0"), ("amount", "'amount'"), ("\"a\\\"b\"", #"string "a\"b""#),
        ("", "end of input"), (String(repeating: "a", count: 50), "'" + String(repeating: "a", count: 40) + "…'"),
    ])
    func tokensDescribeThemselvesForMessages(source: String, description: String) throws {
        #expect(try self.tokens(source)[0].description == description)
    }

    @Test(arguments: [
        ("\"abc", 1, 1), ("x == \"abc\ny\"", 1, 6), ("\"abc\\", 1, 1), ("\n  \"a\\\"", 2, 3), ("\"a\r\n\"", 1, 1),
    ])
    func unterminatedStrings(source: String, line: Int, column: Int) {
        #expect(throws: RuleError(code: .unterminatedString, line: line, column: column, message: "unterminated string, expected a closing '\"' before the end of the line")) {
            try self.tokens(source)
        }
    }

    @Test func invalidEscapeNamesTheEscape() {
        #expect(throws: RuleError(code: .invalidEscape, line: 1, column: 4, message: #"invalid escape '\n' in string, expected '\"' or '\\'"#)) {
            try self.tokens(#""ab\nc""#)
        }
        #expect(throws: RuleError(code: .invalidEscape, line: 1, column: 2, message: #"invalid escape '\é' in string, expected '\"' or '\\'"#)) {
            try self.tokens(#""\é""#)
        }
    }

    @Test(arguments: ["1.2.3", "7x", "1.", "12_000", "-3.x", "1.5e3", "0x1F"])
    func malformedNumbers(source: String) {
        #expect(
            throws: RuleError(
                code: .invalidNumber, line: 1, column: 3,
                message: "invalid number '\(source)', expected digits with an optional fraction, such as 12 or -1.5"
            )
        ) {
            try self.tokens("  " + source + " ")
        }
    }

    @Test func numbersTooLargeForADouble() {
        let digits = "1" + String(repeating: "0", count: 400)
        #expect(
            throws: RuleError(
                code: .invalidNumber, line: 1, column: 1,
                message: "number '\(digits.prefix(40))…' is out of range, expected a finite number"
            )
        ) {
            try self.tokens(digits)
        }
    }

    @Test func endOfInputRepeats() throws {
        var lexer = RuleLexer("x")
        _ = try lexer.next()
        #expect(try lexer.next().kind == .endOfInput)
        #expect(try lexer.next().kind == .endOfInput)
    }
}
