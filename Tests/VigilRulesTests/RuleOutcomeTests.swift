import Testing
@testable import VigilRules

@Suite struct RuleOutcomeTests {
    @Test(arguments: [(RuleOutcome.allow, "allow"), (.review, "review"), (.block, "block")])
    func nameRoundTrips(outcome: RuleOutcome, name: String) {
        #expect(outcome.name == name)
        #expect(RuleOutcome(name: name) == outcome)
    }

    @Test(arguments: ["", "Block", "deny", "allow "])
    func unknownNamesAreRejected(name: String) {
        #expect(RuleOutcome(name: name) == nil)
    }

    @Test func strongerOutcomesCompareGreater() {
        #expect(RuleOutcome.allow < .review)
        #expect(RuleOutcome.review < .block)
        #expect(RuleOutcome.allCases.max() == .block)
        #expect(RuleOutcome.allCases.map(\.rawValue) == [0, 1, 2])
    }
}
