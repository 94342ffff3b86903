import Foundation
import Testing
import VigilDomain
import VigilEngine
import VigilFeatures
import VigilOffline

/// `vigil labels export` and `vigil training-set export` over log records: point in time, one row per label.
struct LabelExportTests {
    static func at(_ seconds: Int64) -> Instant { Instant(epochMillis: 1_795_000_000_000 + seconds * 1000) }
    static let creditor = Token(a: 0xC0FFEE, b: 1, c: 2, d: 3)

    static func scored(_ tenant: String, _ id: String, uetr: String? = nil, at seconds: Int64, degraded: Bool? = nil) -> LoggedEvent {
        let sealed = SealedValue(keyVersion: 1, bytes: [1, 2, 3])
        let payment = TokenizedPayment(
            paymentId: id, perspective: .sending, type: .push, scheme: "FPS", channel: nil,
            amount: try! Money.parse("12.50", currency: Currency(code: "GBP")!).get(), createdAt: at(seconds),
            debtor: TokenizedParty(account: Token(a: 1, b: 0, c: 0, d: 0), sealedAccount: sealed),
            creditor: TokenizedParty(account: creditor, sealedAccount: sealed), uetr: uetr
        )
        let response = ScoreResponse(
            paymentId: id, scoreId: UUID().uuidString.lowercased(), score: 100, decision: .allow, reasons: [], rules: [], duplicate: false,
            modelVersion: "m", processingMicros: 10, degraded: degraded
        )
        var features = [Double](repeating: .nan, count: Feature.allCases.count)
        features[0] = Double(seconds)
        features[1] = 0.25
        return .scored(ScoredPaymentEvent(tenant: tenant, receivedAt: at(seconds), request: payment, response: response, features: features))
    }

    static func report(_ tenant: String, paymentId: String? = nil, uetr: String? = nil, reportedAt: Int64, knownAt: Int64, source: LabelSource? = .api) -> LoggedEvent {
        let report = FraudReport(
            paymentId: paymentId, uetr: uetr, reportedAt: at(reportedAt), fraudType: .appScam,
            amountLost: try! Money.parse("12.50", currency: Currency(code: "GBP")!).get(), reportingSide: .sending, creditorAccount: creditor
        )
        guard let source else {
            return .intake(IntakeEvent(tenant: tenant, fileId: "f", row: 2, loadedAt: at(knownAt), record: .fraudReport(report)))
        }
        return .label(LabelEvent(tenant: tenant, receivedAt: at(knownAt), source: source, record: .fraudReport(report)))
    }

    static func outcome(_ tenant: String, _ id: String, _ status: PaymentFinalStatus, _ reason: String?, knownAt: Int64, file: Bool = false) -> LoggedEvent {
        let outcome = PaymentStatusReport(paymentId: id, uetr: nil, status: status, reasonCode: reason, at: at(knownAt - 1))
        if file { return .intake(IntakeEvent(tenant: tenant, fileId: "s", row: 3, loadedAt: at(knownAt), record: .status(outcome))) }
        return .label(LabelEvent(tenant: tenant, receivedAt: at(knownAt), source: .pacs002, record: .outcome(outcome)))
    }

