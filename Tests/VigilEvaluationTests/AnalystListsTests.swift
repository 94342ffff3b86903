import Testing
@testable import VigilEvaluation

/// The parts of the report an analyst reads first: rule hits, the top flagged payments and the missed frauds.
@Suite struct AnalystListsTests {
    static let policy = DecisionPolicy(reviewThreshold: 600, blockThreshold: 900, ruleNames: ["mule-burst", "big-new-payee", "quiet"])

    /// Rules fire on four payments: mule-burst on two frauds and one genuine payment, big-new-payee on one genuine
    /// payment, and a rule the policy no longer has on one fraud.
    static let examples: [ScoredExample] = [
        example(950, fraud: true, decision: "block", id: "p1", reasons: ["NEW_PAYEE", "AMOUNT_HIGH"], rules: ["mule-burst"]),
        example(300, fraud: true, decision: "review", id: "p2", rules: ["mule-burst", "old-rule"]),
        example(700, fraud: false, decision: "review", id: "p3", rules: ["mule-burst", "mule-burst"]),
        example(100, fraud: false, decision: "review", id: "p4", rules: ["big-new-payee"]),
        example(200, fraud: true, decision: "allow", amount: 5_000, id: "p5", reasons: ["UNUSUAL_HOUR"]),
        example(550, fraud: true, decision: "allow", amount: 90, id: "p6"),
        example(10, fraud: false, decision: "allow", id: "p7"),
    ]

    @Test func ruleHitsCountEachPaymentOnceAndListEveryRule() throws {
        let rules = EvaluationReport(examples: Self.examples, modelVersion: "m", period: "p", policy: Self.policy).ruleHits
        #expect(rules.map(\.name) == ["mule-burst", "big-new-payee", "quiet", "old-rule"])
        let burst = rules[0]
        #expect(burst.hits == 3 && burst.fraudHits == 2)
        #expect(burst.precision == 2.0 / 3 && burst.recall == 0.5)
        #expect(rules[1].hits == 1 && rules[1].fraudHits == 0 && rules[1].precision == 0)
        #expect(rules[2].hits == 0 && rules[2].precision == nil && rules[2].recall == 0)
        #expect(rules[3].hits == 1 && rules[3].fraudHits == 1)
    }

    @Test func topFlaggedAreTheHighestScores() {
        let report = EvaluationReport(examples: Self.examples, modelVersion: "m", period: "p")
        #expect(report.topFlagged.map(\.paymentId) == ["p1", "p3", "p2", "p4"])
    }

    @Test func missedFraudsAreTheLargestAllowedFrauds() {
        let report = EvaluationReport(examples: Self.examples, modelVersion: "m", period: "p")
        #expect(report.missedFraudCount == 2)
        #expect(report.missedFrauds.map(\.paymentId) == ["p5", "p6"])
    }

    @Test func listsStopAtTwenty() {
        let many = (0..<50).map { i in example(999 - i, fraud: true, decision: i < 25 ? "block" : "allow", amount: Double(i), id: "q\(i)") }
        let report = EvaluationReport(examples: many, modelVersion: "m", period: "p")
        #expect(report.topFlagged.map(\.paymentId) == (0..<20).map { "q\($0)" })
        #expect(report.missedFraudCount == 25)
        #expect(report.missedFrauds.map(\.paymentId) == (30..<50).reversed().map { "q\($0)" })
        #expect(report.markdown().contains("25 of 50 frauds were allowed; the 20 largest:"))
    }

    @Test func markdownShowsReasonsAndRules() {
        let markdown = EvaluationReport(examples: Self.examples, modelVersion: "m", period: "p", policy: Self.policy).markdown()
        #expect(markdown.contains("| p1 | 2026-03-14 | 950 | block | fraud (unspecified) | 100.00 | NEW_PAYEE, AMOUNT_HIGH | mule-burst |"))
        #expect(markdown.contains("| p5 | 2026-03-14 | 200 | allow | fraud (unspecified) | 5,000.00 | UNUSUAL_HOUR | – |"))
        #expect(markdown.contains("| mule-burst | 3 | 2 | 66.7% | 50.0% |"))
        #expect(markdown.contains("| quiet | 0 | 0 | n/a | 0.0% |"))
    }

    @Test func jsonListsThem() throws {
        let json = String(
            decoding: EvaluationReport(examples: Self.examples, modelVersion: "m", period: "p", policy: Self.policy).json(),
            as: UTF8.self
        )
        for text in ["\"topFlagged\"", "\"missedFrauds\"", "\"largest\"", "\"fraudHits\" : 2", "\"paymentId\" : \"p5\"", "\"UNUSUAL_HOUR\""] {
            #expect(json.contains(text), "missing \(text)")
        }
    }
}
