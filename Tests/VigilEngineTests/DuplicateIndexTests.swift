import Foundation
import Synchronization
import Foundation
import Testing
import VigilStateTesting
import VigilDomain
@testable import VigilEngine
import VigilEventLog
import VigilFeatures

struct DuplicateIndexTests {
    /// Seeded answers: mostly like the engine's, some that the compact record cannot hold.
    struct Answers: RandomNumberGenerator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func contribution() -> Double {
            let magnitude = [1e-6, 1e-3, 1.0, 10.0, 2000.0].randomElement(using: &self)!
            return (Double.random(in: 0..<magnitude, using: &self) * 1e6).rounded() / 1e6
        }

        mutating func engineLike(paymentId: String) -> ScoreResponse {
            let reasons = (0..<Int.random(in: 0...5, using: &self)).map { _ in
                let feature = Feature.allCases.randomElement(using: &self)!
                return Reason(code: feature.reasonCode, feature: feature.name, contribution: contribution())
            }
            let rules = Int.random(in: 0..<10, using: &self) == 0
                ? [RuleFiring(name: "big", outcome: .block), RuleFiring(name: "new-payee", outcome: .review)] : []
            return ScoreResponse(
                paymentId: paymentId, scoreId: UUID().uuidString.lowercased(), score: Int.random(in: 0...999, using: &self),
                decision: Decision.allCases.randomElement(using: &self)!, reasons: reasons, rules: rules, duplicate: false,
                modelVersion: ["xgb-2026-11-01", "xgb-2026-11-15", "champion"].randomElement(using: &self)!,
                processingMicros: Int.random(in: 0...50_000, using: &self)
            )
        }

