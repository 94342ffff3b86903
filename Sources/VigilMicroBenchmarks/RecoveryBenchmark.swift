import Foundation
import Logging
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilServer

#if canImport(Glibc)
import Glibc
#endif

/// `vigil-microbench recovery`: how long a restarted node takes to be ready after N scored payments, with and
/// without a snapshot, and the disk it uses.
///
/// It builds a data directory by scoring payments through `ScoringEngine` directly (the event log with `async`
/// durability: the bytes on disk are the same, only faster to write), takes a snapshot covering all but the last
/// `tail` records the way `vigil serve` does, times loading that snapshot in-process, then starts `vigil serve` on it
/// twice and times each start until `GET /ready` answers 200: once with the snapshot (snapshot + tail), once with the
/// snapshot moved away (full replay).
///
/// The payments are a simulated history repeated in later periods with new ids (a small population, so a small
/// state), or with `--debtors N` the feature-state memory stage's workload (`FeatureMemory`: N distinct debtors, a
/// tenth as many creditors), so the state and its snapshot are as large as a bank's.
struct RecoveryBenchmark {
    struct Options {
        /// Payments scored; with `debtors`, a cap on the workload's (nil: all of them).
        var payments: Int?
        /// Distinct debtors of `FeatureMemory`'s workload, scored instead of the repeated simulation.
        var debtors: Int?
        /// Records after the snapshot, replayed in the snapshot + tail start.
        var tail = 10_000
        var vigil: String
        var dataDirectory: String?
        var keep = false
        /// Write the log as JSON records, as the engine did before binary records, and take no snapshot: the "before"
        /// figures (full replay of a JSON log).
        var jsonRecords = false

        static let usage =
            "usage: vigil-microbench recovery [--payments N (default 5000000; with --debtors, a cap)] [--debtors N] [--tail N (default 10000)] [--json-records] [--vigil PATH (default: beside this program)] [--data-dir DIR] [--keep]"

        init(parsing arguments: ArraySlice<String>) throws(UsageError) {
            vigil = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
            var rest = arguments
            while let argument = rest.popFirst() {
                switch argument {
                case "--payments":
                    guard let value = rest.popFirst().flatMap(Int.init), value >= 100 else { throw UsageError("--payments needs a whole number ≥ 100") }
                    payments = value
                case "--debtors":
                    guard let value = rest.popFirst().flatMap(Int.init), (100...100_000_000).contains(value) else {
                        throw UsageError("--debtors needs a whole number from 100 to 100000000")
                    }
                    debtors = value
                case "--tail":
                    guard let value = rest.popFirst().flatMap(Int.init), value >= 0 else { throw UsageError("--tail needs a whole number ≥ 0") }
                    tail = value
                case "--vigil":
                    guard let value = rest.popFirst() else { throw UsageError("--vigil needs a path") }
                    vigil = value
                case "--data-dir":
                    guard let value = rest.popFirst() else { throw UsageError("--data-dir needs a path") }
                    dataDirectory = value
                case "--keep":
                    keep = true
                case "--json-records":
                    jsonRecords = true
                default:
                    throw UsageError("unknown argument '\(argument)'")
                }
            }
            if debtors == nil && payments == nil { payments = 5_000_000 }
            if let payments, tail >= payments { throw UsageError("--tail must be below --payments") }
        }
    }

    let options: Options

