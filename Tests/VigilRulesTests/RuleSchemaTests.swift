import Testing
@testable import VigilRules

@Suite struct RuleSchemaTests {
    @Test func namesMapToTheirSlots() {
        let schema = RuleSchema(numeric: ["score", "amount"], text: ["currency"])
        #expect(schema.slot(named: "score") == .numeric(0))
        #expect(schema.slot(named: "amount") == .numeric(1))
        #expect(schema.slot(named: "currency") == .text(0))
        #expect(schema.slot(named: "Amount") == nil)
        #expect(schema.numeric == ["score", "amount"])
        #expect(schema.text == ["currency"])
    }

    @Test(arguments: [
        ("amout", "amount"),
        ("scor", "score"),
        ("curency", "currency"),
        ("creditor.first_time_senders_1", "creditor.first_time_senders_1h"),
    ])
    func closeMisspellingsGetASuggestion(name: String, suggestion: String) {
        #expect(RuleSchema.payments.suggestion(for: name) == suggestion)
    }

    @Test(arguments: ["creditor.frist_time", "x", "velocity", String(repeating: "a", count: 500)])
    func distantNamesGetNoSuggestion(name: String) {
        #expect(RuleSchema.payments.suggestion(for: name) == nil)
    }
}
