import Foundation
import Testing
import VigilDomain
import VigilFiles

/// The inbox watcher: files are taken once settled, hidden files never, unknown tenants reported and left.
@Suite(.timeLimit(.minutes(1)))
struct PipelineWatcherTests {
    @Test func aFileIsTakenOnlyOnceItHasNotChangedForTheSettleTime() async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        var watcher = InboxWatcher(pipeline: f.pipeline(sink: sink), tenants: { [tenant = f.tenant] in ["bank-a": tenant] })
        let path = try f.drop(PipelineTests.name, "paymentId,reportedAt,fraudType\np-1,2026-12-04T10:00:00Z,app_scam\n")
        #expect(await watcher.pass().isEmpty)
        f.now.add(1999)
        #expect(await watcher.pass().isEmpty)
        // Still being written: a change starts the wait again.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("p-2,2026-12-04T11:00:00Z,mule\n".utf8))
        try handle.close()
        f.now.add(1)
        #expect(await watcher.pass().isEmpty)
        f.now.add(2000)
        let taken = await watcher.pass()
        #expect(taken.map(\.status) == [.loaded])
        #expect(taken.first?.accepted == 2)
        #expect(sink.events.count == 2)
    }

    @Test func hiddenFilesAndTheUploadAreaAreNeverTaken() async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        var watcher = InboxWatcher(pipeline: f.pipeline(sink: sink), tenants: { [tenant = f.tenant] in ["bank-a": tenant] })
        let hidden = try f.drop(".fraud-reports.2026-12-04.csv.part", PipelineTests.good)
        let upload = try f.drop("0f3e", PipelineTests.good, into: ".upload")
        #expect(await watcher.pass().isEmpty)
        f.now.add(5000)
        #expect(await watcher.pass().isEmpty)
        #expect(f.exists(hidden) && f.exists(upload))
        #expect(sink.events.isEmpty)
    }

    @Test func aDirectoryThatIsNoTenantGetsAnOutboxReportAndItsFileWaits() async throws {
        let f = try PipelineFixture()
        let sink = MemorySink()
        var watcher = InboxWatcher(pipeline: f.pipeline(sink: sink), tenants: { [tenant = f.tenant] in ["bank-a": tenant] })
        let path = try f.drop(PipelineTests.name, PipelineTests.good, into: "bank-z")
        _ = await watcher.pass()
        f.now.add(5000)
        #expect(await watcher.pass().isEmpty)
        #expect(f.exists(path))
        let report = try #require(f.read(f.layout.outbox(tenant: "bank-z") + "/" + PipelineTests.name + ".summary.json"))
        #expect(report.contains("no tenant named after this inbox directory"))
        #expect(try f.store.records(tenant: nil).isEmpty)
    }

    @Test func theSettleTrackerWaitsForTheSameSizeAndTimeThroughout() {
        var tracker = SettleTracker(settleMilliseconds: 100)
        var settled: Bool
        settled = tracker.isSettled("a", size: 1, modified: 5, nowMillis: 0)
        #expect(!settled)
        settled = tracker.isSettled("a", size: 1, modified: 5, nowMillis: 99)
        #expect(!settled)
        settled = tracker.isSettled("a", size: 1, modified: 5, nowMillis: 100)
        #expect(settled)
        settled = tracker.isSettled("a", size: 2, modified: 5, nowMillis: 150)
        #expect(!settled)
        settled = tracker.isSettled("a", size: 2, modified: 6, nowMillis: 240)
        #expect(!settled)
        settled = tracker.isSettled("a", size: 2, modified: 6, nowMillis: 340)
        #expect(settled)
        tracker.keep(only: [])
        settled = tracker.isSettled("a", size: 2, modified: 6, nowMillis: 1000)
        #expect(!settled)
    }

    @Test func aFileLeftForARetryWaitsLongerAfterEachRetryAndAfreshOnceItChanges() {
        var tracker = SettleTracker(settleMilliseconds: 100)
        var settled: Bool
        _ = tracker.isSettled("a", size: 1, modified: 5, nowMillis: 0)
        settled = tracker.isSettled("a", size: 1, modified: 5, nowMillis: 100)
        #expect(settled)
        tracker.retryLater("a", nowMillis: 100)
        settled = tracker.isSettled("a", size: 1, modified: 5, nowMillis: 1099)
        #expect(!settled)
        settled = tracker.isSettled("a", size: 1, modified: 5, nowMillis: 1100)
        #expect(settled)
        tracker.retryLater("a", nowMillis: 1100)
        settled = tracker.isSettled("a", size: 1, modified: 5, nowMillis: 3099)
        #expect(!settled)
        settled = tracker.isSettled("a", size: 1, modified: 5, nowMillis: 3100)
        #expect(settled)
        for _ in 0..<30 { tracker.retryLater("a", nowMillis: 3100) }
        settled = tracker.isSettled("a", size: 1, modified: 5, nowMillis: 3100 + 299_999)
        #expect(!settled)
        settled = tracker.isSettled("a", size: 1, modified: 5, nowMillis: 3100 + 300_000)
        #expect(settled)
        _ = tracker.isSettled("a", size: 2, modified: 6, nowMillis: 3200)
        settled = tracker.isSettled("a", size: 2, modified: 6, nowMillis: 3300)
        #expect(settled)
    }
}

/// The embedded opener for PGP intake off.
struct PlaintextOpenerTests {
    @Test func itStreamsTheFileInChunksAndRefusesPGP() async throws {
        let f = try PipelineFixture()
        let text = String(repeating: "0123456789", count: 10)
        let path = try f.drop("history.csv", text)
        var chunks: [Int] = []
        var bytes: [UInt8] = []
        let opened = try await PlaintextOpener(chunkBytes: 32).open(file: path, signer: nil) { chunk in
            chunks.append(chunk.count)
            bytes += chunk
        }
        #expect(chunks == [32, 32, 32, 4])
        #expect(bytes == Array(text.utf8))
        #expect(opened == OpenedFile(signer: nil, plaintextBytes: 100))

        // An OpenPGP public-key encrypted session key packet (old format, tag 1), and a BOM that is not one.
        let binary = f.layout.inbox(tenant: "bank-a") + "/binary.csv"
        #expect(FileManager.default.createFile(atPath: binary, contents: Data([0x85, 0x01, 0x0C, 0x03])))
        await #expect(throws: IntakeError.self) { try await PlaintextOpener().open(file: binary, signer: nil) { _ in } }
        let bom = f.layout.inbox(tenant: "bank-a") + "/bom.csv"
        #expect(FileManager.default.createFile(atPath: bom, contents: Data([0xEF, 0xBB, 0xBF, 0x61])))
        let plain = try await PlaintextOpener().open(file: bom, signer: nil) { _ in }
        #expect(plain.plaintextBytes == 4)
        await #expect(throws: IntakeError.self) { try await PlaintextOpener().intakePublicKey() }
    }
}