    func run() async throws {
        print("$ " + CommandLine.arguments.joined(separator: " "))
        #if DEBUG
        print("!!!!!!!! WARNING: \(MicroBenchmark.build) !!!!!!!!")
        #endif
        print("\(MicroBenchmark.build); \(ProcessInfo.processInfo.activeProcessorCount) cores")
        guard FileManager.default.isExecutableFile(atPath: options.vigil) else {
            throw WorkloadError("no vigil executable at \(options.vigil); build it (`swift build -c release --product vigil`) or pass --vigil")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-recovery-\(UUID().uuidString)").path
        let data = options.dataDirectory ?? scratch + "/data"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer {
            try? FileManager.default.removeItem(atPath: scratch)
            if !options.keep, options.dataDirectory != nil { try? FileManager.default.removeItem(atPath: data) }
        }

        let source = try Self.payments(options, scratch: scratch)
        guard options.tail < source.count else {
            throw WorkloadError("--tail (\(options.tail)) must be below the \(source.count) payments of the workload")
        }
        let building = ContinuousClock.now
        let built = try await Self.build(source, options: options, data: data)
        let scored = built.scored
        print("built \(scored) scored payments through ScoringEngine in \(ContinuousClock.now - building) (\(source.description)), "
            + (options.jsonRecords ? "logged as JSON records" : "logged as binary records"))
        let f = built.footprint
        print("state: \(built.keys.accounts) distinct accounts, \(built.keys.pairs) debtor→creditor pairs, \(built.keys.entities) devices and IPs; "
            + "store footprint \(Self.megabytes(f.total)) (accounts \(Self.megabytes(f.accounts)), pairs \(Self.megabytes(f.pairs)), "
            + "devices and IPs \(Self.megabytes(f.entities)))")
        if let snapshot = built.snapshot {
            print(
                "snapshot at sequence \(snapshot.sequence) (\(scored - Int(snapshot.sequence)) records after it): \(Self.megabytes(snapshot.bytes)), "
                    + "written in \(snapshot.duration); scoring paused \(snapshot.pause) for the capture")
            let (took, accounts) = try await Self.timeLoad(data: data)
            print("snapshot load in-process (read, check, decode, restore into an empty store): \(Self.seconds(took)); \(accounts) accounts restored")
        }

        let eventsBytes = try Self.diskUse(data + "/events")
        let snapshotBytes = built.snapshot == nil ? 0 : try Self.diskUse(data + "/snapshots")
        print("disk: event log \(Self.megabytes(eventsBytes)) (\(eventsBytes / max(1, scored)) bytes per payment, preallocated tail included), "
            + "snapshots \(Self.megabytes(snapshotBytes))")
        if built.snapshot == nil {
            let fullReplay = try Self.timeToReady(vigil: options.vigil, data: data)
            print("time to /ready: full replay \(Self.seconds(fullReplay)) (\(Int(Double(scored) / Self.secondsValue(fullReplay))) events/s)")
            return
        }

        let withSnapshot = try Self.timeToReady(vigil: options.vigil, data: data)
        try FileManager.default.moveItem(atPath: data + "/snapshots", toPath: scratch + "/snapshots-aside")
        let fullReplay = try Self.timeToReady(vigil: options.vigil, data: data)
        try FileManager.default.moveItem(atPath: scratch + "/snapshots-aside", toPath: data + "/snapshots.bench")
        print("time to /ready: snapshot + tail \(Self.seconds(withSnapshot)); full replay \(Self.seconds(fullReplay)) "
            + "(\(Int(Double(scored) / Self.secondsValue(fullReplay))) events/s)")
        if options.keep { print("data directory kept: \(data) (snapshot moved to snapshots.bench)") }
    }

    /// The payments to score, in order, how many, and what they are.
    struct Source {
        var payments: AnySequence<TokenizedPayment>
        var count: Int
        var description: String
    }

    /// `FeatureMemory`'s workload with `--debtors`, capped by `--payments`; otherwise one simulated history (at most
    /// 200,000 payments) repeated in later periods with new ids, as the other stages do, up to `--payments`.
    static func payments(_ options: Options, scratch: String) throws -> Source {
        if let debtors = options.debtors {
            let memory = FeatureMemory(debtors: debtors)
            let plan = memory.makePlan()
            return Source(
                payments: AnySequence(plan.enumerated().lazy.map { memory.payment($0.offset, of: $0.element) }),
                count: min(options.payments ?? plan.count, plan.count),
                description: "FeatureMemory's workload: \(debtors) distinct debtors pay \(memory.creditors) creditors, \(plan.count) payments "
                    + "over \(FeatureMemory.days) days in time order"
            )
        }
        let count = options.payments ?? 5_000_000
        let workload = try Workload.make(payments: min(count, 200_000), in: scratch)
        let passes = (count + workload.payments.count - 1) / workload.payments.count
        return Source(
            payments: AnySequence((0...).lazy.flatMap { workload.payments(pass: $0) }),
            count: count,
            description: "\(passes) passes of \(workload.payments.count) simulated payments"
        )
    }

    /// What building the data directory left: the state's size and the snapshot.
    struct Built {
        var scored: Int
        var keys: (accounts: Int, pairs: Int, entities: Int)
        var footprint: FeatureStoreFootprint
        var snapshot: StateSnapshots.Summary?
    }

    /// Scores `source` into `data` and, unless `--json-records`, takes a snapshot before the last `tail` records. The
    /// state is dropped on return, so the servers started next do not share the memory with it.
    static func build(_ source: Source, options: Options, data: String) async throws -> Built {
        let model = try ModelBundle.bundled()
        let tenant = try BenchmarkTenant.policy()
        let log = try FileEventLog(directory: data + "/events", durability: .async)
        let (store, index) = (InMemoryFeatureStore(), DuplicateIndex())
        var snapshot: StateSnapshots.Summary?
        let scored: Int
        if options.jsonRecords {
            let engine = ScoringEngine(store: store, log: JSONRecordLog(base: log), model: model, duplicates: index)
            scored = try await Self.score(source.count, of: source.payments, tenant: tenant, on: engine) { _ in }
        } else {
            let engine = ScoringEngine(store: store, log: log, model: model, duplicates: index)
            let snapshots = StateSnapshots(store: store, duplicates: index, usage: nil, log: log, dataDirectory: data)
            let snapshotAt = source.count - options.tail
            scored = try await Self.score(source.count, of: source.payments, tenant: tenant, on: engine) { scored in
                if snapshot == nil && scored >= snapshotAt { snapshot = try await snapshots.take() }
            }
            if snapshot == nil { snapshot = try await snapshots.take() }
        }
        await log.shutdown()
        return Built(scored: scored, keys: store.counts, footprint: store.footprint(), snapshot: snapshot)
    }

    /// Loads the newest snapshot of `data` into an empty store the way `vigil serve` starts, and returns how long that
    /// took and the accounts it restored.
    static func timeLoad(data: String) async throws -> (Duration, Int) {
        let log = try FileEventLog(directory: data + "/events", durability: .async)
        let snapshots = StateSnapshots(store: InMemoryFeatureStore(), duplicates: DuplicateIndex(), usage: nil, log: log, dataDirectory: data)
        let started = ContinuousClock.now
        let loaded = try await snapshots.load(logger: Logger(label: "vigil-microbench"))
        let took = ContinuousClock.now - started
        await log.shutdown()
        guard loaded.snapshot != nil else {
            throw WorkloadError("the snapshot did not load: \(loaded.skipped.map { "\($0.sequence): \($0.reason)" }.joined(separator: "; "))")
        }
        return (took, snapshots.store.counts.accounts)
    }

    /// Scores the first `count` of `payments` through `engine`, 64 at a time as concurrent requests would come, so the
    /// log's group commit batches them; `progress` is told the count after each batch. Returns the count scored.
    static func score<L: EventLog>(
        _ count: Int, of payments: AnySequence<TokenizedPayment>, tenant: TenantPolicy,
        on engine: ScoringEngine<InMemoryFeatureStore, L, DuplicateIndex>, progress: (Int) async throws -> Void
    ) async throws -> Int {
        var remaining = payments.makeIterator()
        var scored = 0
        var batch: [TokenizedPayment] = []
        while scored < count {
            batch.removeAll(keepingCapacity: true)
            while batch.count < min(64, count - scored), let payment = remaining.next() { batch.append(payment) }
            if batch.isEmpty { break }
            await withTaskGroup(of: Void.self) { group in
                for payment in batch {
                    group.addTask {
                        _ = await engine.score(payment, tenant: tenant, receivedAt: payment.createdAt, started: .now)
                    }
                }
            }
            scored += batch.count
            try await progress(scored)
        }
        return scored
    }

    static func secondsValue(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1e6)
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.2f s", Double(seconds) + Double(attoseconds) * 1e-18)
    }

