import Testing
@testable import VigilRules

/// One bad rule file and the error it must produce.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    var source: String
    var code: RuleError.Code
    var line: Int
    var column: Int
    var message: String

    var testDescription: String { "\(self.code): \(self.source.debugDescription)" }

    var error: RuleError { RuleError(code: self.code, line: self.line, column: self.column, message: self.message) }
}

@Suite struct RuleErrorTests {
    @Test func descriptionLeadsWithTheLocation() {
        let error = RuleError(code: .unknownOperand, line: 2, column: 5, message: "unknown operand 'creditor.frist_time'")
        #expect(error.description == "line 2, column 5: unknown operand 'creditor.frist_time'")
        #expect("\(error)" == error.description)
        #expect(RuleError.Code.unknownOperand.description == "unknown operand")
        #expect(RuleError.Code.unknownOperand != .typeMismatch)
    }

    static let syntaxErrors: [ErrorCase] = [
        ErrorCase(
            source: "amount > 1 -> allow", code: .unexpectedToken, line: 1, column: 1,
            message: "expected 'rule' or end of input, found 'amount'"
        ),
        ErrorCase(
            source: "rule a: amount > 1 -> allow", code: .unexpectedToken, line: 1, column: 6,
            message: "expected a rule name in double quotes, found 'a'"
        ),
        ErrorCase(
            source: "rule \"a\" amount > 1 -> allow", code: .unexpectedToken, line: 1, column: 10,
            message: "expected ':', found 'amount'"
        ),
        ErrorCase(
            source: "rule \"a\": amount amount -> block", code: .unexpectedToken, line: 1, column: 18,
            message: "expected a comparison operator or 'in', found 'amount'"
        ),
        ErrorCase(
            source: "# header\nrule \"a\": amount > 1 -> allow\nrule \"b\":\n    amount > > 5 -> block",
            code: .unexpectedToken, line: 4, column: 14,
            message: "expected a number, a string or an operand, found '>'"
        ),
        ErrorCase(
            source: "rule \"a\": and > 1 -> allow", code: .unexpectedToken, line: 1, column: 11,
            message: "expected an operand, 'not' or '(', found 'and'"
        ),
        ErrorCase(
            source: "rule \"a\": amount > 1 and -> allow", code: .unexpectedToken, line: 1, column: 26,
            message: "expected an operand, 'not' or '(', found '->'"
        ),
        ErrorCase(
            source: "rule \"a\": (amount > 1 -> allow", code: .unexpectedToken, line: 1, column: 23,
            message: "expected 'and', 'or' or ')', found '->'"
        ),
        ErrorCase(
            source: "rule \"a\": amount > 1) -> allow", code: .unexpectedToken, line: 1, column: 21,
            message: "expected 'and', 'or' or '->', found ')'"
        ),
        ErrorCase(
            source: "rule \"a\": scheme in \"A\" -> allow", code: .unexpectedToken, line: 1, column: 21,
            message: "expected '[', found string \"A\""
        ),
        ErrorCase(
            source: "rule \"a\": scheme in [] -> allow", code: .unexpectedToken, line: 1, column: 22,
            message: "expected a string, found ']'"
        ),
        ErrorCase(
            source: "rule \"a\": scheme in [\"A\" \"B\"] -> allow", code: .unexpectedToken, line: 1, column: 26,
            message: "expected ',' or ']', found string \"B\""
        ),
        ErrorCase(
            source: "rule \"a\": scheme in [\"A\",] -> allow", code: .unexpectedToken, line: 1, column: 26,
            message: "expected a string, found ']'"
        ),
        ErrorCase(
            source: "rule \"a\": amount @ 1 -> allow", code: .unexpectedToken, line: 1, column: 18,
            message: "expected a comparison operator or 'in', found '@'"
        ),
        ErrorCase(
            source: "rule \"a\": amount = 1 -> allow", code: .unexpectedToken, line: 1, column: 18,
            message: "expected a comparison operator or 'in', found '='"
        ),
        ErrorCase(
            source: "rule \"a\": amöunt > 1 -> allow", code: .unexpectedToken, line: 1, column: 13,
            message: "expected a comparison operator or 'in', found 'ö'"
        ),
        ErrorCase(
            source: "rule\u{7}", code: .unexpectedToken, line: 1, column: 5,
            message: "expected a rule name in double quotes, found U+0007"
        ),
        ErrorCase(
            source: "rule \"a\": amount > - 1 -> allow", code: .unexpectedToken, line: 1, column: 20,
            message: "expected a number, a string or an operand, found '-'"
        ),
    ]

