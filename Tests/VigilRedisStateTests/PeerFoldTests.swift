import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Logging
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
@testable import VigilServer
import VigilStateTesting

/// Folding the peer region's scored payments (``PeerFold``, fed by ``InMemoryPeerEventSource``) into this region's
/// state, on the in-process store and on Redis: the features match the peer's own, whatever the order and however
/// often an event comes; the peer's answers become duplicates here unless this region answered the id itself; pinned
/// and unknown tenants are left out; nothing folded is logged here.
struct PeerFoldTests {
    static let model = try! ModelBundle.bundled()
    static let policy = TenantPolicy(name: "bank-a", reviewThreshold: 600, blockThreshold: 900, rules: try! TenantPolicy.compileRules(""))

    static func token() -> Token { Token(a: .random(in: 0...UInt64.max), b: .random(in: 0...UInt64.max), c: 0, d: 0) }

    static func payment(_ id: String, from debtor: Token, to creditor: Token, amount: String = "120.00", createdAt: Int64) -> TokenizedPayment {
        let sealed = SealedValue(keyVersion: 1, bytes: [1, 2, 3])
        return TokenizedPayment(
            paymentId: id, perspective: .sending, type: .push, scheme: "FPS", channel: "web",
            amount: try! Money.parse(amount, currency: Currency(code: "GBP")!).get(), createdAt: Instant(epochMillis: createdAt),
            debtor: TokenizedParty(account: debtor, sealedAccount: sealed, agent: "BANKGB01"),
            creditor: TokenizedParty(account: creditor, sealedAccount: sealed)
        )
    }

    /// Scores `payment` and returns its answer and the features logged with it.
    static func score<S: FeatureStore, D: DuplicateStore>(
        _ payment: TokenizedPayment, at receivedAt: Int64, on engine: ScoringEngine<S, InMemoryEventLog, D>, tenant: TenantPolicy = policy
    ) async throws -> (ScoreResponse, [Double?], [UInt8]) {
        guard case .scored(let response) = await engine.score(payment, tenant: tenant, receivedAt: Instant(epochMillis: receivedAt), started: .now)
        else { throw CancellationError() }
        let payload = try #require(engine.log.records.last)
        guard case .scored(let event) = try EventCoding.decodeRecord(payload) else { throw CancellationError() }
        // What the peer's stream carries: the record's export JSON with `schema` and `sequence` (the shipper's message).
        return (response, event.features, try StreamMessage(sequence: UInt64(engine.log.records.count - 1), record: payload).value)
    }

    /// A tenant table with `bank-a` (any region) and `pinned` (region a only).
    static func tenants() throws -> TenantTable {
        let dir = NSTemporaryDirectory() + "vigil-peer-fold-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let directory = TenantDirectory(dataDirectory: dir)
        _ = try directory.create(name: "bank-a")
        _ = try directory.create(name: "pinned")
        try directory.update { $0[1].regions = ["a"] }
        return try directory.load()
    }

    @Test(arguments: [StateStoreKind.memory, .redis])
    func thePeersPaymentsAreFoldedOnceAtTheirOwnTime(_ kind: StateStoreKind) async throws {
        try await run(store: try await kind.featureStore(), duplicates: try await kind.duplicateStore())
    }

    func run<S: FeatureStore, D: DuplicateStore>(store: S, duplicates: D) async throws {
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let (debtor, creditor, pinnedDebtor, ownDebtor) = (Self.token(), Self.token(), Self.token(), Self.token())
        // Region a scores two payments of one debtor, the first created two hours before it arrived, and one of a
        // tenant pinned to region a.
        let a = ScoringEngine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: Self.model, duplicates: DuplicateIndex())
        let early = Self.payment("p-1", from: debtor, to: creditor, createdAt: now - 7_200_000)
        let (answer1, _, event1) = try await Self.score(early, at: now - 2000, on: a)
        let (_, _, event2) = try await Self.score(Self.payment("p-2", from: debtor, to: creditor, createdAt: now - 60_000), at: now - 1000, on: a)
        let pinnedPolicy = TenantPolicy(name: "pinned", reviewThreshold: 600, blockThreshold: 900, rules: Self.policy.rules)
        let (_, _, pinnedEvent) = try await Self.score(
            Self.payment("p-3", from: pinnedDebtor, to: Self.token(), createdAt: now - 1000), at: now - 900, on: a, tenant: pinnedPolicy
        )
        // …and an id region b answered itself, for another payment.
        let (_, _, otherUse) = try await Self.score(Self.payment("own", from: Self.token(), to: creditor, createdAt: now - 800), at: now - 800, on: a)