    /// Bytes of disk the files under `path` occupy (allocated blocks, so a preallocated segment counts whole).
    static func diskUse(_ path: String) throws -> Int {
        var total = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            var info = stat()
            if stat(path + "/" + name, &info) == 0 { total += Int(info.st_blocks) * 512 }
        }
        return total
    }

    /// Starts `vigil serve` on `data`, waits for `/ready` to answer 200, stops it with SIGTERM, and returns the time
    /// from the start to the first 200.
    static func timeToReady(vigil: String, data: String) throws -> Duration {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: vigil)
        // No periodic snapshot or retention during the measurement.
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", data]
        var environment = ProcessInfo.processInfo.environment
        environment["VIGIL_SNAPSHOT_INTERVAL_SECONDS"] = "0"
        environment["VIGIL_LOG_LEVEL"] = "warning"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        var line: [UInt8] = []
        var port: Int?
        while port == nil {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw WorkloadError("vigil serve exited before it printed its port") }
            line += chunk
            let text = String(decoding: line, as: UTF8.self)
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                port = Int(text[range.upperBound...].prefix { $0.isNumber })
            }
        }
        while ContinuousClock.now - started < .seconds(600) {
            if Self.status(port: port!, path: "/ready") == 200 {
                let ready = ContinuousClock.now - started
                process.terminate()
                process.waitUntilExit()
                return ready
            }
            usleep(10_000)
        }
        throw WorkloadError("vigil serve was not ready within 600 s")
    }

    /// The status of `GET path` on 127.0.0.1:`port`, or nil when it does not answer.
    static func status(port: Int, path: String) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard got > 12 else { return nil }
        return Int(String(decoding: buffer[9..<12], as: UTF8.self))
    }
}

/// The event log as the engine wrote it before binary records: each record appended as its JSON form.
struct JSONRecordLog: EventLog {
    let base: FileEventLog

    func append(_ payload: [UInt8]) async throws(EventLogError) -> UInt64 {
        let json: [UInt8]
        do {
            json = try EventCoding.exportJSON(payload)
        } catch {
            throw EventLogError(code: .invalidArgument, message: "not a record: \(error)")
        }
        return try await base.append(json)
    }

    var failure: EventLogError? { base.failure }

    func shutdown() async { await base.shutdown() }
}
