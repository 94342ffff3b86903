import Foundation
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilRedisState
import VigilServer
import VigilStateTesting

/// The intake sink (``EngineIntakeSink``) on the in-process stores and on Redis: records change the features a payment
/// gets, each is logged as an intake record, a file loaded again changes nothing, and a load cut short between
/// applying and recording progress counts nothing twice once the node is rebuilt from its log.
struct EngineIntakeSinkTests {
    static let model = try! ModelBundle.bundled()
    static let policy = TenantPolicy(name: "bank-a", reviewThreshold: 600, blockThreshold: 900, rules: try! TenantPolicy.compileRules(""))
    static let base: Int64 = 1_795_000_000_000
    static let sealed = SealedValue(keyVersion: 1, bytes: [1, 2, 3])

    static func token(_ n: UInt64) -> Token { Token(a: n &* 0x9E37_79B9_7F4A_7C15, b: n, c: 7, d: 0) }

    static func payment(_ id: String, from debtor: UInt64, to creditor: UInt64, at millis: Int64, amount: String = "100.00") -> TokenizedPayment {
        TokenizedPayment(
            paymentId: id, perspective: .sending, type: .push, scheme: "FPS", channel: "web",
            amount: try! Money.parse(amount, currency: Currency(code: "GBP")!).get(), createdAt: Instant(epochMillis: base + millis),
            debtor: TokenizedParty(account: token(debtor), sealedAccount: sealed, institution: InstitutionCode(type: .sortCode, value: "040004")),
            creditor: TokenizedParty(account: token(creditor), sealedAccount: sealed, agent: "REVOGB21XXX", institution: InstitutionCode(type: .bic, value: "REVOGB21"))
        )
    }

    /// A day's files: a directory, an account map (accounts 1 and 5 are one customer's), history (account 5 paid
    /// twice, account 1 once), fraud reports and a FRAD return naming creditor 2, and entitlements.
    static func events(file: String = "f") -> [IntakeEvent] {
        let loadedAt = Instant(epochMillis: base - 3_600_000)
        var rows: [IntakeRecord] = [
            .directory(DirectoryEntry(code: InstitutionCode(type: .sortCode, value: "040004"), institution: "Bank", type: .bank, status: .active)),
            .directory(DirectoryEntry(code: InstitutionCode(type: .bic, value: "REVOGB21"), institution: "EMI", type: .emi, status: .active)),
            .accountLink(AccountLink(account: token(1), customer: token(900))),
            .accountLink(AccountLink(account: token(5), customer: token(900), card: token(901))),
            .history(payment("h1", from: 5, to: 30, at: -7_200_000)),
            .history(payment("h2", from: 5, to: 31, at: -3_600_000, amount: "50.00")),
            .history(payment("h3", from: 1, to: 30, at: -600_000, amount: "25.00")),
            .fraudReport(FraudReport(paymentId: "x1", uetr: nil, reportedAt: Instant(epochMillis: base - 5 * 86_400_000), fraudType: .appScam, creditorAccount: token(2))),
            .status(PaymentStatusReport(paymentId: "x2", uetr: nil, status: .returned, reasonCode: "FRAD", at: Instant(epochMillis: base - 2 * 86_400_000), creditorAccount: token(2))),
            // Not fraud: no report.
            .status(PaymentStatusReport(paymentId: "x3", uetr: nil, status: .returned, reasonCode: "AC04", at: Instant(epochMillis: base - 86_400_000), creditorAccount: token(2))),
        ]
        rows.append(.entitlements([
            Entitlement(codeType: .sortCode, from: "040000", to: "040099", perspectives: [.sending], products: nil, validFrom: Instant(epochMillis: 0), validTo: nil)
        ]))
        return rows.enumerated().map { index, record in
            IntakeEvent(tenant: "bank-a", fileId: file, row: index + 2, loadedAt: loadedAt, record: record)
        }
    }