    static let missingArrow: [ErrorCase] = [
        ErrorCase(
            source: "rule \"a\": amount > 1 block", code: .unexpectedToken, line: 1, column: 22,
            message: "expected 'and', 'or' or '->', found 'block'"
        ),
        ErrorCase(
            source: "rule \"a\":\n  amount > 1\n", code: .unexpectedToken, line: 3, column: 1,
            message: "expected 'and', 'or' or '->', found end of input"
        ),
        ErrorCase(
            source: "rule \"a\": amount > 1 - > block", code: .unexpectedToken, line: 1, column: 22,
            message: "expected 'and', 'or' or '->', found '-'"
        ),
    ]

    static let lexicalErrors: [ErrorCase] = [
        ErrorCase(
            source: "rule \"a\": channel == \"bra\n  -> block", code: .unterminatedString, line: 1, column: 22,
            message: "unterminated string, expected a closing '\"' before the end of the line"
        ),
        ErrorCase(
            source: "rule \"abc", code: .unterminatedString, line: 1, column: 6,
            message: "unterminated string, expected a closing '\"' before the end of the line"
        ),
        ErrorCase(
            source: "rule \"a\\n\": amount > 1 -> allow", code: .invalidEscape, line: 1, column: 8,
            message: "invalid escape '\\n' in string, expected '\\\"' or '\\\\'"
        ),
        ErrorCase(
            source: "rule \"a\": amount > 1.2.3 -> allow", code: .invalidNumber, line: 1, column: 20,
            message: "invalid number '1.2.3', expected digits with an optional fraction, such as 12 or -1.5"
        ),
        ErrorCase(
            source: "rule \"a\":\n  amount > 5.\n  -> allow", code: .invalidNumber, line: 2, column: 12,
            message: "invalid number '5.', expected digits with an optional fraction, such as 12 or -1.5"
        ),
        ErrorCase(
            source: "rule \"a\": amount > 10and score > 1 -> allow", code: .invalidNumber, line: 1, column: 20,
            message: "invalid number '10and', expected digits with an optional fraction, such as 12 or -1.5"
        ),
    ]

