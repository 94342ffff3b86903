import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilProtection

/// How many of the event log's records are on the stream, kept durably in `DATA/stream-position` so that a restarted
/// node resends from there (at least once). Written atomically (temporary file, fsync, rename, directory fsync) after
/// each delivered batch.
public final class StreamPosition: Sendable {
    /// The file's first line; the second is the count.
    static let header = "vigil-stream-position 1"

    public let path: String
    private let value: Atomic<UInt64>

    /// Every record with a sequence number below this is on the stream.
    public var shipped: UInt64 { value.load(ordering: .acquiring) }

    /// Reads the position in `dataDirectory`, or 0 (nothing shipped) when there is no file yet.
    /// - Throws: `StartupError` when the file is unreadable or not a position.
    public init(dataDirectory: String) throws {
        path = dataDirectory + "/stream-position"
        guard FileManager.default.fileExists(atPath: path) else {
            value = Atomic(0)
            return
        }
        guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw StartupError(description: "cannot read the stream position \(path)")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 3, lines[0] == Self.header, lines[2].isEmpty, let shipped = UInt64(lines[1]) else {
            throw StartupError(
                description: "\(path) is not a stream position this version reads; remove it to ship the whole event log again"
            )
        }
        value = Atomic(shipped)
    }

    /// Stores `shipped` durably, then publishes it.
    func store(_ shipped: UInt64) throws {
        try AtomicFile.write(Array("\(Self.header)\n\(shipped)\n".utf8), to: path, mode: 0o600)
        value.store(shipped, ordering: .releasing)
    }
}

extension StreamMessage {
    /// The `schema` member of every message value (`docs/schemas/vigil-event.v1.schema.json`).
    public static let schema = "vigil.event.v1"

    /// The message for one event-log record: key `tenant/paymentId`, value the record's export JSON object (as
    /// `vigil events export` prints it) with `schema` and `sequence` in front of its members.
    /// - Throws: `EventDecodingError` for a record this version does not read.
    /// - Parameter leavesRegion: whether `tenant`'s records may go to the peer region; the message is resident when
    ///   not.
    public init(sequence: UInt64, record payload: [UInt8], leavesRegion: (_ tenant: String) -> Bool = { _ in true }) throws {
        let record = try EventCoding.decodeRecord(payload)
        // A loaded file's records share a key, so they stay in order on one partition; a payment's labels share its
        // key (its id, else its UETR).
        let paymentId =
            switch record {
            case .scored(let event): event.paymentId
            case .duplicateAnswered(let event): event.paymentId
            case .shadow(let event): event.paymentId
            case .intake(let event): "intake/" + event.fileId
            case .label(let event): "label/" + event.record.paymentReference
            }
        // The export JSON object; the members are spliced in front without re-encoding.
        let json = EventCoding.exportJSON(record, stored: payload)
        guard json.first == UInt8(ascii: "{"), json.count > 2 else {
            throw StartupError(description: "event-log record \(sequence) is not a JSON object")
        }
        var value = Array("{\"schema\":\"\(Self.schema)\",\"sequence\":\(sequence),".utf8)
        value.append(contentsOf: json.dropFirst())
        self.init(key: Array("\(record.tenant)/\(paymentId)".utf8), value: value, resident: !leavesRegion(record.tenant))
    }
}

/// The stream's Prometheus series; registered only when a stream is configured.
final class StreamMetrics: Sendable {
    let lag: Gauge
    let shipped: Counter
    let failures: Counter

    init(registry: PrometheusCollectorRegistry) {
        lag = registry.makeGauge(
            name: "vigil_stream_lag_events", help: "Event-log records appended but not yet on the event stream."
        )
        shipped = registry.makeCounter(
            name: "vigil_stream_shipped_events_total", help: "Event-log records delivered to the event stream (resends included)."
        )
        failures = registry.makeCounter(
            name: "vigil_stream_send_failures_total", help: "Batches the event stream did not take; each is sent again after a backoff."
        )
    }
}

