import CRdKafka
import Synchronization

/// One partition of a topic.
public struct KafkaTopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// Where a consumer starts reading a partition.
public enum KafkaStartOffset: Hashable, Sendable {
    /// The oldest message the partition still holds.
    case beginning
    /// After the newest message: only messages produced from now on.
    case end
    /// The consumer group's committed offset, or `beginning` when the group has none.
    case committed
    /// This offset.
    case offset(Int64)

    var rawValue: Int64 {
        switch self {
        case .beginning: Int64(RD_KAFKA_OFFSET_BEGINNING)
        case .end: Int64(RD_KAFKA_OFFSET_END)
        case .committed: Int64(RD_KAFKA_OFFSET_STORED)
        case .offset(let offset): offset
        }
    }
}

/// A message read from a partition. Its key and value are bytes the caller owns; nothing logs them.
public struct KafkaMessage: Sendable, Equatable {
    public var topicPartition: KafkaTopicPartition
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]

    public init(topicPartition: KafkaTopicPartition, offset: Int64, key: [UInt8]?, value: [UInt8]) {
        self.topicPartition = topicPartition
        self.offset = offset
        self.key = key
        self.value = value
    }
}

/// What one poll returns, in the order librdkafka delivered it.
public enum KafkaConsumerEvent: Sendable, Equatable {
    case message(KafkaMessage)
    /// The consumer has read everything `partition` held when it fetched; `nextOffset` is where the next message
    /// will be.
    case endOfPartition(KafkaTopicPartition, nextOffset: Int64)
}

/// Reads messages from Kafka through librdkafka's consumer: partitions assigned with explicit start offsets, or a
/// consumer group's subscription with committed offsets. Offsets are committed only when asked (`commit`), never
/// automatically, so a consumer that crashes re-reads what it had not committed (at least once).
///
/// `poll` does not block a thread: it takes what librdkafka has already fetched (librdkafka fetches on its own
/// threads) and otherwise sleeps the task in steps of at most `pollStep` until the wait is over.
public final class KafkaConsumer: Sendable {
    /// How the consumer connects.
    public struct Configuration: Sendable {
        /// `host:port` of one or more brokers to bootstrap from.
        public var bootstrapServers: [String]
        /// The consumer group (`group.id`): where `commit` stores offsets and which members share a subscription.
        public var groupID: String
        /// The client id brokers see (`client.id`).
        public var clientID: String
        /// Further librdkafka properties. The ones this type owns (`bootstrap.servers`, `group.id`,
        /// `enable.auto.commit`, `enable.auto.offset.store`, `enable.partition.eof`) are refused.
        public var properties: [String: String]

        public init(
            bootstrapServers: [String], groupID: String, clientID: String = "vigil", properties: [String: String] = [:]
        ) {
            self.bootstrapServers = bootstrapServers
            self.groupID = groupID
            self.clientID = clientID
            self.properties = properties
        }
    }

    static let ownedProperties: Set<String> = [
        "bootstrap.servers", "metadata.broker.list", "group.id", "enable.auto.commit", "enable.auto.offset.store",
        "enable.partition.eof",
    ]

    /// The longest a poll sleeps before looking at librdkafka's queue again.
    public static let pollStep = Duration.milliseconds(5)

    // librdkafka's client handle is thread-safe; it is destroyed once, by `close`, after which `closed` refuses
    // every call. Calls hold the lock only for non-blocking work, or for the blocking ones documented as such.
    private nonisolated(unsafe) let handle: OpaquePointer
    private let closed = Mutex<Bool>(false)

