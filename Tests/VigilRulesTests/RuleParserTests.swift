import Testing
@testable import VigilRules

@Suite struct RuleParserTests {
    private func statements(_ source: String) throws(RuleError) -> [RuleStatement] {
        var parser = try RuleParser(source: source)
        return try parser.parseFile()
    }

    /// The grouping the parser gives `condition`, fully parenthesised.
    private func grouping(_ condition: String) throws -> String {
        let statements = try self.statements("rule \"r\": \(condition) -> allow")
        try #require(statements.count == 1)
        return statements[0].condition.description
    }

    @Test(arguments: [
        ("a > 1", "a > 1.0"),
        ("a < -1.5", "a < -1.5"),
        ("a <= 0", "a <= 0.0"),
        ("a >= 10000", "a >= 10000.0"),
        ("a == 2", "a == 2.0"),
        ("a != 2", "a != 2.0"),
        ("a < b", "a < b"),
        ("currency == \"EUR\"", "currency == \"EUR\""),
        ("currency != \"\"", "currency != \"\""),
        ("channel == \"say \\\"hi\\\" \\\\o/\"", "channel == \"say \\\"hi\\\" \\\\o/\""),
        ("scheme in [\"SEPA_INST\", \"PIX\"]", "scheme in [\"SEPA_INST\", \"PIX\"]"),
        ("scheme in [\"SEPA_INST\"]", "scheme in [\"SEPA_INST\"]"),
        ("not a > 1", "not a > 1.0"),
        ("(a > 1)", "a > 1.0"),
        ("((a > 1))", "a > 1.0"),
    ])
    func everyConstruct(condition: String, expected: String) throws {
        #expect(try self.grouping(condition) == expected)
    }

    @Test(arguments: [
        ("a > 1 or b > 1 and c > 1", "(a > 1.0 or (b > 1.0 and c > 1.0))"),
        ("a > 1 and b > 1 or c > 1", "((a > 1.0 and b > 1.0) or c > 1.0)"),
        ("(a > 1 or b > 1) and c > 1", "((a > 1.0 or b > 1.0) and c > 1.0)"),
        ("a > 1 or b > 1 or c > 1", "(a > 1.0 or b > 1.0 or c > 1.0)"),
        ("a > 1 and b > 1 and c > 1", "(a > 1.0 and b > 1.0 and c > 1.0)"),
        ("not a > 1 and b > 1", "(not a > 1.0 and b > 1.0)"),
        ("not a > 1 or b > 1", "(not a > 1.0 or b > 1.0)"),
        ("not (a > 1 or b > 1)", "not (a > 1.0 or b > 1.0)"),
        ("not not a > 1", "not not a > 1.0"),
        ("a > 1 and not b > 1 or not c > 1 and d > 1", "((a > 1.0 and not b > 1.0) or (not c > 1.0 and d > 1.0))"),
    ])
    func precedence(condition: String, expected: String) throws {
        #expect(try self.grouping(condition) == expected)
    }