/// Ships the event log to the event stream: the local log is the outbox.
///
/// It reads durable records from the stream position on, sends them in batches with key `tenant/paymentId`, and after
/// a batch is delivered stores the new position durably. A record is delivered at least once: after a crash between
/// delivery and storing the position, the batch is sent again, with the same keys, for consumers to de-duplicate.
/// While the stream refuses batches (an outage), scoring goes on, the log keeps the records and the shipper retries
/// the same batch with exponential backoff, then catches up.
struct EventShipper: Service {
    let log: FileEventLog
    let sink: any EventStreamSink
    let position: StreamPosition
    let metrics: StreamMetrics
    /// The node's region and its peer: a tenant whose regions leave out the peer has its records kept resident.
    let link: RegionLink
    let logger: Logger
    var batchRecords = 500
    var idleWait = Duration.milliseconds(20)
    var backoff = (first: Duration.milliseconds(100), longest: Duration.seconds(2))

    init(
        log: FileEventLog, sink: any EventStreamSink, position: StreamPosition, metrics: ServerMetrics,
        link: RegionLink = RegionLink(region: nil, peer: nil), logger: Logger
    ) throws {
        guard position.shipped <= log.appendedRecords else {
            throw StartupError(
                description: "the stream position \(position.path) says \(position.shipped) records were shipped, but the event log "
                    + "holds \(log.appendedRecords): it belongs to another log; remove it to ship this log from its start"
            )
        }
        self.log = log
        self.sink = sink
        self.position = position
        self.metrics = StreamMetrics(registry: metrics.registry)
        self.link = link
        self.logger = logger
        let (streamMetrics, position) = (self.metrics, position)
        metrics.onScrape { [log] in
            streamMetrics.lag.set(to: Double(log.appendedRecords &- position.shipped))
        }
    }

    func run() async throws {
        logger.info(
            "Shipping the event log to the event stream",
            metadata: ["vigil.stream": .string(sink.summary), "vigil.stream.shipped": "\(position.shipped)"]
        )
        var tail = log.tail(from: position.shipped)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let start = tail
            let batchRecords = self.batchRecords
            let read: (records: [(sequence: UInt64, payload: [UInt8])], tail: EventLogTail)
            do {
                read = try await blocking {
                    var tail = start
                    return (try tail.read(maxRecords: batchRecords), tail)
                }
            } catch {
                // Not a record this node can read back: shipping stops here (the lag grows) rather than skip it.
                logger.error("Cannot read the event log to ship it; shipping stopped", metadata: ["vigil.error": "\(error)"])
                break
            }
            if read.records.isEmpty {
                try? await Task.sleep(for: idleWait)
                continue
            }
            let messages: [StreamMessage]
            do {
                let link = self.link
                // Without a peer region every record may go on the one topic.
                let leavesRegion: (String) -> Bool = link.peer.map { peer in { link.allows(tenant: $0, in: peer) } } ?? { _ in true }
                messages = try read.records.map { try StreamMessage(sequence: $0.sequence, record: $0.payload, leavesRegion: leavesRegion) }
            } catch {
                logger.error("An event-log record cannot be shipped; shipping stopped", metadata: ["vigil.error": "\(error)"])
                break
            }
            guard await deliver(messages, through: read.tail.nextSequence) else { break }
            tail = read.tail
            metrics.shipped.increment(by: Int64(messages.count))
        }
        try? await gracefulShutdown()
        await sink.close()
        logger.info("Event stream closed", metadata: ["vigil.stream.shipped": "\(position.shipped)"])
    }

    /// Sends the batch until the stream takes it, then stores the position. False once shutting down.
    private func deliver(_ messages: [StreamMessage], through next: UInt64) async -> Bool {
        var wait = backoff.first
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await sink.send(messages)
                let position = self.position
                try await blocking { try position.store(next) }
                if failing { logger.notice("The event stream takes records again; catching up", metadata: ["vigil.stream.shipped": "\(next)"]) }
                return true
            } catch {
                metrics.failures.increment()
                if !failing {
                    // Once per outage, not per retry.
                    logger.warning(
                        "The event stream did not take a batch; the event log keeps it and it is sent again",
                        metadata: ["vigil.error": "\(error)", "vigil.stream.shipped": "\(position.shipped)"]
                    )
                    failing = true
                }
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, backoff.longest)
            }
        }
        return false
    }
}
