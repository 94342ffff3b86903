import Foundation
import Logging
import Synchronization
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilServer

/// Snapshots of the embedded state taken while payments are scored: snapshot + log tail recovers what a full replay
/// recovers.
@Suite(.timeLimit(.minutes(2)))
struct StateSnapshotsTests {
    static let model = try! ModelBundle.bundled()

    static func token(_ n: UInt64) -> Token { Token(a: n &* 0x9E37_79B9_7F4A_7C15, b: n, c: 7, d: 9) }

    static func payment(_ id: String, from debtor: UInt64, to creditor: UInt64, minor: Int64, at seconds: Int64) -> TokenizedPayment {
        let sealed = SealedValue(keyVersion: 1, bytes: [1, 2, 3])
        return TokenizedPayment(
            paymentId: id, perspective: .sending, type: .push, scheme: "FPS", channel: "web",
            amount: Money(minorUnits: minor, currency: Currency(code: "GBP")!),
            createdAt: Instant(epochMillis: (1_795_000_000 + seconds) * 1000),
            debtor: TokenizedParty(account: token(debtor), sealedAccount: sealed, agent: "BANKGB01"),
            creditor: TokenizedParty(account: token(creditor), sealedAccount: sealed),
            device: token(500 + debtor % 7), ip: token(600 + debtor % 5)
        )
    }

    static func tenant(_ name: String) throws -> TenantPolicy {
        TenantPolicy(name: name, reviewThreshold: 600, blockThreshold: 900, rules: try TenantPolicy.compileRules(""))
    }

    typealias Engine = ScoringEngine<InMemoryFeatureStore, InMemoryEventLog, DuplicateIndex>

