import Testing
import VigilDomain
@testable import VigilEngine
import VigilEventLog
import VigilFeatures

/// A client's `createdAt` cannot move an account's windows past its real payments, live or in recovery.
extension ScoringEngineTests {
    static let t0: Int64 = 1_795_000_000

    /// The server's clock `seconds` after `t0`.
    func clock(_ seconds: Int64) -> Instant { Instant(epochMillis: (Self.t0 + seconds) * 1000) }

    func dated(_ payment: TokenizedPayment, _ createdAt: Instant) -> TokenizedPayment {
        var dated = payment
        dated.createdAt = createdAt
        return dated
    }

    /// The feature values the log holds for its `index`th record.
    func logged(_ log: InMemoryEventLog, _ index: Int) throws -> [Double?] {
        try scoredEvent(log.records[index]).features
    }

    /// Scores a £100 payment from debtor 1 to creditor 2 created at `created` seconds and received at `received`.
    func send(_ engine: ScoringEngine<InMemoryFeatureStore, InMemoryEventLog, DuplicateIndex>, _ id: String, created: Instant, received: Int64) async throws {
        let outcome = await engine.score(
            dated(payment(id, from: 1, to: 2, at: 0), created), tenant: try policy(), receivedAt: clock(received), started: .now
        )
        #expect(scored(outcome) != nil, "\(id): \(outcome)")
    }

    @Test func aFutureDatedEventFoldedInByReplayLeavesTheLaterVelocityFeaturesCorrect() async throws {
        // The log of a server that accepted a 2099 payment before `createdAt` was bounded.
        let before = InMemoryEventLog()
        try await send(engine(log: before), "p0", created: Instant(rfc3339: "2099-01-01T00:00:00Z")!, received: 0)

        let log = InMemoryEventLog()
        let recovered = engine(log: log)
        for record in before.records { try await recovered.replay(record, nowMillis: clock(1).epochMillis) }
        for i in 1...6 { try await send(recovered, "p\(i)", created: clock(Int64(i) * 10), received: Int64(i) * 10) }

        let sixth = try logged(log, 5)
        // The 2099 payment counts where it arrived, with the five before the sixth.
        #expect(sixth[Feature.debtorCount5m.rawValue] == 6)
        #expect(sixth[Feature.debtorSum5m.rawValue] == 600)
        #expect(sixth[Feature.debtorCount1h.rawValue] == 6)
        #expect(sixth[Feature.debtorCount24h.rawValue] == 6)
        #expect(sixth[Feature.debtorCount7d.rawValue] == 6)
        #expect(sixth[Feature.pairPossibleDoublePayment.rawValue] == 1)
    }

    @Test func aPaymentAheadOfTheClockWithinTheSkewDoesNotHideTheFinestWindow() async throws {
        let log = InMemoryEventLog()
        let engine = engine(log: log)
        try await send(engine, "p0", created: clock(300), received: 0)
        for i in 1...5 { try await send(engine, "p\(i)", created: clock(Int64(i)), received: Int64(i)) }
        #expect(try logged(log, 5)[Feature.debtorCount5m.rawValue] == 5)
        #expect(try logged(log, 5)[Feature.debtorSum5m.rawValue] == 500)
    }

    @Test func aLatePaymentIsScoredAtItsOwnTimeWithinTheLagAndAtTheReceiveTimePastIt() async throws {
        let log = InMemoryEventLog()
        let engine = engine(log: log)
        try await send(engine, "three-days-late", created: clock(-3 * 86_400), received: 0)
        try await send(engine, "now", created: clock(10), received: 10)
        try await send(engine, "an-hour-late", created: clock(-3600), received: 20)
        try await send(engine, "next", created: clock(30), received: 30)
        #expect(try logged(log, 1)[Feature.debtorCount5m.rawValue] == 1)
        let next = try logged(log, 3)
        #expect(next[Feature.debtorCount5m.rawValue] == 2)
        #expect(next[Feature.debtorCount24h.rawValue] == 3)
        // The log keeps what the client sent.
        #expect(try scoredEvent(log.records[0]).request.createdAt == clock(-3 * 86_400))
    }

    @Test func aReusedIdWithAnotherPaymentIsRefusedAndNotScoredAlsoAfterRecovery() async throws {
        let log = InMemoryEventLog()
        let original = engine(log: log)
        let tenant = try policy()
        let first = payment("p1", from: 1, to: 2, amount: "2500.00", at: 0)
        let changed = payment("p1", from: 1, to: 2, amount: "9999.00", at: 0)
        let response = try #require(scored(await original.score(first, tenant: tenant, receivedAt: clock(0), started: .now)))
        #expect(await original.score(changed, tenant: tenant, receivedAt: clock(1), started: .now) == .reused)
        #expect(log.records.count == 1)

        let recovered = engine()
        for record in log.records { try await recovered.replay(record, nowMillis: clock(2).epochMillis) }
        var expected = response
        expected.duplicate = true
        for engine in [original, recovered] {
            #expect(await engine.score(changed, tenant: tenant, receivedAt: clock(3), started: .now) == .reused)
            // Sealed values differ between two sealings of the same text; an exact retry is still a duplicate.
            var resealed = first
            resealed.debtor.sealedAccount = SealedValue(keyVersion: 1, bytes: [9, 9, 9])
            #expect(await engine.score(resealed, tenant: tenant, receivedAt: clock(4), started: .now) == .duplicate(expected))
            // Neither the refused nor the repeated request was folded into the features.
            var features: [Double] = []
            try await engine.extractor.observe(payment("p2", from: 1, to: 2, at: 60), into: &features)
            #expect(features[Feature.pairCount.rawValue] == 1)
        }
    }
}