    /// The rows of a CSV written by the exports, as dictionaries by column.
    static func rows(_ text: [UInt8]) -> [[String: String]] {
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(lines[0], $0)) }
    }

    @Test func labelsExportHasOneRowPerLabelFromEverySourceAndNoOtherRecord() throws {
        let events: [LoggedEvent] = [
            Self.scored("bank-a", "p-1", at: 0),
            Self.report("bank-a", paymentId: "p-1", reportedAt: 10, knownAt: 20),
            Self.report("bank-a", paymentId: "p-1", reportedAt: 10, knownAt: 30, source: nil),
            Self.outcome("bank-b", "p-9", .returned, "FRAD", knownAt: 40),
            Self.outcome("bank-b", "p-8", .settled, nil, knownAt: 50, file: true),
            .intake(IntakeEvent(tenant: "bank-a", fileId: "d", row: 2, loadedAt: Self.at(60), record: .directory(DirectoryEntry(
                code: InstitutionCode(type: .sortCode, value: "040004"), institution: "Bank", type: .bank, status: .active
            )))),
        ]
        var writer = LabelExportWriter()
        for event in events { if let label = KnownLabel(event) { writer.append(label) } }
        let rows = Self.rows(writer.text)
        #expect(String(decoding: writer.text, as: UTF8.self).hasPrefix(LabelExportWriter.columns.joined(separator: ",") + "\n"))
        #expect(rows.map { $0["source"]! } == ["api", "file", "pacs.002", "file"])
        #expect(rows.map { $0["kind"]! } == ["fraud-report", "fraud-report", "outcome", "outcome"])
        #expect(rows[0]["knownAt"] == Self.at(20).rfc3339UTC)
        #expect(rows[0]["at"] == Self.at(10).rfc3339UTC)
        #expect(rows[0]["amountLost"] == "12.50")
        #expect(rows[0]["currency"] == "GBP")
        #expect(rows[0]["reportingSide"] == "sending")
        #expect(rows[0]["creditorAccount"] == Self.creditor.hex)
        #expect(rows[2]["status"] == "returned")
        #expect(rows[2]["reasonCode"] == "FRAD")
        #expect(rows[2]["fraudType"] == "")
        #expect(rows[3]["tenant"] == "bank-b")
    }

    @Test func aLabelThatArrivesAfterTheCutoffIsZeroAndBeforeIsOne() throws {
        let events: [LoggedEvent] = [
            Self.scored("bank-a", "early", at: 0),
            Self.scored("bank-a", "late", at: 1),
            Self.scored("bank-a", "claims-later", at: 2),
            Self.scored("bank-a", "by-uetr", uetr: "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", at: 3),
            Self.scored("bank-a", "frad", at: 4),
            Self.scored("bank-a", "settled", at: 5),
            Self.scored("bank-a", "other-tenant", at: 6),
            Self.scored("bank-a", "degraded", at: 7, degraded: true),
            .duplicateAnswered(DuplicateAnsweredEvent(tenant: "bank-a", paymentId: "early", receivedAt: Self.at(8), originalScoreId: "x")),
            Self.scored("bank-a", "outside", at: 500),
            Self.report("bank-a", paymentId: "early", reportedAt: 50, knownAt: 90),
            // Reported before the cut-off, but Vigil heard of it after: unknown at the cut-off.
            Self.report("bank-a", paymentId: "late", reportedAt: 50, knownAt: 150),
            // Heard of in time, but it says it happened after the cut-off.
            Self.report("bank-a", paymentId: "claims-later", reportedAt: 120, knownAt: 90),
            Self.report("bank-a", uetr: "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", reportedAt: 50, knownAt: 60, source: nil),
            Self.outcome("bank-a", "frad", .recalled, "FRAD", knownAt: 70, file: true),
            Self.outcome("bank-a", "settled", .settled, nil, knownAt: 70),
            Self.report("bank-b", paymentId: "other-tenant", reportedAt: 50, knownAt: 60),
            Self.report("bank-a", paymentId: "degraded", reportedAt: 50, knownAt: 60),
        ]
        var builder = TrainingSetBuilder(from: Self.at(0), to: Self.at(100), labelCutoff: Self.at(100))
        for event in events { builder.add(event) }
        let text = builder.write()
        let rows = Self.rows(text)
        #expect(rows.map { $0["paymentId"]! } == ["early", "late", "claims-later", "by-uetr", "frad", "settled", "other-tenant"])
        #expect(rows.map { $0["label"]! } == ["1", "0", "0", "1", "1", "0", "0"])
        #expect(rows.map { $0["fraudType"]! } == ["app_scam", "", "", "app_scam", "", "", ""])
        #expect(builder.summary == TrainingSetBuilder.Summary(rows: 7, frauds: 3, degraded: 1, labelsAfterCutoff: 2))
        // The features as scored, under the names `vigil train --features` reads.
        let first = try #require(rows.first)
        #expect(first[Feature.allCases[0].name] == "0.0")
        #expect(first[Feature.allCases[1].name] == "0.25")
        #expect(first[Feature.allCases[2].name] == "")
        let (table, summary) = try FeatureTable.read(text)
        #expect(summary.accepted == 7)
        #expect(table.featureNames == Feature.allCases.map(\.name))
        #expect(table.labels == [1, 0, 0, 1, 1, 0, 0])

        // With no cut-off every label in the log counts.
        var all = TrainingSetBuilder(from: Self.at(0), to: Self.at(100), labelCutoff: nil)
        for event in events { all.add(event) }
        #expect(Self.rows(all.write()).map { $0["label"]! } == ["1", "1", "1", "1", "1", "0", "0"])
        // One tenant's only.
        var bankB = TrainingSetBuilder(from: Self.at(0), to: Self.at(1000), labelCutoff: nil, tenant: "bank-b")
        for event in events { bankB.add(event) }
        #expect(Self.rows(bankB.write()).isEmpty)
    }
}
