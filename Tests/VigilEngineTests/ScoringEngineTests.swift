import Foundation
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilRules
import VigilTrees

func token(_ n: UInt64) -> Token { Token(a: n &* 0x9E37_79B9_7F4A_7C15, b: n, c: 0, d: 0) }

func payment(_ id: String, from debtor: UInt64, to creditor: UInt64, amount: String = "100.00", at seconds: Int64) -> TokenizedPayment {
    let sealed = SealedValue(keyVersion: 1, bytes: [1, 2, 3])
    return TokenizedPayment(
        paymentId: id, perspective: .sending, type: .push, scheme: "FPS", channel: "web",
        amount: try! Money.parse(amount, currency: Currency(code: "GBP")!).get(),
        createdAt: Instant(epochMillis: (1_795_000_000 + seconds) * 1000),
        debtor: TokenizedParty(account: token(debtor), sealedAccount: sealed, agent: "BANKGB01"),
        creditor: TokenizedParty(account: token(creditor), sealedAccount: sealed)
    )
}

struct ScoringEngineTests {
    static let model = try! ModelBundle.bundled()

    func policy(rules: String = "", review: Int = 600, block: Int = 900) throws -> TenantPolicy {
        TenantPolicy(name: "bank-a", reviewThreshold: review, blockThreshold: block, rules: try TenantPolicy.compileRules(rules))
    }

    func engine(log: InMemoryEventLog = InMemoryEventLog()) -> ScoringEngine<InMemoryFeatureStore, InMemoryEventLog, DuplicateIndex> {
        ScoringEngine(store: InMemoryFeatureStore(), log: log, model: Self.model)
    }

    func scored(_ outcome: ScoreOutcome) -> ScoreResponse? {
        if case .scored(let response) = outcome { return response }
        return nil
    }

    @Test func theBundledModelUsesVigilsFeatures() {
        #expect(Self.model.ensemble.featureNames.allSatisfy { Feature(name: $0) != nil })
        #expect(Self.model.ensemble.treeCount > 0)
        #expect(Self.model.version.hasPrefix("xgb-"))
    }

    @Test func scoresAndLogsAPayment() async throws {
        let log = InMemoryEventLog()
        let engine = engine(log: log)
        let outcome = await engine.score(payment("p1", from: 1, to: 2, at: 0), tenant: try policy(), receivedAt: Instant(epochMillis: 0), started: .now)
        let response = try #require(scored(outcome))
        #expect((0...999).contains(response.score))
        #expect(response.paymentId == "p1")
        #expect(!response.duplicate)
        #expect(response.modelVersion == Self.model.version)
        #expect(response.reasons.map(\.contribution) == response.reasons.map(\.contribution).sorted(by: >))
        #expect(response.reasons.allSatisfy { $0.contribution > 0 && Feature(name: $0.feature)?.reasonCode == $0.code })
        // A first payment has no history: features that are missing are never given as reasons.
        #expect(!response.reasons.isEmpty)
        #expect(!response.reasons.contains { $0.feature == "debtor.hour_unusualness" || $0.feature == "debtor.amount_zscore" })
        #expect(log.records.count == 1)
        // The log holds the compact binary record, which reads back as the event.
        #expect(log.records[0].first == EventCoding.RecordFormat.scoredEvent1)
        let event = try scoredEvent(log.records[0])
        #expect(event.response == response)
        #expect(event.tenant == "bank-a")
    }

