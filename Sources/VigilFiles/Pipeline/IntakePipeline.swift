import Crypto
import Foundation
public import Logging
public import VigilDomain
import VigilProtection

/// Takes one settled file from a tenant's inbox through every stage: content hash (its id), idempotency, malware
/// scan, open (decrypt and verify), parse, validate and tokenise (staged in memory; plaintext never reaches the
/// disk), then, when the signature is good and the bad rows are within the threshold, loads the records into the
/// running service in batches, resuming after what the sink already holds. Every step is recorded in the file's
/// metadata; the file stays in the inbox until its status is final, so a crash at any point is picked up again on
/// the next start and loads from the sink's `loadedRow + 1`, counting nothing twice (docs/intake.md).
public struct IntakePipeline: Sendable {
    public let layout: IntakeLayout
    public let store: any FileMetadataStore
    public let scanner: any MalwareScanner
    public let opener: any FileOpener
    public let sink: any IntakeSink
    public let settings: IntakeSettings
    /// The reader of one file of a type, for a tenant.
    public let makeReader: @Sendable (DailyFileType, TenantIntake) -> any IntakeRowReader
    /// Epoch milliseconds now.
    public let clock: @Sendable () -> Int64
    public let logger: Logger

    public init(
        layout: IntakeLayout, store: any FileMetadataStore, scanner: any MalwareScanner, opener: any FileOpener, sink: any IntakeSink,
        settings: IntakeSettings, makeReader: @escaping @Sendable (DailyFileType, TenantIntake) -> any IntakeRowReader,
        clock: @escaping @Sendable () -> Int64 = IntakePipeline.systemClock, logger: Logger
    ) {
        self.layout = layout
        self.store = store
        self.scanner = scanner
        self.opener = opener
        self.sink = sink
        self.settings = settings
        self.makeReader = makeReader
        self.clock = clock
        self.logger = logger
    }

    /// The system's clock in epoch milliseconds.
    public static let systemClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Processes `inbox/TENANT/NAME` and returns its record as it stands after this pass.
    /// - Throws: only when the metadata store cannot be written; the file then stays for the next pass.
    @discardableResult
    public func process(tenant: TenantIntake, name: String) async throws -> FileRecord {
        let path = layout.inbox(tenant: tenant.name) + "/" + name
        let now = clock()
        let (hash, size) = try Self.hash(file: path)
        let type: DailyFileType?
        if case .success(let checked) = IntakeFileName.check(name) { type = checked } else { type = nil }

        if let earlier = try store.record(tenant: tenant.name, id: hash), earlier.status.settlesContent {
            var duplicate = FileRecord(
                id: try store.nextDuplicateID(tenant: tenant.name, hash: hash), tenant: tenant.name, type: type, name: name, hash: hash,
                bytes: size, status: .duplicate, receivedAt: now
            )
            duplicate.duplicateOf = hash
            duplicate.reason = "the same bytes were already \(earlier.status.rawValue) as file \(hash); nothing changed"
            return try finish(duplicate, path: path)
        }
        var record = try store.record(tenant: tenant.name, id: hash)
            ?? FileRecord(id: hash, tenant: tenant.name, type: type, name: name, hash: hash, bytes: size, status: .received, receivedAt: now)
        // A file refused or quarantined before (an unregistered key since registered, a scanner since updated) starts over.
        if record.status.isFinal {
            record = FileRecord(id: hash, tenant: tenant.name, type: type, name: name, hash: hash, bytes: size, status: .received, receivedAt: now)
        }
        record.name = name
        record.startedAt = record.startedAt ?? now

        guard case .success(let fileType) = IntakeFileName.check(name) else {
            if case .failure(let refusal) = IntakeFileName.check(name) { record.reason = refusal.reason }
            record.status = .refused
            return try finish(record, path: path)
        }
        guard size > 0 else {
            record.status = .refused
            record.reason = "the file is empty (0 bytes); send it again with its rows"
            return try finish(record, path: path)
        }
        guard size <= settings.maxFileBytes else {
            record.status = .refused
            record.reason = "the file is larger than intakeMaxFileBytes (\(settings.maxFileBytes) bytes)"
            return try finish(record, path: path)
        }

        record.status = .scanning
        try store.save(record)
        let verdict: ScanVerdict
        do {
            verdict = try await scanner.scan(file: path)
        } catch {
            return try retry(record, error.message)
        }
        switch verdict {
        case .infected(let signature):
            record.scan = "infected"
            record.signature = signature
            record.status = .quarantined
            record.reason = "the malware scanner found \(signature); the file is in quarantine"
            return try finish(record, path: path, quarantine: true)
        case .clean: record.scan = "clean"
        case .notScanned: record.scan = "not-scanned"
        }

        record.status = .loading
        try store.save(record)
        var reader = makeReader(fileType, tenant)
        var staged: [(row: Int, record: IntakeRecord)] = []
        let opened: OpenedFile
        do {
            opened = try await opener.open(file: path, signer: tenant.signer) { chunk in
                try reader.feed(chunk) { staged.append(($0, $1)) }
            }
            try reader.finish { staged.append(($0, $1)) }
        } catch let error as IntakeError {
            if error.code == .unavailable { return try retry(record, error.message) }
            record.status = .refused
            record.reason = error.message
            return try finish(record, path: path)
        } catch {
            record.status = .refused
            record.reason = "\(error)"
            record.errors = Array(reader.rowErrors.prefix(FileRecord.maxRowErrors))
            return try finish(record, path: path)
        }
        record.signer = opened.signer
        record.accepted = reader.accepted
        record.rejected = reader.rejected
        record.rows = reader.accepted + reader.rejected
        record.errors = Array(reader.rowErrors.prefix(FileRecord.maxRowErrors))
        if settings.isOverThreshold(rejected: record.rejected, rows: record.rows) {
            record.status = .rejected
            record.reason = "\(record.rejected) of \(record.rows) rows are invalid, more than the error threshold of "
                + "\(Self.percent(settings.errorThreshold)); nothing was loaded (see the error report)"
            return try finish(record, path: path)
        }

        do {
            try await load(staged, type: fileType, tenant: tenant.name, fileId: hash)
        } catch {
            return try retry(record, "loading into the service failed; the load resumes where it stopped on the next pass")
        }
        record.status = .loaded
        if record.rejected > 0 {
            record.reason = "\(record.rejected) of \(record.rows) rows are invalid and were left out (see the error report)"
        }
        return try finish(record, path: path)
    }