    /// Creates the consumer; it connects in the background.
    /// - Throws: `KafkaError` with code `.configuration` for a refused property, `.clientCreation` if librdkafka
    ///   cannot create the client.
    public init(configuration: Configuration) throws(KafkaError) {
        let conf = try KafkaProducer.makeConf(
            [
                ("bootstrap.servers", configuration.bootstrapServers.joined(separator: ",")),
                ("client.id", configuration.clientID),
                ("group.id", configuration.groupID),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
                ("enable.partition.eof", "true"),
                // A group without a committed offset, or an offset the partition no longer holds, starts at the oldest.
                ("auto.offset.reset", "earliest"),
            ],
            extra: configuration.properties, owned: Self.ownedProperties, client: "consumer"
        )
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(
                code: .clientCreation, errorName: "_FAIL",
                message: String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            )
        }
        // Client-wide events (errors, logs) go to the queue `poll` serves, so nothing accumulates unread.
        rd_kafka_poll_set_consumer(handle)
        self.handle = handle
    }

    deinit {
        close()
    }

    /// Reads exactly these partitions from these offsets (no group rebalancing). Replaces any earlier assignment.
    /// - Throws: `KafkaError` with code `.consume`, or `.closed`.
    public func assign(_ starts: [KafkaTopicPartition: KafkaStartOffset]) throws(KafkaError) {
        try withOpenHandle { handle throws(KafkaError) in
            let list = Self.partitionList(starts.mapValues(\.rawValue))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try Self.check(rd_kafka_assign(handle, list), code: .consume)
        }
    }

    /// Joins the consumer group and reads the partitions of `topics` it is given, each from the group's committed
    /// offset (or the beginning).
    /// - Throws: `KafkaError` with code `.consume`, or `.closed`.
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        try withOpenHandle { handle throws(KafkaError) in
            let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
            try Self.check(rd_kafka_subscribe(handle, list), code: .consume)
        }
    }

    /// The partitions of `topic`, from the cluster's metadata. Blocks the calling thread for up to `timeout`: call
    /// it when starting to read, not in a loop.
    /// - Throws: `KafkaError` with code `.metadata`: `UNKNOWN_TOPIC_OR_PART` when the topic does not exist,
    ///   `_TRANSPORT` or `_TIMED_OUT` when no broker answered.
    public func partitions(of topic: String, timeout: Duration = .seconds(10)) throws(KafkaError) -> [Int32] {
        try withOpenHandle { handle throws(KafkaError) in
            guard let topicHandle = rd_kafka_topic_new(handle, topic, nil) else {
                throw KafkaError(code: .metadata, responseError: rd_kafka_last_error())
            }
            defer { rd_kafka_topic_destroy(topicHandle) }
            var metadata: UnsafePointer<rd_kafka_metadata>?
            try Self.check(
                rd_kafka_metadata(handle, 0, topicHandle, &metadata, KafkaProducer.milliseconds(timeout)), code: .metadata
            )
            defer { rd_kafka_metadata_destroy(metadata) }
            guard let metadata, metadata.pointee.topic_cnt == 1 else {
                throw KafkaError(code: .metadata, errorName: "UNKNOWN_TOPIC_OR_PART", message: "the cluster did not describe the topic")
            }
            let described = metadata.pointee.topics[0]
            try Self.check(described.err, code: .metadata)
            return UnsafeBufferPointer(start: described.partitions, count: Int(described.partition_cnt)).map(\.id).sorted()
        }
    }

    /// The oldest offset a partition holds and the offset its next message will get (its high watermark), asked of
    /// the partition's leader. Blocks the calling thread for up to `timeout`.
    /// - Throws: `KafkaError` with code `.metadata`.
    public func watermarks(
        of topicPartition: KafkaTopicPartition, timeout: Duration = .seconds(10)
    ) throws(KafkaError) -> (low: Int64, high: Int64) {
        try withOpenHandle { handle throws(KafkaError) in
            var low: Int64 = 0
            var high: Int64 = 0
            try Self.check(
                rd_kafka_query_watermark_offsets(
                    handle, topicPartition.topic, topicPartition.partition, &low, &high, KafkaProducer.milliseconds(timeout)
                ),
                code: .metadata
            )
            return (low, high)
        }
    }

    /// Up to `maxEvents` messages and end-of-partition events, waiting at most `timeout` for the first. Returns an
    /// empty array when nothing arrived in time or the task was cancelled.
    /// - Throws: `KafkaError` with code `.consume` for an error of a partition (e.g. `UNKNOWN_TOPIC_OR_PART`, or
    ///   `OFFSET_OUT_OF_RANGE`) or a fatal client error, `.closed` after `close`. Connection errors that librdkafka
    ///   recovers from on its own (`_TRANSPORT`, `_ALL_BROKERS_DOWN`) are not thrown: the poll just finds nothing.
    public func poll(maxEvents: Int = 500, timeout: Duration) async throws(KafkaError) -> [KafkaConsumerEvent] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let events = try take(maxEvents: maxEvents)
            if !events.isEmpty { return events }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return [] }
            do {
                try await Task.sleep(for: min(remaining, Self.pollStep))
            } catch {
                return []
            }
        }
    }

    private func take(maxEvents: Int) throws(KafkaError) -> [KafkaConsumerEvent] {
        try withOpenHandle { handle throws(KafkaError) in
            var events: [KafkaConsumerEvent] = []
            while events.count < maxEvents, let message = rd_kafka_consumer_poll(handle, 0) {
                defer { rd_kafka_message_destroy(message) }
                let error = message.pointee.err
                let topicPartition = message.pointee.rkt.map {
                    KafkaTopicPartition(topic: String(cString: rd_kafka_topic_name($0)), partition: message.pointee.partition)
                }
                if error == RD_KAFKA_RESP_ERR_NO_ERROR, let topicPartition {
                    events.append(.message(Self.message(message.pointee, topicPartition: topicPartition)))
                } else if error == RD_KAFKA_RESP_ERR__PARTITION_EOF, let topicPartition {
                    events.append(.endOfPartition(topicPartition, nextOffset: message.pointee.offset))
                } else if topicPartition != nil || rd_kafka_fatal_error(handle, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError(code: .consume, responseError: error)
                }
            }
            return events
        }
    }

    private static func message(_ message: rd_kafka_message_t, topicPartition: KafkaTopicPartition) -> KafkaMessage {
        let key = message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) }
        let value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) } ?? []
        return KafkaMessage(topicPartition: topicPartition, offset: message.offset, key: key, value: value)
    }

    /// Stores, in the consumer group, the offset of the next message to read for each partition (the last processed
    /// message's offset + 1), and returns once the group coordinator has it. Blocks the calling thread.
    /// - Throws: `KafkaError` with code `.commit`.
    public func commit(_ nextOffsets: [KafkaTopicPartition: Int64]) throws(KafkaError) {
        try withOpenHandle { handle throws(KafkaError) in
            let list = Self.partitionList(nextOffsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try Self.check(rd_kafka_commit(handle, list, 0), code: .commit)
            for element in UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt)) {
                try Self.check(element.err, code: .commit)
            }
        }
    }

    /// The consumer group's committed offsets of these partitions; a partition without one is absent. Blocks the
    /// calling thread for up to `timeout`.
    /// - Throws: `KafkaError` with code `.commit`.
    public func committed(
        _ partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)
    ) throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        try withOpenHandle { handle throws(KafkaError) in
            let list = Self.partitionList(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try Self.check(rd_kafka_committed(handle, list, KafkaProducer.milliseconds(timeout)), code: .commit)
            var offsets: [KafkaTopicPartition: Int64] = [:]
            for element in UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt)) {
                try Self.check(element.err, code: .commit)
                guard element.offset >= 0 else { continue }
                offsets[KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition)] = element.offset
            }
            return offsets
        }
    }

    /// Leaves the consumer group (if subscribed) and releases the client. Later calls fail with `.closed`. Blocks the
    /// calling thread while librdkafka leaves the group.
    public func close() {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        _ = rd_kafka_consumer_close(handle)
        rd_kafka_destroy(handle)
    }

    private func withOpenHandle<T>(_ body: (OpaquePointer) throws(KafkaError) -> T) throws(KafkaError) -> T {
        try closed.withLock { closed throws(KafkaError) -> T in
            guard !closed else { throw KafkaError(code: .closed, errorName: "_DESTROY", message: "the consumer is closed") }
            return try body(handle)
        }
    }

    private static func partitionList(_ offsets: [KafkaTopicPartition: Int64]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        for (topicPartition, offset) in offsets.sorted(by: { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }) {
            rd_kafka_topic_partition_list_add(list, topicPartition.topic, topicPartition.partition).pointee.offset = offset
        }
        return list
    }

    private static func check(_ status: rd_kafka_resp_err_t, code: KafkaError.Code) throws(KafkaError) {
        guard status == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: code, responseError: status) }
    }
}