    @Test func anExactRetryIsADuplicateAndIsNotCountedAgain() async throws {
        let log = InMemoryEventLog()
        let engine = engine(log: log)
        let tenant = try policy()
        let first = try #require(scored(await engine.score(payment("p1", from: 1, to: 2, at: 0), tenant: tenant, receivedAt: Instant(epochMillis: 0), started: .now)))
        let retry = await engine.score(payment("p1", from: 1, to: 2, at: 0), tenant: tenant, receivedAt: Instant(epochMillis: 1000), started: .now)
        guard case .duplicate(let again) = retry else {
            Issue.record("expected a duplicate")
            return
        }
        #expect(again.duplicate)
        #expect(again.scoreId == first.scoreId)
        #expect(again.score == first.score)
        // The retry is logged as answered, for reporting, and scores nothing.
        #expect(log.records.count == 2)
        let answered = DuplicateAnsweredEvent(tenant: "bank-a", paymentId: "p1", receivedAt: Instant(epochMillis: 1000), originalScoreId: first.scoreId)
        #expect(log.records[1].first == EventCoding.RecordFormat.duplicateAnswered1)
        #expect(try EventCoding.decodeRecord(log.records[1]) == .duplicateAnswered(answered))
        // Another tenant may use the same id.
        let other = TenantPolicy(name: "bank-b", reviewThreshold: 600, blockThreshold: 900, rules: .empty)
        #expect(scored(await engine.score(payment("p1", from: 1, to: 2, at: 0), tenant: other, receivedAt: Instant(epochMillis: 0), started: .now)) != nil)
        // Neither the retry nor bank-b's request for the same payment (its other end) was counted again: the pair has
        // seen one payment.
        var features: [Double] = []
        try await engine.extractor.observe(payment("p2", from: 1, to: 2, at: 60), into: &features)
        #expect(features[Feature.pairCount.rawValue] == 1)
    }

    @Test func aDuplicateIsAnsweredEvenWhenTheLogRefusesItsRecord() async throws {
        let log = InMemoryEventLog()
        let engine = engine(log: log)
        let tenant = try policy()
        let first = try #require(scored(await engine.score(payment("p1", from: 1, to: 2, at: 0), tenant: tenant, receivedAt: Instant(epochMillis: 0), started: .now)))
        log.fail(with: EventLogError(code: .closed, message: "refused for the test"))
        let retry = await engine.score(payment("p1", from: 1, to: 2, at: 0), tenant: tenant, receivedAt: Instant(epochMillis: 1000), started: .now)
        guard case .duplicate(let again) = retry else {
            Issue.record("expected a duplicate, got \(retry)")
            return
        }
        #expect(again.scoreId == first.scoreId)
        #expect(log.records.count == 1)
    }

