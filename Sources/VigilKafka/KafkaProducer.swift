import CRdKafka
import Synchronization

/// Writes messages to Kafka through librdkafka: an idempotent producer with `acks=all`, so a retried send is written
/// once and an acknowledged message is on every in-sync replica.
///
/// `produce` returns when librdkafka's delivery report for the message arrives: the message is written, or it failed
/// (including when `deliveryTimeout` passed, librdkafka's `message.timeout.ms`). Delivery reports are served on
/// librdkafka's background thread, so no thread of the caller polls. Keys and payloads are never logged.
public final class KafkaProducer: Sendable {
    /// How the producer connects and how long a message may take to be delivered.
    public struct Configuration: Sendable {
        /// `host:port` of one or more brokers to bootstrap from.
        public var bootstrapServers: [String]
        /// How long librdkafka retries a message before reporting it failed (`message.timeout.ms`).
        public var deliveryTimeout: Duration
        /// The client id brokers see (`client.id`).
        public var clientID: String
        /// Further librdkafka properties (e.g. `socket.timeout.ms`). The ones this type owns
        /// (`enable.idempotence`, `acks`, `bootstrap.servers`, `message.timeout.ms`) are refused.
        public var properties: [String: String]

        public init(
            bootstrapServers: [String], deliveryTimeout: Duration = .seconds(30), clientID: String = "vigil",
            properties: [String: String] = [:]
        ) {
            self.bootstrapServers = bootstrapServers
            self.deliveryTimeout = deliveryTimeout
            self.clientID = clientID
            self.properties = properties
        }
    }

    static let ownedProperties: Set<String> = [
        "enable.idempotence", "acks", "request.required.acks", "bootstrap.servers", "metadata.broker.list",
        "message.timeout.ms", "delivery.timeout.ms",
    ]

    // librdkafka's client handle is thread-safe (rdkafka.h: "all APIs are thread-safe" except where noted); it is
    // destroyed once, by `close`, after which `state` refuses every call.
    private nonisolated(unsafe) let handle: OpaquePointer
    private nonisolated(unsafe) let backgroundQueue: OpaquePointer?
    private let deliveries: DeliveryRegistry
    private let state = Mutex<Bool>(false)  // closed

