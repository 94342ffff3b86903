import Foundation
import Logging
import Synchronization
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
@testable import VigilServer

/// Shadow scoring: the challenger scores every payment the champion scored, off the response path, into `shadow`
/// records; and the model set a request reads, per tenant.
@Suite(.timeLimit(.minutes(1)))
struct ShadowScoringServiceTests {
    typealias Engine = ScoringEngine<InMemoryFeatureStore, InMemoryEventLog, DuplicateIndex>

    static let champion = try! ModelBundle.bundled()
    /// The bundled trees without their calibration: another model, whose scores differ from the champion's.
    static let challenger: ModelBundle = {
        var object = try! JSONSerialization.jsonObject(with: Data(try! ModelBundle.bundledBytes())) as! [String: Any]
        var learner = object["learner"] as! [String: Any]
        learner["attributes"] = [String: Any]()
        object["learner"] = learner
        return try! ModelBundle(xgboostJSON: Array(try! JSONSerialization.data(withJSONObject: object)))
    }()

    let policy = TenantPolicy(name: "bank-a", reviewThreshold: 600, blockThreshold: 900, rules: try! TenantPolicy.compileRules(""))

    static func payment(_ id: String, debtor: UInt64, amount: String) -> TokenizedPayment {
        let sealed = SealedValue(keyVersion: 1, bytes: [1, 2, 3])
        return TokenizedPayment(
            paymentId: id, perspective: .sending, type: .push, scheme: "FPS", channel: "web",
            amount: try! Money.parse(amount, currency: Currency(code: "GBP")!).get(),
            createdAt: Instant(epochMillis: 1_795_000_000_000),
            debtor: TokenizedParty(account: Token(a: debtor, b: 1, c: 0, d: 0), sealedAccount: sealed, agent: "BANKGB01"),
            creditor: TokenizedParty(account: Token(a: debtor, b: 2, c: 0, d: 0), sealedAccount: sealed)
        )
    }

    func score(_ engine: Engine, _ id: String, amount: String = "2500.00", tenant: TenantPolicy? = nil) async throws -> ScoreResponse {
        let outcome = await engine.score(
            Self.payment(id, debtor: UInt64(id.hashValue.magnitude), amount: amount), tenant: tenant ?? policy,
            receivedAt: Instant(epochMillis: 1_795_000_000_000), started: .now
        )
        guard case .scored(let response) = outcome else { throw CancellationError() }
        return response
    }

    static func shadows(_ log: InMemoryEventLog) throws -> [ShadowScoreEvent] {
        try log.records.compactMap { if case .shadow(let event) = try EventCoding.decodeRecord($0) { event } else { nil } }
    }

    static func scoredEvents(_ log: InMemoryEventLog) throws -> [ScoredPaymentEvent] {
        try log.records.compactMap { if case .scored(let event) = try EventCoding.decodeRecord($0) { event } else { nil } }
    }

    @Test func theChallengersScoreOfTheSameFeaturesIsLoggedAndTheResponseIsTheChampions() async throws {
        #expect(Self.champion.version != Self.challenger.version)
        let log = InMemoryEventLog()
        let engine = Engine(store: InMemoryFeatureStore(), log: log, model: Self.champion)
        engine.models.replace(ModelSet(champion: Self.champion, challenger: Self.challenger))
        let service = ShadowScoringService(queue: engine.shadows, log: log, logger: Logger(label: "test"))
        var responses: [ScoreResponse] = []
        for (i, amount) in ["12.00", "2500.00", "9800.00", "310.00"].enumerated() {
            responses.append(try await score(engine, "p\(i)", amount: amount))
        }
        // Answered before the challenger scored anything: nothing but the scored events is in the log yet.
        #expect(try Self.shadows(log).isEmpty)
        #expect(responses.allSatisfy { $0.modelVersion == Self.champion.version })

        #expect(await service.drain() == 4)
        let shadows = try Self.shadows(log)
        let scored = try Self.scoredEvents(log)
        #expect(shadows.map(\.paymentId) == ["p0", "p1", "p2", "p3"])
        var differs = false
        for (shadow, event) in zip(shadows, scored) {
            #expect(shadow.scoreId == event.response.scoreId)
            #expect(shadow.receivedAt == event.receivedAt && shadow.tenant == "bank-a")
            #expect(shadow.modelVersion == Self.challenger.version)
            // What the challenger answers for the features the champion scored, through the engine's own path.
            let features = event.features.map { $0 ?? .nan }
            let own = engine.assess(event.request, features: features, tenant: policy, model: Self.challenger)
            #expect(shadow.score == own.response.score)
            #expect(abs(shadow.probability - own.probability) < 1e-12)
            if shadow.score != event.response.score { differs = true }
        }
        // The test tells the two models apart.
        #expect(differs)
    }