        /// An engine-like answer with one thing the compact record cannot hold as such.
        mutating func unusual(paymentId: String) -> ScoreResponse {
            var response = engineLike(paymentId: paymentId)
            let feature = Feature.allCases.randomElement(using: &self)!
            switch Int.random(in: 0..<9, using: &self) {
            case 0: response.scoreId = response.scoreId.uppercased()
            case 1: response.scoreId = "score-\(next())"
            case 2: response.score = [-1, 65_536, Int.max].randomElement(using: &self)!
            case 3: response.processingMicros = Int(UInt32.max) + Int.random(in: 1...1000, using: &self)
            case 4: response.reasons.append(Reason(code: feature.reasonCode, feature: "not.a.feature", contribution: 0.5))
            case 5: response.reasons.append(Reason(code: "OTHER_CODE", feature: feature.name, contribution: 0.5))
            case 6:
                // Out of Int32 range in millionths, or not a whole number of them, or negative zero.
                let odd = [2147.483648, -2147.483649, 1e300, 0.1234567, -0.0].randomElement(using: &self)!
                response.reasons.append(Reason(code: feature.reasonCode, feature: feature.name, contribution: odd))
            case 7:
                response.reasons = (0..<7).map { _ in Reason(code: feature.reasonCode, feature: feature.name, contribution: contribution()) }
            default: response.duplicate = true
            }
            return response
        }
    }

    func expectSameAnswer(_ reservation: DuplicateIndex.Reservation, _ original: ScoreResponse) {
        guard case .duplicate(let answer) = reservation else {
            Issue.record("expected a duplicate, got \(reservation)")
            return
        }
        #expect(answer.paymentId == original.paymentId)
        #expect(answer.scoreId == original.scoreId)
        #expect(answer.score == original.score)
        #expect(answer.decision == original.decision)
        #expect(answer.reasons == original.reasons)
        #expect(answer.reasons.map(\.contribution.bitPattern) == original.reasons.map(\.contribution.bitPattern))
        #expect(answer.rules == original.rules)
        #expect(answer.duplicate == original.duplicate)
        #expect(answer.modelVersion == original.modelVersion)
        #expect(answer.processingMicros == original.processingMicros)
        #expect(EventCoding.encode(answer) == EventCoding.encode(original))
    }

    @Test func aRecordIsEightyEightBytesInline() {
        #expect(MemoryLayout<DuplicateIndex.Record>.stride == 88)
    }

    @Test func everyRoundedContributionComesBackExactlyFromMillionths() {
        var random = Answers(state: 1)
        var values: [Double] = [0, 1e-6, 0.5, 1, 2147.483647, -2147.483648, 0.000001, 0.999999, 1234.567891]
        for _ in 0..<200_000 { values.append(random.contribution()) }
        for _ in 0..<200_000 { values.append((Double.random(in: -2147.4836...2147.4836, using: &random) * 1e6).rounded() / 1e6) }
        for micro in stride(from: Int32.min, to: Int32.max - 10_000, by: 10_007) { values.append(Double(micro) / 1e6) }
        var failures = 0
        for value in values {
            guard let micro = DuplicateIndex.micro(value), (Double(micro) / 1e6).bitPattern == value.bitPattern else {
                failures += 1
                continue
            }
        }
        #expect(failures == 0)
        // Out of Int32 range, not a whole number of millionths, or not a number: left for the whole-answer fallback.
        for value in [2147.483648, -2147.483649, 1e300, 0.1234567, -0.0, .nan, .infinity] {
            #expect(DuplicateIndex.micro(value) == nil)
        }
    }

    @Test func manyRandomAnswersComeBackAsTheyWereRecorded() {
        let index = DuplicateIndex()
        var random = Answers(state: 7)
        var recorded: [(tenant: String, response: ScoreResponse)] = []
        for n in 0..<5_000 {
            let tenant = "bank-\(n % 3)"
            let id = "p\(n)"
            let response = n % 4 == 0 ? random.unusual(paymentId: id) : random.engineLike(paymentId: id)
            #expect(index.reserve(tenant: tenant, paymentId: id, fingerprint: 0, nowMillis: 0) == .reserved)
            index.record(tenant: tenant, paymentId: id, fingerprint: 0, response: response, atMillis: 0)
            recorded.append((tenant, response))
        }
        #expect(index.count == recorded.count)
        for (tenant, response) in recorded {
            expectSameAnswer(index.reserve(tenant: tenant, paymentId: response.paymentId, fingerprint: 0, nowMillis: 1), response)
        }
        // Compact records hold no side entry unless they have rules or did not fit.
        let extras = index.locks.reduce(0) { $0 + $1.shard.withLock { $0.extras.count } }
        let needingExtras = recorded.count(where: { response in
            let (_, extra) = index.compact(response.response, key: .init(tenant: "x", paymentId: "y", seed: index.seed), paymentId: response.response.paymentId, atMillis: 0)
            return extra != nil
        })
        #expect(extras == needingExtras)
        #expect(needingExtras < recorded.count / 2)
    }

    /// Now, in milliseconds: a shared store keeps an answer for the retention from its receive time by the wall clock.
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @Test(arguments: StateStoreKind.allCases)
    func idsAreKeptApartByTenantAndByWhereOneEnds(_ kind: StateStoreKind) async throws {
        let index = try await kind.duplicateStore()
        let now = Self.now()
        var random = Answers(state: 3)
        let first = random.engineLike(paymentId: "bc")
        try await index.record(tenant: "a", paymentId: "bc", fingerprint: 0, response: first, atMillis: now)
        #expect(try await index.reserve(tenant: "ab", paymentId: "c", fingerprint: 0, nowMillis: now) == .reserved)
        #expect(try await index.reserve(tenant: "b", paymentId: "bc", fingerprint: 0, nowMillis: now) == .reserved)
        expectSameAnswer(try await index.reserve(tenant: "a", paymentId: "bc", fingerprint: 0, nowMillis: now), first)
    }

    @Test(arguments: StateStoreKind.allCases)
    func aReservationIsInProgressUntilRecordedOrReleased(_ kind: StateStoreKind) async throws {
        let index = try await kind.duplicateStore()
        let now = Self.now()
        var random = Answers(state: 5)
        #expect(try await index.reserve(tenant: "t", paymentId: "p1", fingerprint: 0, nowMillis: now) == .reserved)
        #expect(try await index.reserve(tenant: "t", paymentId: "p1", fingerprint: 0, nowMillis: now) == .inProgress)
        if let count = index.entryCount { #expect(count == 1) }
        await index.release(tenant: "t", paymentId: "p1")
        if let count = index.entryCount { #expect(count == 0) }
        #expect(try await index.reserve(tenant: "t", paymentId: "p1", fingerprint: 0, nowMillis: now) == .reserved)
        let response = random.engineLike(paymentId: "p1")
        try await index.record(tenant: "t", paymentId: "p1", fingerprint: 0, response: response, atMillis: now)
        // Releasing a recorded id changes nothing.
        await index.release(tenant: "t", paymentId: "p1")
        expectSameAnswer(try await index.reserve(tenant: "t", paymentId: "p1", fingerprint: 0, nowMillis: now), response)
    }

    @Test(arguments: StateStoreKind.allCases)
    func anIdAnsweredForAnotherFingerprintIsReusedNotADuplicate(_ kind: StateStoreKind) async throws {
        let index = try await kind.duplicateStore()
        let now = Self.now()
        var random = Answers(state: 13)
        let response = random.engineLike(paymentId: "p1")
        #expect(try await index.reserve(tenant: "t", paymentId: "p1", fingerprint: 42, nowMillis: now) == .reserved)
        // While the first is being scored, any second request waits, whatever it carries.
        #expect(try await index.reserve(tenant: "t", paymentId: "p1", fingerprint: 43, nowMillis: now) == .inProgress)
        try await index.record(tenant: "t", paymentId: "p1", fingerprint: 42, response: response, atMillis: now)
        #expect(try await index.reserve(tenant: "t", paymentId: "p1", fingerprint: 43, nowMillis: now + 1) == .reused)
        expectSameAnswer(try await index.reserve(tenant: "t", paymentId: "p1", fingerprint: 42, nowMillis: now + 2), response)
        // Another tenant's id is its own.
        #expect(try await index.reserve(tenant: "u", paymentId: "p1", fingerprint: 43, nowMillis: now + 3) == .reserved)
    }

    /// Of many concurrent reservations of one id, exactly one wins, on either store.
    @Test(arguments: StateStoreKind.allCases)
    func concurrentReservationsOfOneIdHaveOneWinner(_ kind: StateStoreKind) async throws {
        let index = try await kind.duplicateStore()
        let now = Self.now()
        let winners = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<32 {
                group.addTask { try await index.reserve(tenant: "t", paymentId: "race", fingerprint: 7, nowMillis: now) == .reserved ? 1 : 0 }
            }
            return try await group.reduce(0, +)
        }
        #expect(winners == 1)
    }

    @Test func theFingerprintCoversEveryFieldButTheIdAndTheSealedValues() {
        let base = payment("p1", from: 1, to: 2, amount: "2500.00", at: 0)
        let fingerprint = DuplicateIndex.fingerprint(of: base)
        var same = base
        same.paymentId = "p2"
        same.debtor.sealedAccount = SealedValue(keyVersion: 2, bytes: [7, 7])
        same.sealedReference = SealedValue(keyVersion: 1, bytes: [1])
        #expect(DuplicateIndex.fingerprint(of: same) == fingerprint)

        let token = Token(a: 9, b: 9, c: 9, d: 9)
        let changes: [(String, (inout TokenizedPayment) -> Void)] = [
            ("amount", { $0.amount.minorUnits += 1 }),
            ("currency", { $0.amount.currency = Currency(code: "EUR")! }),
            ("createdAt", { $0.createdAt.epochMillis += 1 }),
            ("createdAt offset", { $0.createdAt.utcOffsetSeconds = 3600 }),
            ("perspective", { $0.perspective = .receiving }),
            ("type", { $0.type = .pull }),
            ("scheme", { $0.scheme = "SEPA_INST" }),
            ("channel", { $0.channel = nil }),
            ("debtor", { $0.debtor.account = token }),
            ("creditor", { $0.creditor.account = token }),
            ("creditor name", { $0.creditor.name = token }),
            ("debtor agent", { $0.debtor.agent = "OTHERBANK" }),
            ("payee first seen", { $0.payeeFirstSeenAt = Instant(epochMillis: 0) }),
            ("confirmation of payee", { $0.confirmationOfPayee = .noMatch }),
            ("device", { $0.device = token }),
            ("ip", { $0.ip = token }),
        ]
        for (name, change) in changes {
            var changed = base
            change(&changed)
            #expect(DuplicateIndex.fingerprint(of: changed) != fingerprint, "\(name)")
        }
    }

    @Test func answersExpireAfterTheRetentionWindowAndFreeTheirMemory() {
        let index = DuplicateIndex(retentionSeconds: 10)
        var random = Answers(state: 9)
        let first = random.engineLike(paymentId: "p0")
        index.record(tenant: "t", paymentId: "p0", fingerprint: 0, response: first, atMillis: 0)
        expectSameAnswer(index.reserve(tenant: "t", paymentId: "p0", fingerprint: 0, nowMillis: 10_000), first)
        #expect(index.reserve(tenant: "t", paymentId: "p0", fingerprint: 0, nowMillis: 10_001) == .reserved)
        index.release(tenant: "t", paymentId: "p0")

        // 200,000 payments, one per millisecond over 200 s: only the last 10 s stay, in a bounded number of chunks.
        for n in 1...200_000 {
            let id = "p\(n)"
            #expect(index.reserve(tenant: "t", paymentId: id, fingerprint: 0, nowMillis: Int64(n)) == .reserved)
            var response = random.engineLike(paymentId: id)
            response.rules = n % 2 == 0 ? [RuleFiring(name: "r", outcome: .review)] : []
            index.record(tenant: "t", paymentId: id, fingerprint: 0, response: response, atMillis: Int64(n))
        }
        #expect(index.reserve(tenant: "t", paymentId: "p1", fingerprint: 0, nowMillis: 200_000) == .reserved)
        index.release(tenant: "t", paymentId: "p1")
        // Every shard expires on its next reservation.
        for n in 0..<2_000 {
            _ = index.reserve(tenant: "t", paymentId: "probe\(n)", fingerprint: 0, nowMillis: 200_000)
            index.release(tenant: "t", paymentId: "probe\(n)")
        }
        #expect(index.count == 10_001)
        let chunks = index.locks.reduce(0) { $0 + $1.shard.withLock { $0.chunks.count } }
        let extras = index.locks.reduce(0) { $0 + $1.shard.withLock { $0.extras.count } }
        #expect(chunks <= 2 * index.locks.count)
        #expect((4_990...5_010).contains(extras))
    }

    @Test func aSecondRecordOfTheSameIdOutlivesTheFirst() {
        let index = DuplicateIndex(retentionSeconds: 10)
        var random = Answers(state: 11)
        let first = random.engineLike(paymentId: "p")
        let second = random.engineLike(paymentId: "p")
        index.record(tenant: "t", paymentId: "p", fingerprint: 0, response: first, atMillis: 0)
        index.record(tenant: "t", paymentId: "p", fingerprint: 0, response: second, atMillis: 5_000)
        expectSameAnswer(index.reserve(tenant: "t", paymentId: "p", fingerprint: 0, nowMillis: 10_001), second)
        #expect(index.reserve(tenant: "t", paymentId: "p", fingerprint: 0, nowMillis: 15_001) == .reserved)
    }

    @Test func aDuplicateIsTheOriginalJSONWithDuplicateSetAlsoAfterRecovery() async throws {
        let log = InMemoryEventLog()
        let model = ScoringEngineTests.model
        let engine = ScoringEngine(store: InMemoryFeatureStore(), log: log, model: model)
        let tenant = TenantPolicy(
            name: "bank-a", reviewThreshold: 600, blockThreshold: 900,
            rules: try TenantPolicy.compileRules(#"rule "big": amount >= 5000 -> block"#)
        )
        var originals: [ScoreResponse] = []
        for i in 0..<40 {
            let outcome = await engine.score(
                payment("p\(i)", from: UInt64(i % 4), to: UInt64(i % 7) + 10, amount: i % 5 == 0 ? "6000.00" : "120.00", at: Int64(i) * 20),
                tenant: tenant, receivedAt: Instant(epochMillis: 1000), started: .now
            )
            guard case .scored(let response) = outcome else {
                Issue.record("expected a score, got \(outcome)")
                return
            }
            originals.append(response)
        }
        #expect(originals.contains { !$0.rules.isEmpty })
        #expect(originals.contains { !$0.reasons.isEmpty })
        let recovered = ScoringEngine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: model)
        for record in log.records { try await recovered.replay(record, nowMillis: 2000) }
        for (i, original) in originals.enumerated() {
            var expected = original
            expected.duplicate = true
            let retry = payment("p\(i)", from: UInt64(i % 4), to: UInt64(i % 7) + 10, amount: i % 5 == 0 ? "6000.00" : "120.00", at: Int64(i) * 20)
            for current in [engine, recovered] {
                guard case .duplicate(let answer) = await current.score(retry, tenant: tenant, receivedAt: Instant(epochMillis: 3000), started: .now) else {
                    Issue.record("expected a duplicate of p\(i)")
                    continue
                }
                #expect(EventCoding.encode(answer) == EventCoding.encode(expected))
            }
        }
    }
}
