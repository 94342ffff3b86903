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