    static let semanticErrors: [ErrorCase] = [
        ErrorCase(
            source: "rule \"a\":\n    creditor.frist_time > 1 -> review", code: .unknownOperand, line: 2, column: 5,
            message: "unknown operand 'creditor.frist_time'"
        ),
        ErrorCase(
            source: "rule \"a\": amout > 1 -> allow", code: .unknownOperand, line: 1, column: 11,
            message: "unknown operand 'amout', did you mean 'amount'?"
        ),
        ErrorCase(
            source: "rule \"a\": amount > velocity -> allow", code: .unknownOperand, line: 1, column: 20,
            message: "unknown operand 'velocity'"
        ),
        ErrorCase(
            source: "rule \"a\": scheme in [\"A\"] or nope in [\"B\"] -> allow", code: .unknownOperand, line: 1, column: 30,
            message: "unknown operand 'nope'"
        ),
        ErrorCase(
            source: "rule \"é\": x > 1 -> allow", code: .unknownOperand, line: 1, column: 11,
            message: "unknown operand 'x'"
        ),
        ErrorCase(
            source: "rule \"a\": amount > 1 -> allow\r\nrule \"b\": bogus > 1 -> allow", code: .unknownOperand, line: 2,
            column: 11, message: "unknown operand 'bogus'"
        ),
        ErrorCase(
            source: "\trule \"a\":\tbogus > 1 -> allow", code: .unknownOperand, line: 1, column: 12,
            message: "unknown operand 'bogus'"
        ),
        ErrorCase(
            source: "rule \"a\": amount == \"EUR\" -> allow", code: .typeMismatch, line: 1, column: 21,
            message: "type mismatch: 'amount' is numeric, expected a number or a numeric operand, found a string"
        ),
        ErrorCase(
            source: "rule \"a\": amount > currency -> allow", code: .typeMismatch, line: 1, column: 20,
            message: "type mismatch: 'amount' is numeric, expected a number or a numeric operand, found text operand 'currency'"
        ),
        ErrorCase(
            source: "rule \"a\": currency < \"EUR\" -> allow", code: .typeMismatch, line: 1, column: 20,
            message: "type mismatch: 'currency' is text, expected '==', '!=' or 'in', found '<'"
        ),
        ErrorCase(
            source: "rule \"a\": currency >= channel -> allow", code: .typeMismatch, line: 1, column: 20,
            message: "type mismatch: 'currency' is text, expected '==', '!=' or 'in', found '>='"
        ),
        ErrorCase(
            source: "rule \"a\": currency == 5 -> allow", code: .typeMismatch, line: 1, column: 23,
            message: "type mismatch: 'currency' is text, expected a string or a text operand, found a number"
        ),
        ErrorCase(
            source: "rule \"a\": currency != amount -> allow", code: .typeMismatch, line: 1, column: 23,
            message: "type mismatch: 'currency' is text, expected a string or a text operand, found numeric operand 'amount'"
        ),
        ErrorCase(
            source: "rule \"a\": amount in [\"A\"] -> allow", code: .typeMismatch, line: 1, column: 18,
            message: "type mismatch: 'in' expects a text operand, found numeric operand 'amount'"
        ),
        ErrorCase(
            source: "rule \"a\": scheme in [\"A\", 1] -> allow", code: .typeMismatch, line: 1, column: 27,
            message: "type mismatch: 'scheme' is text, expected a string, found a number"
        ),
        ErrorCase(
            source: "rule \"a\": amount > 1 -> deny", code: .unknownOutcome, line: 1, column: 25,
            message: "unknown outcome 'deny', expected 'allow', 'review' or 'block'"
        ),
        ErrorCase(
            source: "rule \"a\": amount > 1 -> Block", code: .unknownOutcome, line: 1, column: 25,
            message: "unknown outcome 'Block', expected 'allow', 'review' or 'block'"
        ),
        ErrorCase(
            source: "rule \"a\": amount > 1 -> 2", code: .unexpectedToken, line: 1, column: 25,
            message: "expected an outcome ('allow', 'review' or 'block'), found '2'"
        ),
        ErrorCase(
            source: "rule \"a\": amount > 1 -> allow\n\nrule \"a\": amount > 2 -> block", code: .duplicateName, line: 3,
            column: 6, message: "duplicate rule name \"a\", first used on line 1, expected a unique name"
        ),
        ErrorCase(
            source: "rule \"\": amount > 1 -> allow", code: .emptyName, line: 1, column: 6,
            message: "empty rule name, expected at least one character"
        ),
        ErrorCase(
            source: "rule \"a\": " + String(repeating: "(", count: 65) + "amount > 1" + String(repeating: ")", count: 65)
                + " -> allow",
            code: .nestingTooDeep, line: 1, column: 75,
            message: "expression nested too deeply, expected at most 64 levels of '(' and 'not'"
        ),
    ]

    @Test(arguments: syntaxErrors + missingArrow + lexicalErrors + semanticErrors)
    func everyErrorNamesItsPlaceAndWhatWasExpected(errorCase: ErrorCase) {
        #expect(compileError(errorCase.source) == errorCase.error)
    }

    @Test func theFirstErrorInTheFileWins() {
        // The unknown operand on line 1 comes before the syntax error on line 2.
        let error = compileError("rule \"a\": bogus > 1 -> allow\nrule \"b\": amount > > 1 -> allow")
        #expect(error?.line == 1)
        #expect(error?.code == .unknownOperand)
    }

    @Test func longLexemesAreTruncatedInMessages() {
        let name = String(repeating: "q", count: 200)
        let error = compileError("rule \"a\": \(name) > 1 -> allow")
        #expect(error?.message == "unknown operand '\(String(repeating: "q", count: 40))…'")
    }
}