    /// Hands the staged records to the sink in batches, after the rows it already holds. A whole entitlements file
    /// is one record, at its last row: it replaces the tenant's entitlements at once. A history file's payments fold
    /// into the state in time order (ties in file order), so they are numbered in that order (2 for the earliest, as
    /// if the file had been sorted): the same file always loads in the same order, and a load cut short resumes
    /// after the last payment it folded.
    func load(_ staged: [(row: Int, record: IntakeRecord)], type: DailyFileType, tenant: String, fileId: String) async throws {
        var staged = staged
        if type == .history {
            func time(_ record: IntakeRecord) -> Int64 {
                if case .history(let payment) = record { return payment.createdAt.epochMillis }
                return .max
            }
            let times = staged.map { time($0.record) }
            let order = staged.indices.sorted { (times[$0], $0) < (times[$1], $1) }
            staged = order.enumerated().map { position, index in (row: position + 2, record: staged[index].record) }
        }
        if type == .entitlements {
            var all: [Entitlement] = []
            for (_, record) in staged {
                if case .entitlements(let some) = record { all += some }
            }
            staged = staged.last.map { [($0.row, .entitlements(all))] } ?? []
        }
        let resumeAfter = try await sink.loadedRow(tenant: tenant, fileId: fileId)
        let loadedAt = Instant(epochMillis: clock())
        var batch: [IntakeEvent] = []
        batch.reserveCapacity(min(settings.batchSize, staged.count))
        for (row, record) in staged where row > resumeAfter {
            batch.append(IntakeEvent(tenant: tenant, fileId: fileId, row: row, loadedAt: loadedAt, record: record))
            if batch.count == settings.batchSize {
                try await sink.load(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try await sink.load(batch) }
    }

    /// A back end did not answer: the file stays in the inbox and is tried again on the next pass.
    func retry(_ record: FileRecord, _ reason: String) throws -> FileRecord {
        var record = record
        record.status = .retrying
        record.reason = reason
        try store.save(record)
        logger.warning(
            "A daily file waits for a retry", metadata: ["vigil.tenant": .string(record.tenant), "vigil.file.id": .string(record.id)]
        )
        return record
    }

    /// Records a final status, writes the outbox report and takes the file out of the inbox (into quarantine when
    /// infected). The record is saved first: a crash before the file is gone leaves a file whose bytes are settled,
    /// which the next pass records as a duplicate, never loads again.
    func finish(_ record: FileRecord, path: String, quarantine: Bool = false) throws -> FileRecord {
        var record = record
        record.finishedAt = clock()
        try store.save(record)
        do {
            try OutboxReport.write(record, to: layout.outbox(tenant: record.tenant))
        } catch {
            logger.error("Could not write a daily file's outbox report", metadata: ["vigil.file.id": .string(record.id), "vigil.error": "\(error)"])
        }
        if quarantine {
            let folder = layout.quarantine(tenant: record.tenant)
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if rename(path, folder + "/" + record.id) != 0 {
                logger.error("Could not move an infected file to quarantine; it was deleted", metadata: ["vigil.file.id": .string(record.id)])
                unlink(path)
            }
        } else {
            unlink(path)
        }
        logger.notice(
            "Daily file processed",
            metadata: [
                "vigil.tenant": .string(record.tenant), "vigil.file.id": .string(record.id), "vigil.file.status": .string(record.status.rawValue),
                "vigil.file.accepted": "\(record.accepted)", "vigil.file.rejected": "\(record.rejected)",
            ]
        )
        return record
    }

    /// The hex SHA-256 and size of a file, read in 1 MiB chunks.
    static func hash(file path: String) throws -> (String, Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileMetadataError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var size = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw FileMetadataError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            size += n
        }
        return (hasher.finalize().withUnsafeBytes { Hex.encode($0) }, size)
    }

    static func percent(_ fraction: Double) -> String {
        let value = fraction * 100
        return value == value.rounded() ? "\(Int(value))%" : "\(value)%"
    }
}

/// A processed file's report in the tenant's outbox: `NAME.summary.json` (its metadata without the row errors) and,
/// when rows were bad, `NAME.errors.csv` (row, column, reason; never a value).
public enum OutboxReport {
    public static func write(_ record: FileRecord, to outbox: String) throws {
        try FileManager.default.createDirectory(atPath: outbox, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let base = outbox + "/" + (record.status == .duplicate ? record.id + "." + record.name : record.name)
        var summary = record
        summary.errors = []
        try AtomicFile.write(try FileRecordCoding.encode(summary) + [0x0A], to: base + ".summary.json", mode: 0o600)
        if !record.errors.isEmpty {
            var csv = "row,column,reason\n"
            for error in record.errors {
                csv += "\(error.row),\(quoted(error.column ?? "")),\(quoted(error.reason))\n"
            }
            try AtomicFile.write(Array(csv.utf8), to: base + ".errors.csv", mode: 0o600)
        }
    }

    /// A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a line break.
    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension Error {
    fileprivate var message: String { (self as? IntakeError)?.message ?? "\(self)" }
}