    /// Creates the producer; it connects in the background.
    /// - Throws: `KafkaError` with code `.configuration` for a refused property, `.clientCreation` if librdkafka
    ///   cannot create the client.
    public init(configuration: Configuration) throws(KafkaError) {
        let conf = try Self.makeConf(
            [
                ("bootstrap.servers", configuration.bootstrapServers.joined(separator: ",")),
                ("client.id", configuration.clientID),
                ("enable.idempotence", "true"),
                ("acks", "all"),
                ("message.timeout.ms", String(Self.milliseconds(configuration.deliveryTimeout))),
            ],
            extra: configuration.properties, owned: Self.ownedProperties, client: "producer"
        )
        let deliveries = DeliveryRegistry()
        rd_kafka_conf_set_events(conf, Int32(RD_KAFKA_EVENT_DR))
        rd_kafka_conf_set_background_event_cb(conf, deliveryReportCallback)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(deliveries).toOpaque())
        var errorText = [CChar](repeating: 0, count: 512)
        // On success rd_kafka_new owns conf; on failure the caller still does.
        guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(
                code: .clientCreation, errorName: "_FAIL",
                message: String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            )
        }
        // Delivery reports are queued on the main queue; forwarding it to the background queue has librdkafka's own
        // thread hand them to `deliveryReportCallback`.
        let mainQueue = rd_kafka_queue_get_main(handle)
        let backgroundQueue = rd_kafka_queue_get_background(handle)
        rd_kafka_queue_forward(mainQueue, backgroundQueue)
        rd_kafka_queue_destroy(mainQueue)
        self.handle = handle
        self.backgroundQueue = backgroundQueue
        self.deliveries = deliveries
    }

    deinit {
        close(timeout: .zero)
    }

    /// Sends one message and returns when Kafka has acknowledged it (on all in-sync replicas).
    /// - Parameters:
    ///   - topic: the topic; the mock and brokers with auto-creation create it on first use.
    ///   - key: the partitioning key; messages with one key keep their order.
    ///   - value: the payload; it is copied, never logged.
    /// - Throws: `KafkaError` with code `.enqueue` if librdkafka refuses the message, `.delivery` with the delivery
    ///   report's error (`_MSG_TIMED_OUT` once `deliveryTimeout` has passed), `.closed` if the producer is closed.
    public func produce(topic: String, key: [UInt8], value: [UInt8]) async throws(KafkaError) {
        try await produce([(topic, key, value)])
    }

    /// Sends messages in their order and returns when Kafka has acknowledged every one. They are handed to librdkafka
    /// one after another from this call, so messages of one key keep the batch's order (the idempotent producer keeps
    /// it across retries); sending each from its own task would hand them over in whatever order the tasks ran.
    /// - Throws: the first failing message's `KafkaError` (as ``produce(topic:key:value:)``), once every report is in.
    public func produce(_ messages: [(topic: String, key: [UInt8], value: [UInt8])]) async throws(KafkaError) {
        guard !messages.isEmpty else { return }
        let result: Result<Void, KafkaError> = await withCheckedContinuation { continuation in
            let batch = BatchDelivery(count: messages.count, continuation: continuation)
            for message in messages {
                let id = deliveries.register { batch.report($0) }
                if let error = enqueue(topic: message.topic, key: message.key, value: message.value, deliveryID: id) {
                    deliveries.complete(id, with: .failure(error))
                }
            }
        }
        try result.get()
    }

    private func enqueue(topic: String, key: [UInt8], value: [UInt8], deliveryID: UInt) -> KafkaError? {
        state.withLock { closed -> KafkaError? in
            guard !closed else {
                return KafkaError(code: .closed, errorName: "_DESTROY", message: "the producer is closed")
            }
            guard let topicHandle = rd_kafka_topic_new(handle, topic, nil) else {
                return KafkaError(code: .enqueue, responseError: rd_kafka_last_error())
            }
            defer { rd_kafka_topic_destroy(topicHandle) }
            let status = value.withUnsafeBytes { valueBytes in
                key.withUnsafeBytes { keyBytes in
                    rd_kafka_produce(
                        topicHandle, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                        UnsafeMutableRawPointer(mutating: valueBytes.baseAddress), valueBytes.count,
                        keyBytes.baseAddress, keyBytes.count, UnsafeMutableRawPointer(bitPattern: deliveryID)
                    )
                }
            }
            return status == 0 ? nil : KafkaError(code: .enqueue, responseError: rd_kafka_last_error())
        }
    }

    /// Waits until every queued message has its delivery report, or `timeout` passes. Blocks the calling thread, and
    /// `produce` calls wait until it returns (it holds the lock that keeps `close` from destroying the client): call
    /// it at shutdown, not while scoring.
    /// - Throws: `KafkaError` `_TIMED_OUT` (code `.delivery`) if messages are still outstanding.
    public func flush(timeout: Duration) throws(KafkaError) {
        let status = state.withLock { closed -> rd_kafka_resp_err_t in
            closed ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_flush(handle, Self.milliseconds(timeout))
        }
        if status != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: .delivery, responseError: status)
        }
    }

    /// Flushes for up to `timeout`, fails what is still outstanding with code `.closed`, and releases the client.
    /// Later calls do nothing; later `produce` calls fail with `.closed`. Blocks the calling thread.
    public func close(timeout: Duration = .seconds(5)) {
        let wasClosed = state.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        _ = rd_kafka_flush(handle, Self.milliseconds(timeout))
        _ = rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
        // Purged messages get delivery reports too; let the background thread serve them before the handle goes.
        _ = rd_kafka_flush(handle, 1000)
        if let backgroundQueue { rd_kafka_queue_destroy(backgroundQueue) }
        rd_kafka_destroy(handle)
        deliveries.failAll(KafkaError(code: .closed, errorName: "_DESTROY", message: "the producer was closed"))
    }

    /// The value librdkafka holds for a configuration property of this producer, e.g. `enable.idempotence`.
    func effectiveProperty(_ name: String) -> String? {
        state.withLock { closed -> String? in
            guard !closed else { return nil }
            var buffer = [CChar](repeating: 0, count: 1024)
            var size = buffer.count
            guard rd_kafka_conf_get(rd_kafka_conf(handle), name, &buffer, &size) == RD_KAFKA_CONF_OK else { return nil }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(total, 0))
    }

    /// A librdkafka configuration holding `properties`, then the caller's `extra` ones in key order. An extra one
    /// that the client sets itself (in `owned`) is refused, naming the `client` ("producer", "consumer").
    /// - Throws: `KafkaError` `.configuration`; nothing is left allocated.
    static func makeConf(
        _ properties: [(String, String)], extra: [String: String], owned: Set<String>, client: String
    ) throws(KafkaError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        do throws(KafkaError) {
            for key in extra.keys.sorted() where owned.contains(key) {
                throw KafkaError(
                    code: .configuration, errorName: "_INVALID_ARG",
                    message: "the \(client) sets \(key) itself; remove it from the properties"
                )
            }
            for (key, value) in properties + extra.sorted(by: { $0.key < $1.key }).map({ ($0.key, $0.value) }) {
                try set(key, value, on: conf)
            }
        } catch {
            rd_kafka_conf_destroy(conf)
            throw error
        }
        return conf
    }

    static func set(_ key: String, _ value: String, on conf: OpaquePointer) throws(KafkaError) {
        var errorText = [CChar](repeating: 0, count: 512)
        guard rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) == RD_KAFKA_CONF_OK else {
            throw KafkaError(
                code: .configuration, errorName: "_INVALID_ARG",
                message: String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            )
        }
    }
}

