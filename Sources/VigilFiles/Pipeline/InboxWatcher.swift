import Foundation
import Logging
import VigilProtection

/// Tells when a file in the inbox has stopped changing: its size and modification time the same for the settle time,
/// so a file still being written (over SFTP, by hand) is never read half-way. Pure: the watcher gives it what
/// `stat` says and the time.
public struct SettleTracker: Sendable {
    struct Seen: Sendable, Equatable {
        var size: Int
        var modified: Int64
        var since: Int64
        /// Passes of this file that ended in a retry, and when it may be taken again.
        var retries = 0
        var retryAt: Int64 = .min
    }

    /// The longest pause before a file whose back end did not answer is taken again.
    static let longestRetryPause: Int64 = 300_000

    var seen: [String: Seen] = [:]
    public let settleMilliseconds: Int64

    public init(settleMilliseconds: Int) {
        self.settleMilliseconds = Int64(settleMilliseconds)
    }

    /// Whether the file at `path`, seen now (`nowMillis`) with this size and modification time (nanoseconds), has
    /// looked the same for at least the settle time.
    public mutating func isSettled(_ path: String, size: Int, modified: Int64, nowMillis: Int64) -> Bool {
        if let previous = seen[path], previous.size == size, previous.modified == modified {
            return nowMillis - previous.since >= settleMilliseconds && nowMillis >= previous.retryAt
        }
        seen[path] = Seen(size: size, modified: modified, since: nowMillis)
        return false
    }

    /// The file's pass ended in a retry (clamd or gpg did not answer, the sink failed): it is not taken again before a
    /// pause that doubles with each retry, 1 s up to 5 minutes, so a back end that is down is not sent the same file on
    /// every poll. A file that changes starts afresh.
    public mutating func retryLater(_ path: String, nowMillis: Int64) {
        guard var entry = seen[path] else { return }
        entry.retries += 1
        entry.retryAt = nowMillis + min(Self.longestRetryPause, Int64(1000) << min(entry.retries - 1, 16))
        seen[path] = entry
    }

    /// Forgets every path but these (files that left the inbox).
    public mutating func keep(only present: Set<String>) {
        seen = seen.filter { present.contains($0.key) }
    }
}

/// Polls `DATA/inbox/TENANT/` for every tenant directory and hands each settled file to the pipeline. Names starting
/// with `.` are skipped (`.upload/`, editors' and SFTP clients' temporary files). A directory that is no tenant, or
/// a file the pipeline cannot take, gets an outbox report and never stops the watcher.
public struct InboxWatcher: Sendable {
    public let pipeline: IntakePipeline
    /// The tenants as they are now (they change while the server runs).
    public let tenants: @Sendable () -> [String: TenantIntake]
    var tracker: SettleTracker
    /// Files of unknown tenants already reported, by path, size and time, so each is reported once.
    var reported: Set<String> = []

    public init(pipeline: IntakePipeline, tenants: @escaping @Sendable () -> [String: TenantIntake]) {
        self.pipeline = pipeline
        self.tenants = tenants
        tracker = SettleTracker(settleMilliseconds: pipeline.settings.settleMilliseconds)
    }

    /// How often the inbox is looked at: a quarter of the settle time, between 50 ms and 1 s.
    public var pollInterval: Duration { .milliseconds(min(1000, max(50, pipeline.settings.settleMilliseconds / 4))) }

    /// One look at the inbox; returns the records of the files processed.
    public mutating func pass() async -> [FileRecord] {
        let root = pipeline.layout.inboxRoot
        let known = tenants()
        var present: Set<String> = []
        var processed: [FileRecord] = []
        let directories = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        for directory in directories {
            let folder = root + "/" + directory
            guard Self.isDirectory(folder) else { continue }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            for name in names {
                let path = folder + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                present.insert(path)
                let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
                guard tracker.isSettled(path, size: Int(info.st_size), modified: modified, nowMillis: pipeline.clock()) else { continue }
                guard let tenant = known[directory] else {
                    reportUnknownTenant(directory: directory, name: name, key: "\(path)|\(info.st_size)|\(modified)")
                    continue
                }
                do {
                    let record = try await pipeline.process(tenant: tenant, name: name)
                    if record.status == .retrying { tracker.retryLater(path, nowMillis: pipeline.clock()) }
                    processed.append(record)
                } catch {
                    pipeline.logger.error(
                        "Could not record a daily file's progress; it is tried again on the next pass",
                        metadata: ["vigil.tenant": .string(directory), "vigil.error": "\(error)"]
                    )
                }
            }
        }
        tracker.keep(only: present)
        reported = reported.filter { key in present.contains(String(key.prefix { $0 != "|" })) }
        return processed
    }

    mutating func reportUnknownTenant(directory: String, name: String, key: String) {
        guard !reported.contains(key) else { return }
        reported.insert(key)
        pipeline.logger.warning("A file waits in the inbox of a directory that is no tenant", metadata: ["vigil.inbox": .string(directory)])
        let outbox = pipeline.layout.outbox(tenant: directory)
        struct Report: Encodable {
            var name: String
            var status = "refused"
            var reason = "there is no tenant named after this inbox directory; the file stays until the tenant is created"
        }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            try FileManager.default.createDirectory(atPath: outbox, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try AtomicFile.write(Array(try encoder.encode(Report(name: name))) + [0x0A], to: outbox + "/" + name + ".summary.json", mode: 0o600)
        } catch {
            pipeline.logger.error("Could not write an outbox report", metadata: ["vigil.inbox": .string(directory), "vigil.error": "\(error)"])
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