    /// Replays `payloads` into a fresh engine, after restoring `loaded` into it if given.
    static func recovered(_ payloads: [[UInt8]], nowMillis: Int64) async throws -> Engine {
        let engine = Engine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: model, duplicates: DuplicateIndex())
        for payload in payloads { try await engine.replay(payload, nowMillis: nowMillis) }
        return engine
    }

    @Test func aSnapshotTakenWhileScoringPlusTheTailRecoversWhatAFullReplayRecovers() async throws {
        let dir = temporaryDataDirectory()
        let log = try FileEventLog(directory: dir + "/events", segmentBytes: 256 << 10)
        let (store, index) = (InMemoryFeatureStore(), DuplicateIndex())
        let engine = ScoringEngine(store: store, log: log, model: Self.model, duplicates: index)
        let snapshots = StateSnapshots(store: store, duplicates: index, usage: nil, log: log, dataDirectory: dir)
        let (bankA, bankB) = (try Self.tenant("bank-a"), try Self.tenant("bank-b"))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let total = 2400
        let taken = try await withThrowingTaskGroup(of: StateSnapshots.Summary?.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for i in stride(from: worker, to: total, by: 8) {
                        let sent = Self.payment("p\(i)", from: UInt64(i % 40), to: UInt64(i % 30) + 100, minor: Int64(1000 + i * 7), at: Int64(i))
                        _ = await engine.score(sent, tenant: bankA, receivedAt: Instant(epochMillis: now), started: .now)
                        // The creditor's bank scores every third payment too: the same consortium payment, applied once.
                        if i % 3 == 0 { _ = await engine.score(sent, tenant: bankB, receivedAt: Instant(epochMillis: now), started: .now) }
                    }
                    return nil
                }
            }
            group.addTask {
                while log.nextSequence < 800 { try await Task.sleep(for: .milliseconds(1)) }
                return try await snapshots.take()
            }
            var taken: StateSnapshots.Summary?
            for try await result in group where result != nil { taken = result }
            return taken
        }
        await log.shutdown()
        let summary = try #require(taken)
        #expect(summary.sequence >= 800 && summary.sequence < UInt64(total + total / 3), "taken while scoring went on")

        let reopened = try FileEventLog(directory: dir + "/events", segmentBytes: 256 << 10)
        var all: [(UInt64, [UInt8])] = []
        try reopened.forEach { all.append(($0, $1)) }
        let full = try await Self.recovered(all.map(\.1), nowMillis: now)

        let fromSnapshot = Engine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: Self.model, duplicates: DuplicateIndex())
        let restored = StateSnapshots(
            store: fromSnapshot.extractor.store, duplicates: fromSnapshot.duplicates, usage: nil, log: reopened, dataDirectory: dir)
        let loaded = try await restored.load(logger: Logger(label: "test"))
        #expect(loaded.snapshot == summary.sequence)
        #expect(loaded.replayFrom == summary.sequence)
        var tail: [[UInt8]] = []
        try reopened.forEach(from: loaded.replayFrom) { _, payload in tail.append(payload) }
        #expect(tail.count == all.count - Int(summary.sequence))
        for payload in tail { try await fromSnapshot.replay(payload, nowMillis: now) }
        await reopened.shutdown()

        #expect(fromSnapshot.extractor.store.counts == full.extractor.store.counts)
        // Every debtor, creditor, device and IP read back through a probe payment, in the same order on both.
        for debtor in 0..<40 {
            let probe = Self.payment("probe\(debtor)", from: UInt64(debtor), to: UInt64(debtor % 30) + 100, minor: 5000, at: Int64(total + 60))
            var a: [Double] = []
            var b: [Double] = []
            try await fromSnapshot.extractor.observe(probe, into: &a)
            try await full.extractor.observe(probe, into: &b)
            #expect(a.elementsEqual(b) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "debtor \(debtor)")
        }
        for i in 0..<total {
            let sent = Self.payment("p\(i)", from: UInt64(i % 40), to: UInt64(i % 30) + 100, minor: Int64(1000 + i * 7), at: Int64(i))
            let fingerprint = DuplicateIndex.fingerprint(of: sent)
            for name in i % 3 == 0 ? ["bank-a", "bank-b"] : ["bank-a"] {
                let a = fromSnapshot.duplicates.reserve(tenant: name, paymentId: sent.paymentId, fingerprint: fingerprint, nowMillis: now)
                let b = full.duplicates.reserve(tenant: name, paymentId: sent.paymentId, fingerprint: fingerprint, nowMillis: now)
                guard case .duplicate = a else {
                    Issue.record("\(name) \(sent.paymentId) is not remembered after snapshot + tail: \(a)")
                    continue
                }
                #expect(a == b)
            }
        }
    }

    @Test func aSnapshotRoundTripsTheStateByteForByte() async throws {
        let dir = temporaryDataDirectory()
        let log = try FileEventLog(directory: dir + "/events", segmentBytes: 256 << 10)
        let (store, index) = (InMemoryFeatureStore(), DuplicateIndex())
        let engine = ScoringEngine(store: store, log: log, model: Self.model, duplicates: index)
        let rules = try TenantPolicy.compileRules(#"rule "big": amount > 30 -> review"#)
        let bank = TenantPolicy(name: "bank-a", reviewThreshold: 600, blockThreshold: 900, rules: rules)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for i in 0..<300 {
            let sent = Self.payment("r\(i)", from: UInt64(i % 11), to: UInt64(i % 13) + 50, minor: Int64(500 + i * 31), at: Int64(i * 40))
            _ = await engine.score(sent, tenant: bank, receivedAt: Instant(epochMillis: now), started: .now)
        }
        let usage = UsageLimiter()
        let snapshots = StateSnapshots(store: store, duplicates: index, usage: usage, log: log, dataDirectory: dir)
        let summary = try await snapshots.take()
        #expect(summary.sequence == 300)
        let bytes = try snapshots.directory.read(sequence: 300)
        let decoded = try Snapshot.decode(bytes, duplicateShards: index.shardCount)
        // Decoded and encoded again, the file is the same bytes: nothing is lost or reordered.
        let again = Snapshot(
            sequence: decoded.sequence, createdAtMillis: decoded.createdAtMillis, features: decoded.features,
            duplicates: decoded.duplicates, usage: decoded.usage, reference: decoded.reference)
        let same = again.encode().flatMap { $0 } == bytes
        #expect(same)
        #expect(decoded.features.counts == store.counts)
        #expect(decoded.duplicates.count == 300)
        await log.shutdown()
    }

    /// A snapshot written before issue 14 (feature section format 2) still loads; format 1 does not
    /// (`SnapshotRecoveryTests` case `olderFeatureSection`). An empty store's section has the same bytes in both, so
    /// only the header says which.
    @Test func aSnapshotWithAFormatTwoFeatureSectionLoads() throws {
        let index = DuplicateIndex()
        let snapshot = Snapshot(sequence: 7, createdAtMillis: 0, features: InMemoryFeatureStore().capture(), duplicates: index.capture(), usage: [])
        var bytes = snapshot.encode().flatMap { $0 }
        // The feature section's format sits at 36 (after the 32-byte header and the section's kind).
        #expect(bytes[32] == 1 && bytes[36] == 3)
        bytes[36] = 2
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 4)])) }
        withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { bytes[bytes.count - 4 + i] = $0[i] } }
        let decoded = try Snapshot.decode(bytes, duplicateShards: index.shardCount)
        #expect(decoded.sequence == 7)
        #expect(decoded.features.counts == (accounts: 0, pairs: 0, entities: 0))
        bytes[36] = 4
        let crc4 = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 4)])) }
        withUnsafeBytes(of: crc4.littleEndian) { for i in 0..<4 { bytes[bytes.count - 4 + i] = $0[i] } }
        #expect(throws: SnapshotError.self) { try Snapshot.decode(bytes, duplicateShards: index.shardCount) }
    }

    /// The reference data (reports, directory, links, entitlements, file progress) is in the snapshot: restored
    /// without the log records that loaded it (retention deleted them), it answers as before, and the file decodes and
    /// encodes to the same bytes.
    @Test func aSnapshotHoldsTheReferenceData() async throws {
        let dir = temporaryDataDirectory()
        let log = try FileEventLog(directory: dir + "/events", segmentBytes: 256 << 10)
        let (store, index, reference) = (InMemoryFeatureStore(), DuplicateIndex(), InMemoryReferenceStore())
        let engine = ScoringEngine(store: store, log: log, model: Self.model, duplicates: index, reference: reference)
        let loadedAt = Instant(epochMillis: 1_795_000_000_000)
        let records: [IntakeRecord] = [
            .directory(DirectoryEntry(code: InstitutionCode(type: .sortCode, value: "040004"), institution: "A building society", type: .buildingSociety, status: .active)),
            .accountLink(AccountLink(account: Self.token(1), customer: Self.token(900))),
            .accountLink(AccountLink(account: Self.token(2), customer: Self.token(900))),
            .fraudReport(FraudReport(paymentId: "x", uetr: nil, reportedAt: loadedAt, fraudType: .mule, creditorAccount: Self.token(3))),
            .entitlements([
                Entitlement(codeType: .routing, from: "021000021", to: "021000089", perspectives: [.receiving], products: ["FEDNOW", "RTP"], validFrom: loadedAt, validTo: nil)
            ]),
        ]
        try await EngineIntakeSink(engine: engine).load(records.enumerated().map {
            IntakeEvent(tenant: "bank-a", fileId: "file-1", row: $0.offset + 2, loadedAt: loadedAt, record: $0.element)
        })
        let snapshots = StateSnapshots(store: store, duplicates: index, usage: nil, log: log, dataDirectory: dir, reference: reference)
        let summary = try await snapshots.take()
        let query = ReferenceQuery(
            tenant: "bank-a", debtor: Self.token(1), creditor: Self.token(3), debtorInstitution: InstitutionCode(type: .sortCode, value: "040004"),
            creditorInstitution: nil
        )

        let restoredReference = InMemoryReferenceStore()
        let restored = StateSnapshots(
            store: InMemoryFeatureStore(), duplicates: DuplicateIndex(), usage: nil, log: log, dataDirectory: dir, reference: restoredReference
        )
        let loaded = try await restored.load(logger: Logger(label: "test"))
        #expect(loaded.snapshot == summary.sequence)
        #expect(restoredReference.facts(query) == reference.facts(query))
        #expect(restoredReference.facts(query).linkedAccounts == 2)
        #expect(restoredReference.facts(query).debtorInstitution == .buildingSociety)
        #expect(restoredReference.facts(query).creditorReports.count == 1)
        #expect(restoredReference.entitlements(tenant: "bank-a") == reference.entitlements(tenant: "bank-a"))
        #expect(restoredReference.loadedRow(fileId: "bank-a/file-1") == records.count + 1)

        let bytes = try snapshots.directory.read(sequence: summary.sequence)
        let decoded = try Snapshot.decode(bytes, duplicateShards: index.shardCount)
        #expect(decoded.encode().flatMap { $0 } == bytes)
        await log.shutdown()
    }

    /// Tallies at a part's end are numbers, not counts of the bytes after them: with 2,000 accounts paying in a ring
    /// (every shard holds ~31 accounts that both pay and are paid, its tally the last thing in its bytes) and a day's
    /// usage of 5,000 requests (the last thing in the file), the snapshot decodes whole and encodes to the same bytes.
    @Test func aSnapshotWhoseTalliesExceedTheBytesAfterThemLoads() async throws {
        let dir = temporaryDataDirectory()
        let log = try FileEventLog(directory: dir + "/events", segmentBytes: 1 << 20)
        let (store, index) = (InMemoryFeatureStore(), DuplicateIndex())
        let engine = ScoringEngine(store: store, log: log, model: Self.model, duplicates: index)
        let bank = try Self.tenant("bank-a")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for i in 0..<2000 {
            let sent = Self.payment("ring\(i)", from: UInt64(1000 + i), to: UInt64(1000 + (i + 1) % 2000), minor: 700, at: Int64(i))
            _ = await engine.score(sent, tenant: bank, receivedAt: Instant(epochMillis: now), started: .now)
        }
        let usage = UsageLimiter()
        let today = now / 1000 / 86_400
        usage.recordRecovered([UsageDayCount(tenant: "bank-a", day: today, count: 5000)])
        let snapshots = StateSnapshots(store: store, duplicates: index, usage: usage, log: log, dataDirectory: dir)
        let summary = try await snapshots.take()
        let bytes = try snapshots.directory.read(sequence: summary.sequence)
        let decoded = try Snapshot.decode(bytes, duplicateShards: index.shardCount)
        #expect(decoded.features.counts == store.counts)
        #expect(decoded.features.counts.accounts == 2000)
        #expect(decoded.usage == [UsageDayCount(tenant: "bank-a", day: today, count: 5000)])
        let again = Snapshot(
            sequence: decoded.sequence, createdAtMillis: decoded.createdAtMillis, features: decoded.features,
            duplicates: decoded.duplicates, usage: decoded.usage, reference: decoded.reference)
        let same = again.encode().flatMap { $0 } == bytes
        #expect(same)
        await log.shutdown()
    }
}