/// The continuations of messages waiting for their delivery reports, by the id passed to librdkafka as the
/// message's opaque.
final class DeliveryRegistry: Sendable {
    typealias Report = @Sendable (Result<Void, KafkaError>) -> Void

    private struct Pending: ~Copyable {
        var nextID: UInt = 1
        var waiting: [UInt: Report] = [:]
    }

    private let pending = Mutex(Pending())

    func register(_ report: @escaping Report) -> UInt {
        pending.withLock { pending in
            let id = pending.nextID
            pending.nextID += 1
            pending.waiting[id] = report
            return id
        }
    }

    func complete(_ id: UInt, with result: Result<Void, KafkaError>) {
        pending.withLock { $0.waiting.removeValue(forKey: id) }?(result)
    }

    func failAll(_ error: KafkaError) {
        let waiting = pending.withLock { pending in
            defer { pending.waiting.removeAll() }
            return pending.waiting
        }
        for report in waiting.values { report(.failure(error)) }
    }
}

/// One batch's delivery reports: resumes the sender once all are in, with the first failure if any.
final class BatchDelivery: Sendable {
    private struct State {
        var remaining: Int
        var failure: KafkaError?
        var continuation: CheckedContinuation<Result<Void, KafkaError>, Never>?
    }

    private let state: Mutex<State>

    init(count: Int, continuation: CheckedContinuation<Result<Void, KafkaError>, Never>) {
        state = Mutex(State(remaining: count, continuation: continuation))
    }

    func report(_ result: Result<Void, KafkaError>) {
        let finished: (CheckedContinuation<Result<Void, KafkaError>, Never>, Result<Void, KafkaError>)? = state.withLock { state in
            if case .failure(let error) = result, state.failure == nil { state.failure = error }
            state.remaining -= 1
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.failure.map { .failure($0) } ?? .success(()))
        }
        if let (continuation, outcome) = finished { continuation.resume(returning: outcome) }
    }
}

/// Runs on librdkafka's background thread with a batch of delivery reports.
private func deliveryReportCallback(
    _ handle: OpaquePointer?, _ event: OpaquePointer?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let event else { return }
    defer { rd_kafka_event_destroy(event) }
    guard rd_kafka_event_type(event) == RD_KAFKA_EVENT_DR, let opaque else { return }
    let deliveries = Unmanaged<DeliveryRegistry>.fromOpaque(opaque).takeUnretainedValue()
    while let message = rd_kafka_event_message_next(event) {
        let id = UInt(bitPattern: message.pointee._private)
        let error = message.pointee.err
        deliveries.complete(
            id, with: error == RD_KAFKA_RESP_ERR_NO_ERROR ? .success(()) : .failure(KafkaError(code: .delivery, responseError: error))
        )
    }
}