    @Test func recoveryPassesOverShadowRecords() async throws {
        let log = InMemoryEventLog()
        let engine = Engine(store: InMemoryFeatureStore(), log: log, model: Self.champion)
        engine.models.replace(ModelSet(champion: Self.champion, challenger: Self.challenger))
        _ = try await score(engine, "p1")
        #expect(try await engine.shadows.drain(into: log) == 1)
        let recovered = Engine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: Self.champion)
        let folded = try await log.records.asyncMap { try await recovered.replay($0, nowMillis: 1_795_000_000_000) }
        #expect(folded.map { $0?.tenant } == ["bank-a", nil])
        #expect(recovered.duplicates.count == 1)
    }

    @Test func withoutAChallengerNothingIsQueuedOrLogged() async throws {
        let log = InMemoryEventLog()
        let engine = Engine(store: InMemoryFeatureStore(), log: log, model: Self.champion)
        let service = ShadowScoringService(queue: engine.shadows, log: log, logger: Logger(label: "test"))
        _ = try await score(engine, "p1")
        #expect(await service.drain() == 0)
        #expect(try Self.shadows(log).isEmpty)
        #expect(log.records.count == 1)
    }

    @Test func aFullQueueDropsAndCountsInsteadOfWaiting() async throws {
        let log = InMemoryEventLog()
        let queue = ShadowQueue(capacity: 2)
        let engine = Engine(store: InMemoryFeatureStore(), log: log, model: Self.champion, duplicates: DuplicateIndex(), shadows: queue)
        engine.models.replace(ModelSet(champion: Self.champion, challenger: Self.challenger))
        for i in 0..<5 { _ = try await score(engine, "p\(i)") }
        #expect(queue.dropped == 3)
        let service = ShadowScoringService(queue: queue, log: log, logger: Logger(label: "test"))
        #expect(await service.drain() == 2)
        #expect(try Self.shadows(log).map(\.paymentId) == ["p0", "p1"])
    }

    @Test func theRunningServiceLogsShadowsAsPaymentsAreScored() async throws {
        let log = InMemoryEventLog()
        let engine = Engine(store: InMemoryFeatureStore(), log: log, model: Self.champion)
        engine.models.replace(ModelSet(champion: Self.champion, challenger: Self.challenger))
        let service = ShadowScoringService(queue: engine.shadows, log: log, logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            for i in 0..<20 { _ = try await score(engine, "p\(i)") }
            let deadline = ContinuousClock.now + .seconds(20)
            while try Self.shadows(log).count < 20, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            group.cancelAll()
        }
        #expect(try Self.shadows(log).count == 20)
        #expect(service.counts.logged.load(ordering: .relaxed) == 20)
    }

    @Test func aTenantsOwnChampionAnswersForItAndTheGlobalOneForOthers() async throws {
        let engine = Engine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: Self.champion)
        engine.models.replace(ModelSet(champion: Self.champion, tenantChampions: ["bank-b": Self.challenger]))
        let bankB = TenantPolicy(name: "bank-b", reviewThreshold: 600, blockThreshold: 900, rules: try TenantPolicy.compileRules(""))
        #expect(try await score(engine, "a1").modelVersion == Self.champion.version)
        #expect(try await score(engine, "b1", tenant: bankB).modelVersion == Self.challenger.version)
        #expect(engine.models.current.roles == ["champion=\(Self.champion.version)", "tenant:bank-b=\(Self.challenger.version)"])
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
