import Testing
@testable import VigilRules

@Suite struct RuleCheckerTests {
    /// The checked conditions of every statement in `source`, over ``RuleSchema/payments``.
    private func check(_ source: String) throws(RuleError) -> [RuleCondition] {
        var parser = try RuleParser(source: source)
        var checker = RuleChecker(schema: .payments)
        var conditions: [RuleCondition] = []
        while let statement = try parser.nextStatement() {
            conditions.append(try checker.check(statement))
        }
        return conditions
    }

    private func check(condition: String) throws(RuleError) -> RuleCondition {
        try self.check("rule \"r\": \(condition) -> allow")[0]
    }

    @Test(arguments: [
        ("amount > 500", RuleCondition.numericConstant(.greaterThan, slot: 1, 500)),
        ("creditor.first_time_senders_1h >= 10", .numericConstant(.greaterThanOrEqual, slot: 2, 10)),
        ("debtor.amount_sum_24h < amount", .numericSlots(.lessThan, lhs: 4, rhs: 1)),
        ("currency == \"EUR\"", .textIn(slot: 0, ["EUR"])),
        ("currency != \"EUR\"", .not(.textIn(slot: 0, ["EUR"]))),
        ("perspective == channel", .textEqualsSlot(lhs: 1, rhs: 3)),
        ("perspective != channel", .not(.textEqualsSlot(lhs: 1, rhs: 3))),
        ("scheme in [\"SEPA_INST\", \"PIX\"]", .textIn(slot: 2, ["SEPA_INST", "PIX"])),
        (
            "score >= 950 or not pair.new_payee == 1 and channel == \"\"",
            .any([
                .numericConstant(.greaterThanOrEqual, slot: 0, 950),
                .all([.not(.numericConstant(.equal, slot: 3, 1)), .textIn(slot: 3, [""])]),
            ])
        ),
    ])
    func operandsResolveToSlots(condition: String, expected: RuleCondition) throws {
        #expect(try self.check(condition: condition) == expected)
    }

    @Test func namesMayRepeatOnlyAcrossFiles() throws {
        #expect(try self.check("rule \"a\": amount > 1 -> allow rule \"b\": amount > 1 -> allow").count == 2)
        #expect(throws: RuleError.self) {
            try self.check("rule \"a\": amount > 1 -> allow rule \"a\": amount > 1 -> allow")
        }
    }

    @Test func namesAreCaseSensitive() throws {
        #expect(try self.check("rule \"a\": amount > 1 -> allow rule \"A\": amount > 1 -> allow").count == 2)
    }
}
