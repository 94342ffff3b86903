import Foundation
import Logging
import Synchronization
import VigilDomain
import VigilFiles
import VigilProtection

/// An `IntakeSink` in memory: what the running service would hold, idempotent per (file, row) as the real one is,
/// and able to fail part-way through a load as a crash would.
final class MemorySink: IntakeSink {
    struct State {
        var events: [IntakeEvent] = []
        var loaded: [String: Int] = [:]
        /// Events still taken before every load throws; nil: never fails.
        var failAfter: Int?
    }

    let state = Mutex(State())

    struct Crash: Error {}

    init(failAfter: Int? = nil) {
        state.withLock { $0.failAfter = failAfter }
    }

    func load(_ events: [IntakeEvent]) async throws {
        try state.withLock { state in
            for event in events {
                if let left = state.failAfter {
                    guard left > 0 else { throw Crash() }
                    state.failAfter = left - 1
                }
                guard event.row > state.loaded[event.progressKey, default: 0] else { continue }
                state.events.append(event)
                state.loaded[event.progressKey] = event.row
            }
        }
    }

    func loadedRow(tenant: String, fileId: String) async throws -> Int {
        state.withLock { $0.loaded[IntakeEvent.progressKey(tenant: tenant, fileId: fileId), default: 0] }
    }

    var events: [IntakeEvent] { state.withLock { $0.events } }
    func stopFailing() { state.withLock { $0.failAfter = nil } }
}

/// A scanner that answers what it is told.
struct FixedScanner: MalwareScanner {
    let answer: @Sendable () throws(IntakeError) -> ScanVerdict
    func scan(file path: String) async throws(IntakeError) -> ScanVerdict { try answer() }
}

/// A refusal of the whole file, as the formats' parser throws one.
struct TestRefusal: Error, CustomStringConvertible {
    var description: String
}

/// A small fraud-reports reader standing in for the formats' parser: header `paymentId,reportedAt,fraudType`, then one
/// report a line; a bad `fraudType` is a row error; another header refuses the file. Entitlement files give one
/// entitlement a line (the line is the `from` code).
struct TestReader: IntakeRowReader {
    let type: DailyFileType
    var pending: [UInt8] = []
    var row = 0
    var rowErrors: [RowError] = []
    var accepted = 0
    var rejected = 0

    init(type: DailyFileType) { self.type = type }

    mutating func feed(_ chunk: ArraySlice<UInt8>, _ record: (Int, IntakeRecord) throws -> Void) throws {
        pending += chunk
        while let newline = pending.firstIndex(of: 0x0A) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            try take(line, record)
        }
    }

    mutating func finish(_ record: (Int, IntakeRecord) throws -> Void) throws {
        guard pending.isEmpty else { throw TestRefusal(description: "the last line is not terminated: the file is truncated") }
        guard row > 1 else { throw TestRefusal(description: "the file has no rows") }
    }

    mutating func take(_ line: String, _ record: (Int, IntakeRecord) throws -> Void) throws {
        row += 1
        if row == 1 {
            guard line == "paymentId,reportedAt,fraudType" || type == .entitlements else {
                throw TestRefusal(description: "the header must be paymentId,reportedAt,fraudType")
            }
            return
        }
        if type == .entitlements {
            accepted += 1
            try record(row, .entitlements([
                Entitlement(codeType: .sortCode, from: line, to: line, perspectives: [.sending], products: nil, validFrom: Instant(epochMillis: 0), validTo: nil)
            ]))
            return
        }
        let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard cells.count == 3, let at = Instant(rfc3339: cells[1]), let fraud = FraudType(rawValue: cells[2]) else {
            rejected += 1
            rowErrors.append(RowError(row: row, column: "fraudType", reason: "must be one of the fraud types"))
            return
        }
        accepted += 1
        try record(row, .fraudReport(FraudReport(paymentId: cells[0], uetr: nil, reportedAt: at, fraudType: fraud)))
    }
}

/// A data directory with a tenant inbox, and the pieces a pipeline is built from.
struct PipelineFixture {
    let data: String
    let layout: IntakeLayout
    let store: DataDirectoryFileStore
    let tenant: TenantIntake
    let now = TestClock()

    init() throws {
        data = NSTemporaryDirectory() + "vigil-intake-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        layout = IntakeLayout(dataDirectory: data)
        store = DataDirectoryFileStore(dataDirectory: data)
        let keys = try KeyRing.open(directory: data, provider: FileKeyProvider(path: data + "/master.key"))
        tenant = TenantIntake(name: "bank-a", keys: keys, signer: nil)
        try FileManager.default.createDirectory(atPath: layout.inbox(tenant: "bank-a"), withIntermediateDirectories: true)
    }

    func pipeline(
        sink: MemorySink, scanner: any MalwareScanner = ScanningOff(), opener: any FileOpener = PlaintextOpener(chunkBytes: 7),
        threshold: Double = 0.01, batchSize: Int = 2
    ) -> IntakePipeline {
        let now = self.now
        return IntakePipeline(
            layout: layout, store: store, scanner: scanner, opener: opener, sink: sink,
            settings: IntakeSettings(errorThreshold: threshold, settleMilliseconds: 2000, batchSize: batchSize),
            makeReader: { type, _ in TestReader(type: type) }, clock: { now.millis }, logger: Logger(label: "test")
        )
    }

    /// Puts a file in the tenant's inbox (or another directory's).
    @discardableResult
    func drop(_ name: String, _ text: String, into directory: String = "bank-a") throws -> String {
        let folder = layout.inboxRoot + "/" + directory
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
        return path
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
    func read(_ path: String) -> String? { (try? String(contentsOfFile: path, encoding: .utf8)) }
}

import Testing

/// The pipeline's clock in a test: moved by hand.
final class TestClock: Sendable {
    let value = Atomic<Int64>(1_800_000_000_000)
    var millis: Int64 { value.load(ordering: .relaxed) }
    func add(_ milliseconds: Int64) { value.add(milliseconds, ordering: .relaxed) }
}
