import Foundation
import Testing
import VigilDomain
import VigilFeatures
import VigilGateway
import VigilOffline

struct HistoryReplayTests {
    @Test func aDataDirectoryWithoutKeysIsRefusedAndLeftEmpty() throws {
        let dir = NSTemporaryDirectory() + "vigil-offline-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: (any Error).self) { try HistoryReplay.gateway(dataDirectory: dir) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        #expect(throws: (any Error).self) { try HistoryReplay.gateway(dataDirectory: dir + "/missing") }
        #expect(!FileManager.default.fileExists(atPath: dir + "/missing"))
    }

    @Test func replaysInTimeOrderAndSkipsRepeatedIds() async throws {
        let (rows, _) = try HistoryReader().read(history([
            row("late", at: "2026-01-01T12:00:00Z"),
            row("early", at: "2026-01-01T10:00:00Z"),
            row("early", at: "2026-01-01T10:00:00Z"),
            row("middle", at: "2026-01-01T11:00:00Z"),
        ]))
        let replay = HistoryReplay(gateway: try HistoryReplay.gateway(dataDirectory: nil))
        var order: [String] = []
        var counts: [Double] = []
        let summary = try await replay.replay(rows, store: InMemoryFeatureStore()) { row, _, features in
            order.append(row.request.paymentId)
            counts.append(features[Feature.debtorCount24h.rawValue])
        }
        #expect(order == ["early", "middle", "late"])
        #expect(counts == [0, 1, 2])
        #expect(summary.duplicates == 1)
        #expect(summary.outOfOrder == 1)
        #expect(summary.replayed == 3)
    }

    @Test func matchesTheOnlineExtractorOnTheSameSequence() async throws {
        let (rows, _) = try HistoryReader().read(history((0..<50).map { i in
            row("p\(i)", amount: "\(10 + i % 7).00", at: "2026-01-01T10:\(String(format: "%02d", i)):00Z")
        }))
        let gateway = try HistoryReplay.gateway(dataDirectory: nil)
        let online = FeatureExtractor(store: InMemoryFeatureStore())
        var expected: [[Double]] = []
        for row in rows {
            var features: [Double] = []
            try await online.observe(gateway.tokenize(row.request), into: &features)
            expected.append(features)
        }
        var replayed: [[Double]] = []
        _ = try await HistoryReplay(gateway: gateway).replay(rows, store: InMemoryFeatureStore()) { _, _, features in replayed.append(features) }
        #expect(replayed.count == expected.count)
        for (a, b) in zip(replayed, expected) {
            #expect(a.elementsEqual(b) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        }
    }

    /// Given the reference data the server had (a report, a directory, an account map), offline replay computes the
    /// features the online path computes, and a report counts only from when it became known.
    @Test func usesTheSameReferenceDataAsTheServer() async throws {
        let (rows, _) = try HistoryReader().read(history((0..<6).map { i in
            row("p\(i)", amount: "\(10 + i).00", at: "2026-01-01T1\(i):00:00Z")
        }))
        let gateway = try HistoryReplay.gateway(dataDirectory: nil)
        let first = gateway.tokenize(rows[0].request)
        let reference = InMemoryReferenceStore()
        reference.upsert(DirectoryEntry(code: InstitutionCode(type: .sortCode, value: "123456"), institution: "B", type: .creditUnion, status: .active), tenant: "bank-a")
        reference.link(AccountLink(account: first.debtor.account, customer: Token(a: 9, b: 9, c: 9, d: 9)), tenant: "bank-a")
        reference.link(AccountLink(account: Token(a: 8, b: 8, c: 8, d: 8), customer: Token(a: 9, b: 9, c: 9, d: 9)), tenant: "bank-a")
        // The debtor pays from a GB IBAN: its sort code (123456) keys the directory. The report is known at 12:30:
        // payments from 13:00 on see it.
        reference.addReport(creditor: first.creditor.account, report: 1, reportedAt: Instant(epochMillis: 1_767_270_600_000), knownAt: Instant(epochMillis: 1_767_270_600_000))

        let online = FeatureExtractor(store: InMemoryFeatureStore())
        var expected: [[Double]] = []
        for row in rows {
            let payment = gateway.tokenize(row.request)
            var features: [Double] = []
            try await online.observe(
                payment, identity: payment.consortiumIdentity, facts: reference.facts(ReferenceQuery(tenant: "bank-a", payment: payment)), into: &features
            )
            expected.append(features)
        }
        var replayed: [[Double]] = []
        _ = try await HistoryReplay(gateway: gateway).replay(rows, store: InMemoryFeatureStore(), reference: reference, tenant: "bank-a") {
            _, _, features in replayed.append(features)
        }
        #expect(replayed.count == expected.count)
        for (a, b) in zip(replayed, expected) { #expect(a.elementsEqual(b) { $0 == $1 || ($0.isNaN && $1.isNaN) }) }
        #expect(replayed.map { $0[Feature.creditorReportedFraudCount90d.rawValue] } == [0, 0, 0, 1, 1, 1])
        #expect(replayed.allSatisfy { $0[Feature.debtorInstitutionType.rawValue] == InstitutionType.creditUnion.featureCode })
        #expect(replayed.map { $0[Feature.customerCount24h.rawValue] } == [0, 1, 2, 3, 4, 5])
        #expect(replayed.allSatisfy { $0[Feature.customerLinkedAccounts.rawValue] == 2 })
        // Another tenant's directory and account map are not this one's.
        var other: [[Double]] = []
        _ = try await HistoryReplay(gateway: gateway).replay(rows, store: InMemoryFeatureStore(), reference: reference, tenant: "bank-b") {
            _, _, features in other.append(features)
        }
        #expect(other.allSatisfy { $0[Feature.debtorInstitutionType.rawValue].isNaN && $0[Feature.customerCount24h.rawValue].isNaN })
    }

    @Test func featureFilesRoundTrip() async throws {
        let (rows, _) = try HistoryReader().read(history([row("a"), row("b", at: "2026-01-01T11:00:00Z")]))
        var writer = FeatureFileWriter()
        _ = try await HistoryReplay(gateway: try HistoryReplay.gateway(dataDirectory: nil)).replay(rows, store: InMemoryFeatureStore()) { row, _, features in
            writer.append(row.request, features: features, label: row.request.paymentId == "b" ? FraudLabel(paymentId: "b", reportedAt: Instant(epochMillis: 0), fraudType: .mule) : nil)
        }
        let text = String(decoding: writer.text, as: UTF8.self)
        #expect(text.hasPrefix("paymentId,createdAt,perspective,amount,currency,fraudType,label,debtor.count_5m,"))
        #expect(text.contains(",mule,1,"))
        let (table, summary) = try FeatureTable.read(writer.text)
        #expect(summary.accepted == 2)
        #expect(table.featureNames == Feature.allCases.map(\.name))
        #expect(table.labels == [0, 1])
        #expect(table.values[Feature.debtorCount24h.rawValue + Feature.count] == 1)
        #expect(table.values[Feature.pairDaysSinceLast.rawValue].isNaN)
    }
}