    @Test func multiLineRulesWithComments() throws {
        let source = """
            # comments run to end of line
            rule "mule-burst": creditor.first_time_senders_1h >= 10 and amount > 500 -> review
            rule "big-new-payee":   # the name can stand alone
                pair.new_payee == 1 and amount >= 10000
                    and not (channel == "branch")
                -> block
            rule "sepa-eur": scheme in ["SEPA_INST", "PIX"] and currency != "EUR" or score >= 950 -> review

            """
        let statements = try self.statements(source)
        #expect(statements.map(\.name) == ["mule-burst", "big-new-payee", "sepa-eur"])
        #expect(statements.map(\.outcome) == [.review, .block, .review])
        #expect(statements.map(\.line) == [2, 3, 7])
        #expect(statements.map(\.namePosition) == [
            SourcePosition(line: 2, column: 6), SourcePosition(line: 3, column: 6), SourcePosition(line: 7, column: 6),
        ])
        #expect(
            statements[1].condition.description
                == "(pair.new_payee == 1.0 and amount >= 10000.0 and not channel == \"branch\")"
        )
        #expect(
            statements[2].condition.description
                == "((scheme in [\"SEPA_INST\", \"PIX\"] and currency != \"EUR\") or score >= 950.0)"
        )
    }

    @Test func wholeStatementOnOneLineWithoutSpaces() throws {
        let statements = try self.statements(#"rule"a":(x>1)and y<=-2->allow rule"b":s in["A","B"]->block"#)
        #expect(statements.map(\.name) == ["a", "b"])
        #expect(statements[0].condition.description == "(x > 1.0 and y <= -2.0)")
    }

    @Test(arguments: ["", "   \n\t\r\n", "# only a comment", "# one\n# two\n"])
    func emptyFilesHaveNoStatements(source: String) throws {
        #expect(try self.statements(source).isEmpty)
    }

    @Test func operandPositionsAreKept() throws {
        var parser = try RuleParser(source: "rule \"a\":\n  amount > score -> allow")
        let statement = try #require(try parser.nextStatement())
        guard case .comparison(let lhs, .greaterThan, let operatorPosition, .operand(let rhs)) = statement.condition else {
            Issue.record("expected a comparison, got \(statement.condition)")
            return
        }
        #expect(lhs.position == SourcePosition(line: 2, column: 3))
        #expect(operatorPosition == SourcePosition(line: 2, column: 10))
        #expect(rhs.position == SourcePosition(line: 2, column: 12))
    }

    @Test func nestingUpToTheLimitParses() throws {
        let depth = RuleSet.maximumNesting
        let parens = String(repeating: "(", count: depth) + "a > 1" + String(repeating: ")", count: depth)
        #expect(try self.grouping(parens) == "a > 1.0")
        let nots = String(repeating: "not ", count: depth) + "a > 1"
        #expect(try self.grouping(nots) == String(repeating: "not ", count: depth) + "a > 1.0")
        let mixed = String(repeating: "not (", count: depth / 2) + "a > 1" + String(repeating: ")", count: depth / 2)
        #expect(try self.grouping(mixed).hasPrefix("not not not"))
    }

    /// Conditions one level too deep, each with the column of the error.
    static let tooDeep: [(LargeSource, Int)] = [
        (LargeSource("65 '('", String(repeating: "(", count: 65) + "a > 1" + String(repeating: ")", count: 65)), 75),
        (LargeSource("65 'not'", String(repeating: "not ", count: 65) + "a > 1"), 11 + 64 * 4),
        (LargeSource("33 'not ('", String(repeating: "not (", count: 33) + "a > 1" + String(repeating: ")", count: 33)), 11 + 32 * 5),
        (LargeSource("100,000 '('", String(repeating: "(", count: 100_000)), 75),
    ]

    @Test(arguments: Self.tooDeep)
    func nestingBeyondTheLimitIsAnError(condition: LargeSource, column: Int) {
        let message = "expression nested too deeply, expected at most 64 levels of '(' and 'not'"
        #expect(throws: RuleError(code: .nestingTooDeep, line: 1, column: column, message: message)) {
            try self.statements("rule \"r\": \(condition.text) -> allow")
        }
    }

    @Test func longFlatChainsAreNotNesting() throws {
        let chain = (0..<5_000).map { _ in "a > 1" }.joined(separator: " and ")
        guard case .and(let terms) = try self.statements("rule \"r\": \(chain) -> allow")[0].condition else {
            Issue.record("expected one flat 'and'")
            return
        }
        #expect(terms.count == 5_000)
    }

    @Test func parsingStopsAtTheFirstError() {
        // The lexer is pulled lazily, so a later bad token cannot mask an earlier syntax error.
        #expect(throws: RuleError(code: .unexpectedToken, line: 1, column: 10, message: "expected ':', found 'a'")) {
            try self.statements("rule \"a\" a > 1.2.3 \"unterminated")
        }
    }
}
