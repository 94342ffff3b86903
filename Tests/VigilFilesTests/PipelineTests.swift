import Crypto
import Foundation
import Testing
import VigilDomain
import VigilFiles
import VigilProtection

/// Every status a file can end a pass in, through `IntakePipeline.process` on a real data directory.
@Suite(.timeLimit(.minutes(1)))
struct PipelineTests {
    static let good = "paymentId,reportedAt,fraudType\np-1,2026-12-04T10:00:00Z,app_scam\np-2,2026-12-04T11:00:00Z,mule\np-3,2026-12-04T12:00:00Z,other\n"
    /// Row 3's fraud type is not one; its value must never appear in a report.
    static let oneBad = "paymentId,reportedAt,fraudType\np-1,2026-12-04T10:00:00Z,app_scam\np-2,2026-12-04T11:00:00Z,CANARY-VALUE\np-3,2026-12-04T12:00:00Z,other\n"
    static let name = "fraud-reports.2026-12-04.csv"

    static func id(_ text: String) -> String { SHA256.hash(data: Array(text.utf8)).withUnsafeBytes { Hex.encode($0) } }

    @Test func aGoodFileLoadsEveryRowInOrderAndLeavesTheInbox() async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        let path = try f.drop(Self.name, Self.good)
        let record = try await f.pipeline(sink: sink).process(tenant: f.tenant, name: Self.name)
        #expect(record.status == .loaded)
        #expect(record.id == Self.id(Self.good))
        #expect((record.rows, record.accepted, record.rejected) == (3, 3, 0))
        #expect(record.scan == "not-scanned")
        #expect(record.type == .fraudReports)
        #expect(sink.events.map(\.row) == [2, 3, 4])
        #expect(sink.events.allSatisfy { $0.fileId == record.id && $0.tenant == "bank-a" })
        #expect(!f.exists(path))
        #expect(try f.store.record(tenant: "bank-a", id: record.id) == record)
        let summary = try #require(f.read(f.layout.outbox(tenant: "bank-a") + "/" + Self.name + ".summary.json"))
        #expect(summary.contains(#""status":"loaded""#))
        #expect(!f.exists(f.layout.outbox(tenant: "bank-a") + "/" + Self.name + ".errors.csv"))
    }

    @Test func belowTheThresholdTheGoodRowsLoadAndTheReportNamesTheBadOnesWithoutTheirValues() async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        try f.drop(Self.name, Self.oneBad)
        let record = try await f.pipeline(sink: sink, threshold: 0.5).process(tenant: f.tenant, name: Self.name)
        #expect(record.status == .loaded)
        #expect((record.rows, record.accepted, record.rejected) == (3, 2, 1))
        #expect(sink.events.map(\.row) == [2, 4])
        #expect(record.errors == [RowError(row: 3, column: "fraudType", reason: "must be one of the fraud types")])
        let errors = try #require(f.read(f.layout.outbox(tenant: "bank-a") + "/" + Self.name + ".errors.csv"))
        #expect(errors == "row,column,reason\n3,fraudType,must be one of the fraud types\n")
        for file in [errors, f.read(f.layout.outbox(tenant: "bank-a") + "/" + Self.name + ".summary.json") ?? ""] {
            #expect(!file.contains("CANARY"))
        }
    }

    @Test func overTheThresholdTheFileIsRejectedWholeAndNothingLoads() async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        let path = try f.drop(Self.name, Self.oneBad)
        let record = try await f.pipeline(sink: sink).process(tenant: f.tenant, name: Self.name)
        #expect(record.status == .rejected)
        #expect(record.reason?.contains("1 of 3 rows are invalid, more than the error threshold of 1%") == true)
        #expect(sink.events.isEmpty)
        #expect(!f.exists(path))
        #expect(f.exists(f.layout.outbox(tenant: "bank-a") + "/" + Self.name + ".errors.csv"))
    }

    @Test(arguments: [
        ("payments.2026-12-04.csv", good, "TYPE one of: history, fraud-reports"),
        ("fraud-reports.v3.2026-12-04.csv", good, "unsupported format version v3 of fraud-reports; this Vigil reads v1"),
        (name, "paymentId,when\np-1,x\n", "the header must be"),
        (name, "paymentId,reportedAt,fraudType\np-1,2026-12-04T10:00:00Z,app_scam", "truncated"),
        ("fraud-reports.2026-12-04.csv.gpg", good, "PGP intake is off"),
        (name, "-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n", "PGP intake is off"),
    ])
    func aFileThatCannotBeTakenIsRefusedWithItsReason(name: String, text: String, reason: String) async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        let path = try f.drop(name, text)
        let record = try await f.pipeline(sink: sink).process(tenant: f.tenant, name: name)
        #expect(record.status == .refused)
        #expect(record.reason?.contains(reason) == true, "\(record.reason ?? "nil")")
        #expect(sink.events.isEmpty)
        #expect(!f.exists(path))
        #expect(f.exists(f.layout.outbox(tenant: "bank-a") + "/" + name + ".summary.json"))
    }

    @Test func theSameBytesAgainAreADuplicateThatChangesNothing() async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        let pipeline = f.pipeline(sink: sink)
        try f.drop(Self.name, Self.good)
        let first = try await pipeline.process(tenant: f.tenant, name: Self.name)
        // Sent again under another name: the content is what counts.
        let path = try f.drop("fraud-reports.2026-12-05.csv", Self.good)
        let again = try await pipeline.process(tenant: f.tenant, name: "fraud-reports.2026-12-05.csv")
        #expect(again.status == .duplicate)
        #expect(again.id == first.id + "-2")
        #expect(again.duplicateOf == first.id)
        #expect(sink.events.count == 3)
        #expect(!f.exists(path))
        #expect(try f.store.record(tenant: "bank-a", id: first.id)?.status == .loaded)
    }

    @Test func anInfectedFileIsQuarantinedWithItsSignatureAndNeverOpened() async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        let path = try f.drop(Self.name, Self.good)
        let scanner = FixedScanner { .infected(signature: "Eicar-Test-Signature") }
        let record = try await f.pipeline(sink: sink, scanner: scanner).process(tenant: f.tenant, name: Self.name)
        #expect(record.status == .quarantined)
        #expect(record.scan == "infected")
        #expect(record.signature == "Eicar-Test-Signature")
        #expect(sink.events.isEmpty)
        #expect(!f.exists(path))
        #expect(f.read(f.layout.quarantine(tenant: "bank-a") + "/" + record.id) == Self.good)
    }

    @Test func anUnavailableScannerLeavesTheFileForARetryAndNeverPassesIt() async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        let path = try f.drop(Self.name, Self.good)
        let down = FixedScanner { () throws(IntakeError) -> ScanVerdict in throw IntakeError(.unavailable, "clamd did not answer") }
        let waiting = try await f.pipeline(sink: sink, scanner: down).process(tenant: f.tenant, name: Self.name)
        #expect(waiting.status == .retrying)
        #expect(waiting.reason == "clamd did not answer")
        #expect(sink.events.isEmpty)
        #expect(f.exists(path))
        #expect(try f.store.record(tenant: "bank-a", id: waiting.id)?.status == .retrying)

        let back = try await f.pipeline(sink: sink, scanner: FixedScanner { .clean }).process(tenant: f.tenant, name: Self.name)
        #expect(back.status == .loaded)
        #expect(back.scan == "clean")
        #expect(sink.events.count == 3)
    }

    @Test func aLoadCutShortResumesAfterTheLastLoadedRowCountingNothingTwice() async throws {
        let f = try PipelineFixture()
        // The sink takes two records, then fails: the service went down mid-file.
        let sink = MemorySink(failAfter: 2)
        let path = try f.drop(Self.name, Self.good)
        let cut = try await f.pipeline(sink: sink, batchSize: 1).process(tenant: f.tenant, name: Self.name)
        #expect(cut.status == .retrying)
        #expect(f.exists(path))
        #expect(sink.events.map(\.row) == [2, 3])

        // Next start: the file is still in the inbox, its record not final; the load goes on from row 4.
        sink.stopFailing()
        let resumed = try await f.pipeline(sink: sink, batchSize: 1).process(tenant: f.tenant, name: Self.name)
        #expect(resumed.status == .loaded)
        #expect(resumed.id == cut.id)
        #expect(sink.events.map(\.row) == [2, 3, 4])
        #expect(!f.exists(path))
    }

    @Test func aFileLeftLoadingByAKilledProcessResumesFromTheSinksLoadedRow() async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        let path = try f.drop(Self.name, Self.good)
        let id = Self.id(Self.good)
        // What kill -9 leaves: the record says loading, the sink holds rows 2 and 3.
        var loading = FileRecord(
            id: id, tenant: "bank-a", type: .fraudReports, name: Self.name, hash: id, bytes: Self.good.utf8.count, status: .loading, receivedAt: 1
        )
        loading.startedAt = 2
        try f.store.save(loading)
        try await sink.load([2, 3].map {
            IntakeEvent(tenant: "bank-a", fileId: id, row: $0, loadedAt: Instant(epochMillis: 0), record: .fraudReport(
                FraudReport(paymentId: "p-\($0 - 1)", uetr: nil, reportedAt: Instant(epochMillis: 0), fraudType: .appScam)))
        })
        let record = try await f.pipeline(sink: sink).process(tenant: f.tenant, name: Self.name)
        #expect(record.status == .loaded)
        #expect(record.receivedAt == 1)
        #expect(sink.events.map(\.row) == [2, 3, 4])
        #expect(!f.exists(path))
    }

    @Test func anEntitlementsFileLoadsAsOneRecordAtItsLastRow() async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        try f.drop("entitlements.2026-12-04.csv", "codeType\n400000\n400001\n400002\n")
        let record = try await f.pipeline(sink: sink).process(tenant: f.tenant, name: "entitlements.2026-12-04.csv")
        #expect(record.status == .loaded)
        #expect(sink.events.count == 1)
        #expect(sink.events.first?.row == 4)
        guard case .entitlements(let all)? = sink.events.first?.record else {
            Issue.record("not an entitlements record")
            return
        }
        #expect(all.map(\.from) == ["400000", "400001", "400002"])
    }
}