    @Test func replaySkipsDuplicateAnsweredRecordsAndRestoresOnlyScoredAnswers() async throws {
        let log = InMemoryEventLog()
        let original = engine(log: log)
        let tenant = try policy()
        let sent = payment("p1", from: 1, to: 2, at: 0)
        let first = try #require(scored(await original.score(sent, tenant: tenant, receivedAt: Instant(epochMillis: 0), started: .now)))
        _ = await original.score(sent, tenant: tenant, receivedAt: Instant(epochMillis: 500), started: .now)
        #expect(log.records.count == 2)
        let recovered = engine()
        let folded = try await recovered.replay(log.records[0], nowMillis: 2000)
        #expect(folded?.tenant == "bank-a")
        #expect(try await recovered.replay(log.records[1], nowMillis: 2000) == nil)
        #expect(try await recovered.restoreAnswer(log.records[1], sinceMillis: 0))
        #expect(try await !recovered.restoreAnswer(log.records[1], sinceMillis: 501))
        var features: [Double] = []
        try await recovered.extractor.observe(payment("p2", from: 1, to: 2, at: 60), into: &features)
        #expect(features[Feature.pairCount.rawValue] == 1)
        #expect(recovered.duplicates.reserve(
            tenant: "bank-a", paymentId: "p1", fingerprint: DuplicateIndex.fingerprint(of: sent), nowMillis: 3000
        ) == .duplicate(first))
    }

    @Test func aConcurrentRequestWithTheSameIdIsToldToRetry() async throws {
        let engine = engine()
        #expect(engine.duplicates.reserve(tenant: "bank-a", paymentId: "p1", fingerprint: 0, nowMillis: 0) == .reserved)
        let outcome = await engine.score(payment("p1", from: 1, to: 2, at: 0), tenant: try policy(), receivedAt: Instant(epochMillis: 0), started: .now)
        #expect(outcome == .inProgress)
    }

    @Test func duplicatesExpireAfterTheRetentionWindow() async throws {
        let engine = ScoringEngine(
            store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: Self.model, duplicates: DuplicateIndex(retentionSeconds: 3600)
        )
        let tenant = try policy()
        _ = await engine.score(payment("p1", from: 1, to: 2, at: 0), tenant: tenant, receivedAt: Instant(epochMillis: 0), started: .now)
        let late = await engine.score(payment("p1", from: 1, to: 2, at: 0), tenant: tenant, receivedAt: Instant(epochMillis: 3_601_000), started: .now)
        #expect(scored(late) != nil)
    }

    @Test func rulesFireAndTheMostSevereOutcomeWins() async throws {
        let engine = engine()
        let tenant = try policy(rules: """
            rule "big": amount >= 5000 -> block
            rule "new-payee": pair.new_payee == 1 -> review
            rule "never": score > 1000 -> block
            """)
        let response = try #require(scored(await engine.score(
            payment("p1", from: 1, to: 2, amount: "6000.00", at: 0), tenant: tenant, receivedAt: Instant(epochMillis: 0), started: .now
        )))
        #expect(response.rules == [RuleFiring(name: "big", outcome: .block), RuleFiring(name: "new-payee", outcome: .review)])
        #expect(response.decision == .block)
    }

    @Test func thresholdsDecideWhenNoRuleFires() async throws {
        let engine = engine()
        let blockAll = try policy(review: 0, block: 0)
        let response = try #require(scored(await engine.score(payment("p1", from: 1, to: 2, at: 0), tenant: blockAll, receivedAt: Instant(epochMillis: 0), started: .now)))
        #expect(response.decision == .block)
        let allowAll = try policy(review: 1000, block: 1000)
        let second = try #require(scored(await engine.score(payment("p2", from: 1, to: 2, at: 0), tenant: allowAll, receivedAt: Instant(epochMillis: 0), started: .now)))
        #expect(second.decision == .allow)
    }

    @Test func aRefusedAppendAcknowledgesNothingAndCanBeRetried() async throws {
        let log = InMemoryEventLog()
        let engine = engine(log: log)
        await log.shutdown()
        let outcome = await engine.score(payment("p1", from: 1, to: 2, at: 0), tenant: try policy(), receivedAt: Instant(epochMillis: 0), started: .now)
        guard case .unavailable = outcome else {
            Issue.record("expected unavailable")
            return
        }
        #expect(engine.duplicates.reserve(tenant: "bank-a", paymentId: "p1", fingerprint: 0, nowMillis: 0) == .reserved)
    }

    @Test func replayRebuildsFeaturesAndDuplicates() async throws {
        let log = InMemoryEventLog()
        let original = engine(log: log)
        let tenant = try policy()
        var responses: [String: ScoreResponse] = [:]
        var sent: [String: TokenizedPayment] = [:]
        for i in 0..<20 {
            sent["p\(i)"] = payment("p\(i)", from: UInt64(i % 3), to: UInt64(i % 5) + 10, at: Int64(i) * 30)
            let r = try #require(scored(await original.score(
                sent["p\(i)"]!, tenant: tenant,
                receivedAt: Instant(epochMillis: 1000), started: .now
            )))
            responses[r.paymentId] = r
        }
        let recovered = engine()
        for record in log.records { try await recovered.replay(record, nowMillis: 2000) }
        for (id, response) in responses {
            #expect(recovered.duplicates.reserve(
                tenant: "bank-a", paymentId: id, fingerprint: DuplicateIndex.fingerprint(of: sent[id]!), nowMillis: 3000
            ) == .duplicate(response))
        }
        var a: [Double] = []
        var b: [Double] = []
        try await original.extractor.observe(payment("next", from: 1, to: 11, at: 900), into: &a)
        try await recovered.extractor.observe(payment("next", from: 1, to: 11, at: 900), into: &b)
        #expect(a.elementsEqual(b) { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }

    @Test(arguments: [(0.0, 0), (1e-9, 0), (1e-8, 0), (0.00001, 150), (0.0001, 200), (0.0005, 234), (0.001, 250), (0.003, 369), (0.5, 924), (0.9999, 999), (1.0, 999), (Double.nan, 999)])
    func mapsProbabilityToScore(probability: Double, score: Int) {
        #expect(ScoringEngine<InMemoryFeatureStore, InMemoryEventLog, DuplicateIndex>.score(probability: probability) == score)
    }
}