        let bLog = InMemoryEventLog()
        let b = ScoringEngine(store: store, log: bLog, model: Self.model, duplicates: duplicates)
        let own = Self.payment("own", from: ownDebtor, to: Self.token(), createdAt: now - 700)
        let (ownAnswer, _, _) = try await Self.score(own, at: now - 700, on: b)

        let link = RegionLink(region: "b", peer: "a")
        link.update(tenants: try Self.tenants())
        let source = InMemoryPeerEventSource()
        let unknownTenant = try #require(String(bytes: event2, encoding: .utf8)?.replacingOccurrences(of: "\"bank-a\"", with: "\"bank-z\""))
        // The late event (created two hours before it arrived) with the newer one, a duplicate-answered record, a record
        // that is not an event, a pinned tenant's and an unknown tenant's; then the first two again, out of order, as a
        // redelivery. (First-time flags depend on the order payments are applied in: docs/regions.md.)
        let answered = EventCoding.encode(
            DuplicateAnsweredEvent(tenant: "bank-a", paymentId: "p-1", receivedAt: Instant(epochMillis: now - 500), originalScoreId: answer1.scoreId)
        )
        source.append([event1, event2, answered, Array("{}".utf8), pinnedEvent, Array(unknownTenant.utf8), otherUse])
        let fold = PeerFold(engine: b, answers: duplicates, source: source, link: link, logger: Logger(label: "test"))
        try await fold.fold(try await source.next(), nowMillis: now)
        try await source.commit()
        source.append([event2, event1])
        try await fold.fold(try await source.next(), nowMillis: now)
        try await source.commit()
        #expect(source.offsets == (9, 9))
        #expect(link.statistics.folded == 5)
        #expect(link.statistics.foldSkipped == 4)
        #expect(link.replicationLagSeconds(nowMillis: now + 700) == 1.5)
        // Nothing folded reached region b's log: it holds b's own payment only.
        #expect(bLog.records.count == 1)

