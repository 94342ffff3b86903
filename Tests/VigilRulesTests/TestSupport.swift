import Testing
@testable import VigilRules

extension RuleSchema {
    /// A schema shaped like the engine's: model score, amount and features, then text fields.
    static let payments = RuleSchema(
        numeric: ["score", "amount", "creditor.first_time_senders_1h", "pair.new_payee", "debtor.amount_sum_24h"],
        text: ["currency", "perspective", "scheme", "channel"]
    )

    /// Three numeric operands `x`, `y`, `z` and two text operands `s`, `t`, for truth tables.
    static let small = RuleSchema(numeric: ["x", "y", "z"], text: ["s", "t"])
}

extension RuleSet {
    /// The indices `evaluate` reports, in the order it reports them.
    func firedIndices(numeric: [Double], text: [String]) -> [Int] {
        var fired: [Int] = []
        numeric.withUnsafeBufferPointer { numeric in
            text.withUnsafeBufferPointer { text in
                self.evaluate(numeric: numeric, text: text) { fired.append($0) }
            }
        }
        return fired
    }

    /// Whether any rule fires; the defaults fill ``RuleSchema/small``'s slots.
    func fires(numeric: [Double] = [0, 0, 0], text: [String] = ["", ""]) -> Bool {
        !self.firedIndices(numeric: numeric, text: text).isEmpty
    }
}

/// The error compiling `source` throws, or `nil` if it compiles.
func compileError(_ source: String, schema: RuleSchema = .payments) -> RuleError? {
    do {
        _ = try RuleSet.compile(source, schema: schema)
        return nil
    } catch {
        return error
    }
}

/// A one-rule set whose condition is `condition`, over ``RuleSchema/small``.
func condition(_ condition: String) throws -> RuleSet {
    try RuleSet.compile("rule \"r\": \(condition) -> review", schema: .small)
}

/// A large generated source for a parameterised test, shown in the test log by its short name instead of its text:
/// Swift Testing prints every argument, and one of 100,000 line feeds would be 100,000 blank lines.
struct LargeSource: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String

    init(_ name: String, _ text: String) {
        self.name = name
        self.text = text
    }

    var testDescription: String { "\(self.name) (\(self.text.utf8.count) bytes)" }
}