    /// The features a probe payment from account 1 to creditor 2 gets.
    static func probe<S: FeatureStore, D: DuplicateStore>(_ engine: ScoringEngine<S, InMemoryEventLog, D>, id: String = "probe") async throws -> [Double?] {
        guard case .scored = await engine.score(payment(id, from: 1, to: 2, at: 0), tenant: policy, receivedAt: Instant(epochMillis: base), started: .now) else {
            throw CancellationError()
        }
        guard case .scored(let event) = try EventCoding.decodeRecord(try #require(engine.log.records.last)) else { throw CancellationError() }
        return event.features
    }

    static func value(_ features: [Double?], _ feature: Feature) -> Double? { features[feature.rawValue] }

    /// Makes engines over fresh stores of one kind.
    struct Stores<S: FeatureStore, D: DuplicateStore>: Sendable {
        let make: @Sendable () async throws -> (S, D, any ReferenceStore)

        func engine() async throws -> ScoringEngine<S, InMemoryEventLog, D> {
            let (store, duplicates, reference) = try await make()
            return ScoringEngine(store: store, log: InMemoryEventLog(), model: model, duplicates: duplicates, reference: reference)
        }
    }

    static let memory = Stores { (InMemoryFeatureStore(), DuplicateIndex(), InMemoryReferenceStore()) }
    static let redis = Stores {
        (
            try await StateStoreKind.redis.featureStore() as! RedisFeatureStore,
            try await StateStoreKind.redis.duplicateStore() as! RedisDuplicateStore, try await StateStoreKind.redis.referenceStore()
        )
    }

    @Test(arguments: [StateStoreKind.memory, .redis])
    func loadedRecordsReachTheFeaturesAndTheLog(_ kind: StateStoreKind) async throws {
        if kind == .memory { try await loadedRecordsReachTheFeaturesAndTheLog(Self.memory) } else { try await loadedRecordsReachTheFeaturesAndTheLog(Self.redis) }
    }

    func loadedRecordsReachTheFeaturesAndTheLog<S, D>(_ stores: Stores<S, D>) async throws {
        let engine = try await stores.engine()
        let sink = EngineIntakeSink(engine: engine)
        let events = Self.events()
        try await sink.load(events)
        #expect(try await sink.loadedRow(tenant: "bank-a", fileId: "f") == events.last!.row)
        #expect(engine.log.records.count == events.count)
        for (payload, event) in zip(engine.log.records, events) { #expect(try EventCoding.decodeRecord(payload) == .intake(event)) }

        let features = try await Self.probe(engine)
        #expect(Self.value(features, .creditorReportedFraudCount90d) == 2)
        // Known from their loading an hour before the payment, aged from when they were made: the FRAD return, 2 days.
        #expect(Self.value(features, .creditorDaysSinceLastReport) == 2)
        #expect(Self.value(features, .debtorInstitutionType) == InstitutionType.bank.featureCode)
        #expect(Self.value(features, .creditorInstitutionType) == InstitutionType.emi.featureCode)
        #expect(Self.value(features, .customerLinkedAccounts) == 2)
        // Both accounts' payments count for the customer; account 1's own count has only its own.
        #expect(Self.value(features, .customerCount24h) == 3)
        #expect(Self.value(features, .customerSum24h) == 175)
        #expect(Self.value(features, .customerCount7d) == 3)
        #expect(Self.value(features, .customerDistinctCreditors24h) == 2)
        #expect(Self.value(features, .debtorCount24h) == 1)
        #expect(try await engine.reference.entitlements(tenant: "bank-a")?.count == 1)
    }

    @Test(arguments: [StateStoreKind.memory, .redis])
    func aFileLoadedAgainChangesNothing(_ kind: StateStoreKind) async throws {
        if kind == .memory { try await aFileLoadedAgainChangesNothing(Self.memory) } else { try await aFileLoadedAgainChangesNothing(Self.redis) }
    }

    func aFileLoadedAgainChangesNothing<S, D>(_ stores: Stores<S, D>) async throws {
        let once = try await stores.engine()
        try await EngineIntakeSink(engine: once).load(Self.events())
        let twice = try await stores.engine()
        let sink = EngineIntakeSink(engine: twice)
        try await sink.load(Self.events())
        try await sink.load(Self.events())
        // A new sink over the same stores (a restarted pipeline) skips it too.
        try await EngineIntakeSink(engine: twice).load(Array(Self.events().suffix(4)))
        #expect(twice.log.records.count == Self.events().count)
        let expected = try await Self.probe(once)
        let got = try await Self.probe(twice)
        #expect(got.map { $0.map(\.bitPattern) } == expected.map { $0.map(\.bitPattern) })
    }

    /// A node killed after applying a record but before recording its progress: its in-process state is rebuilt from
    /// the log (the record logged: it is applied with its progress; or not logged: it is gone with the state), then
    /// the pipeline loads the file again.
    @Test(arguments: [true, false])
    func aLoadCutShortCountsNothingTwiceAfterRecovery(logged: Bool) async throws {
        let events = Self.events()
        let cut = 6  // a history row
        let crashed = try await Self.memory.engine()
        try await EngineIntakeSink(engine: crashed).load(Array(events[..<cut]))
        try await crashed.apply(events[cut], recordingProgress: false)
        if logged { _ = try await crashed.log.append(EventCoding.record(events[cut])) }

        let rebuilt = try await Self.memory.engine()
        for payload in crashed.log.records { try await rebuilt.replay(payload, nowMillis: Self.base) }
        #expect(try await rebuilt.reference.loadedRow(fileId: "bank-a/f") == (logged ? events[cut].row : events[cut - 1].row))
        try await EngineIntakeSink(engine: rebuilt).load(events)
        #expect(rebuilt.log.records.count == events.count - (logged ? cut + 1 : cut))

        let clean = try await Self.memory.engine()
        try await EngineIntakeSink(engine: clean).load(events)
        let expected = try await Self.probe(clean)
        let got = try await Self.probe(rebuilt)
        #expect(got.map { $0.map(\.bitPattern) } == expected.map { $0.map(\.bitPattern) })
    }

    /// On Redis the state outlives the node: a record applied but neither logged nor recorded is applied again by the
    /// next load, and the store recognises it (the history payment by its consortium identity, the rest by value).
    @Test func aLoadCutShortOnRedisCountsNothingTwice() async throws {
        let events = Self.events()
        let crashed = try await Self.redis.engine()
        try await EngineIntakeSink(engine: crashed).load(Array(events[..<6]))
        try await crashed.apply(events[6], recordingProgress: false)
        try await crashed.apply(events[7], recordingProgress: false)
        let restarted = ScoringEngine(
            store: crashed.extractor.store, log: InMemoryEventLog(), model: Self.model, duplicates: crashed.duplicates, reference: crashed.reference
        )
        try await EngineIntakeSink(engine: restarted).load(events)
        let clean = try await Self.redis.engine()
        try await EngineIntakeSink(engine: clean).load(events)
        let expected = try await Self.probe(clean)
        let got = try await Self.probe(restarted)
        #expect(got.map { $0.map(\.bitPattern) } == expected.map { $0.map(\.bitPattern) })
    }
}