        // A third payment of the debtor sees the same history in both regions.
        let probe = Self.payment("p-4", from: debtor, to: creditor, createdAt: now)
        let (_, atA, _) = try await Self.score(probe, at: now, on: a)
        let (_, atB, _) = try await Self.score(probe, at: now, on: b)
        #expect(atA.map { $0 ?? .nan }.elementsEqual(atB.map { $0 ?? .nan }) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(atA) \(atB)")
        // …which is not what a debtor without history sees.
        let fresh = ScoringEngine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: Self.model, duplicates: DuplicateIndex())
        let (_, unseen, _) = try await Self.score(probe, at: now, on: fresh)
        #expect(!unseen.map { $0 ?? .nan }.elementsEqual(atB.map { $0 ?? .nan }) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        // The pinned tenant's payment was left out: its debtor has no history in region b.
        let pinnedProbe = Self.payment("p-5", from: pinnedDebtor, to: Self.token(), createdAt: now)
        let (_, pinnedAtB, _) = try await Self.score(pinnedProbe, at: now, on: b)
        let (_, pinnedFresh, _) = try await Self.score(pinnedProbe, at: now, on: fresh)
        #expect(pinnedAtB.map { $0 ?? .nan }.elementsEqual(pinnedFresh.map { $0 ?? .nan }) { $0 == $1 || ($0.isNaN && $1.isNaN) })

        // Region a's answer is region b's duplicate; b's own answer for "own" stands.
        let retry = try await duplicates.reserve(tenant: "bank-a", paymentId: "p-1", fingerprint: DuplicateIndex.fingerprint(of: early), nowMillis: now)
        guard case .duplicate(let recorded) = retry else { Issue.record("p-1 is not a duplicate in region b: \(retry)"); return }
        #expect(recorded.scoreId == answer1.scoreId)
        #expect(recorded.score == answer1.score)
        let ownRetry = try await duplicates.reserve(tenant: "bank-a", paymentId: "own", fingerprint: DuplicateIndex.fingerprint(of: own), nowMillis: now)
        guard case .duplicate(let kept) = ownRetry else { Issue.record("own is not b's duplicate: \(ownRetry)"); return }
        #expect(kept.scoreId == ownAnswer.scoreId)
    }

    /// A node given the peer's stream folds it as a service and shows the link in `/metrics`.
    @Test func aNodeFoldsThePeersStreamAndShowsTheLagInMetrics() async throws {
        let dir = NSTemporaryDirectory() + "vigil-peer-node-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = VigilConfiguration()
        configuration.dataDirectory = dir
        configuration.port = 0
        configuration.region = "b"
        configuration.peerRegion = "a"
        _ = try Administration(configuration: configuration, actor: AuditLog.Actor(name: "test")).createTenant(name: "bank-a")
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let a = ScoringEngine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: Self.model, duplicates: DuplicateIndex())
        let (_, _, event) = try await Self.score(Self.payment("m-1", from: Self.token(), to: Self.token(), createdAt: now - 3000), at: now - 3000, on: a)
        let source = InMemoryPeerEventSource()
        source.append([event])
        let app = try await buildApplication(
            configuration: configuration, backend: .embedded(duplicateRetentionHours: 48), logger: Logger(label: "b"), peerEvents: source
        )
        try await app.test(.router) { http in
            var metrics = ""
            for _ in 0..<500 {
                metrics = try await http.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                if metrics.contains("vigil_region_events_folded_total 1") { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(metrics.contains("vigil_region_events_folded_total 1"), "\(metrics)")
            let lag = metrics.split(separator: "\n").first { $0.hasPrefix("vigil_region_replication_lag_seconds ") }
            #expect(lag.flatMap { Double($0.split(separator: " ")[1]) }.map { $0 >= 3 } == true, "\(metrics)")
            #expect(metrics.contains("vigil_region_peer_write_misses_total 0"))
        }
        #expect(source.offsets == (1, 1))
        // Folded, not logged.
        var records = 0
        try FileEventLog.read(directory: dir + "/events") { _, _ in records += 1 }
        #expect(records == 0)
    }

    /// Loaded daily-file records folded from the peer: the reference data (a directory row, an account link, a
    /// report, entitlements) and history payments reach this region's state, in order; a pinned tenant's do not.
    @Test(arguments: [StateStoreKind.memory, .redis])
    func thePeersIntakeRecordsAreApplied(_ kind: StateStoreKind) async throws {
        try await foldIntake(store: try await kind.featureStore(), duplicates: try await kind.duplicateStore(), reference: try await kind.referenceStore())
    }

    func foldIntake<S: FeatureStore, D: DuplicateStore>(store: S, duplicates: D, reference: any ReferenceStore) async throws {
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let (debtor, creditor, customer) = (Self.token(), Self.token(), Self.token())
        let a = ScoringEngine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: Self.model, duplicates: DuplicateIndex())
        let records: [IntakeRecord] = [
            .directory(DirectoryEntry(code: InstitutionCode(type: .bic, value: "BANKGB01"), institution: "Bank", type: .paymentInstitution, status: .active)),
            .accountLink(AccountLink(account: debtor, customer: customer)),
            .fraudReport(FraudReport(paymentId: "x", uetr: nil, reportedAt: Instant(epochMillis: now - 86_400_000), fraudType: .mule, creditorAccount: creditor)),
            .history(Self.payment("h-1", from: debtor, to: Self.token(), createdAt: now - 3_600_000)),
            .entitlements([]),
        ]
        try await EngineIntakeSink(engine: a).load(records.enumerated().map {
            IntakeEvent(tenant: "bank-a", fileId: "f", row: $0.offset + 2, loadedAt: Instant(epochMillis: now - 7_200_000), record: $0.element)
        })
        let pinned = IntakeEvent(
            tenant: "pinned", fileId: "g", row: 2, loadedAt: Instant(epochMillis: now), record: .accountLink(AccountLink(account: debtor, customer: customer))
        )
        try await EngineIntakeSink(engine: a).load([pinned])
        let messages = try a.log.records.enumerated().map { try StreamMessage(sequence: UInt64($0.offset), record: $0.element).value }

        let b = ScoringEngine(store: store, log: InMemoryEventLog(), model: Self.model, duplicates: duplicates, reference: reference)
        let link = RegionLink(region: "b", peer: "a")
        link.update(tenants: try Self.tenants())
        let source = InMemoryPeerEventSource()
        source.append(messages)
        let fold = PeerFold(engine: b, answers: duplicates, source: source, link: link, logger: Logger(label: "test"))
        try await fold.fold(try await source.next(), nowMillis: now)
        try await source.commit()

        let query = ReferenceQuery(
            tenant: "bank-a", debtor: debtor, creditor: creditor, debtorInstitution: InstitutionCode(type: .bic, value: "BANKGB01"), creditorInstitution: nil
        )
        let facts = try await b.reference.facts(query)
        #expect(facts == (try await a.reference.facts(query)))
        #expect(facts.customer == customer)
        #expect(facts.creditorReports.count == 1)
        #expect(facts.debtorInstitution == .paymentInstitution)
        #expect(try await b.reference.entitlements(tenant: "bank-a") == [])
        #expect(try await b.reference.entitlements(tenant: "pinned") == nil)
        #expect(try await b.reference.loadedRow(fileId: "bank-a/f") == records.count + 1)
        #expect(try await b.reference.loadedRow(fileId: "pinned/g") == 0)
        // The history payment is in b's feature state: the debtor's next payment sees it, in both regions alike.
        let probe = Self.payment("p-9", from: debtor, to: creditor, createdAt: now)
        let (_, atA, _) = try await Self.score(probe, at: now, on: a)
        let (_, atB, _) = try await Self.score(probe, at: now, on: b)
        #expect(atB[Feature.debtorCount24h.rawValue] == 1)
        #expect(atB[Feature.customerCount24h.rawValue] == 1)
        #expect(atA.map { $0 ?? .nan }.elementsEqual(atB.map { $0 ?? .nan }) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(atA) \(atB)")
    }

    /// Run-time labels folded from the peer reach this region's consortium list as they did the peer's; a pinned
    /// tenant's do not.
    @Test func thePeersLabelsAreApplied() async throws {
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let creditor = Self.token()
        let a = ScoringEngine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: Self.model, duplicates: DuplicateIndex())
        func label(_ tenant: String, _ id: String) -> LabelEvent {
            LabelEvent(
                tenant: tenant, receivedAt: Instant(epochMillis: now - 60_000), source: .api,
                record: .fraudReport(FraudReport(paymentId: id, uetr: nil, reportedAt: Instant(epochMillis: now - 86_400_000), fraudType: .mule, creditorAccount: creditor))
            )
        }
        let outcome = LabelEvent(
            tenant: "bank-a", receivedAt: Instant(epochMillis: now - 30_000), source: .pacs002,
            record: .outcome(PaymentStatusReport(paymentId: "y", uetr: nil, status: .returned, reasonCode: "FRAD", at: Instant(epochMillis: now - 40_000), creditorAccount: creditor))
        )
        for event in [label("bank-a", "x"), outcome, label("pinned", "z")] {
            _ = try await a.log.append(EventCoding.record(event))
            try await a.apply(event)
        }
        let messages = try a.log.records.enumerated().map { try StreamMessage(sequence: UInt64($0.offset), record: $0.element).value }

        let duplicates = DuplicateIndex()
        let b = ScoringEngine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: Self.model, duplicates: duplicates)
        let link = RegionLink(region: "b", peer: "a")
        link.update(tenants: try Self.tenants())
        let source = InMemoryPeerEventSource()
        source.append(messages)
        let fold = PeerFold(engine: b, answers: duplicates, source: source, link: link, logger: Logger(label: "test"))
        try await fold.fold(try await source.next(), nowMillis: now)
        try await source.commit()

        let query = ReferenceQuery(tenant: "bank-c", debtor: Self.token(), creditor: creditor, debtorInstitution: nil, creditorInstitution: nil)
        #expect(try await a.reference.facts(query).creditorReports.count == 3)
        // bank-a's report and FRAD return, not the pinned tenant's report.
        #expect(try await b.reference.facts(query).creditorReports.count == 2)
    }
}
