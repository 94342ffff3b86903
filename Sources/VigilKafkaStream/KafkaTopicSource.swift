public import VigilEngine
public import VigilKafka
import VigilJSON
public import VigilReporting
public import VigilServer

/// A report's events read from the event stream's Kafka topic and its resident companion (`<topic>.resident`: the
/// records of tenants kept in their region): every partition from its beginning to the end it had when the read
/// started (its high watermark).
///
/// The shipper delivers at least once, so a record may be on the topic twice after a node restarted mid-batch; such a
/// resend is the same key and the same bytes, and is counted once. Two different records never have the same bytes:
/// each carries its node log's `sequence` and its own `receivedAt`.
public struct KafkaTopicSource: ReportEventSource {
    public var brokers: [String]
    public var topic: String
    /// How long the read may go without a message before it gives up (the brokers stopped answering).
    public var stallTimeout: Duration

    public init(url: EventStreamURL, topic: String, stallTimeout: Duration = .seconds(30)) {
        brokers = url.brokers
        self.topic = topic
        self.stallTimeout = stallTimeout
    }

    public func forEachEvent(_ body: (LoggedEvent) throws -> Void) async throws {
        let consumer: KafkaConsumer
        var ends: [KafkaTopicPartition: Int64] = [:]
        do {
            // Its own group: a report neither commits offsets nor takes partitions from another reader.
            consumer = try KafkaConsumer(
                configuration: .init(bootstrapServers: brokers, groupID: "vigil-report", clientID: "vigil-report")
            )
            // The topic and its resident companion (records of tenants kept in this region): one report counts both.
            for name in [topic, StreamMessage.residentTopic(of: topic)] {
                let partitions: [Int32]
                do {
                    partitions = try consumer.partitions(of: name)
                } catch where name != topic && error.errorName == "UNKNOWN_TOPIC_OR_PART" {
                    continue  // no tenant was ever kept resident: the companion was never made
                }
                for partition in partitions {
                    let topicPartition = KafkaTopicPartition(topic: name, partition: partition)
                    let (low, high) = try consumer.watermarks(of: topicPartition)
                    if high > low { ends[topicPartition] = high }
                }
            }
            try consumer.assign(ends.mapValues { _ in .beginning })
        } catch {
            throw ReportError(code: .unreadableSource, message: "cannot read the topic \(topic): \(error)")
        }
        defer { consumer.close() }
        var seen = Set<ResendKey>()
        var lastProgress = ContinuousClock.now
        while !ends.isEmpty {
            let events: [KafkaConsumerEvent]
            do {
                events = try await consumer.poll(timeout: .milliseconds(200))
            } catch {
                throw ReportError(code: .unreadableSource, message: "cannot read the topic \(topic): \(error)")
            }
            if events.isEmpty, lastProgress.duration(to: .now) > stallTimeout {
                throw ReportError(
                    code: .unreadableSource,
                    message: "the topic \(topic) sent nothing for \(stallTimeout); \(ends.count) partitions were not read to their end"
                )
            }
            for case .message(let message) in events {
                lastProgress = .now
                guard let end = ends[message.topicPartition], message.offset < end else { continue }
                if message.offset + 1 >= end { ends[message.topicPartition] = nil }
                guard seen.insert(ResendKey(message)).inserted else { continue }
                try body(try Self.event(message))
            }
        }
    }

    /// The record a message holds, checked to be of the schema this version reads.
    static func event(_ message: KafkaMessage) throws -> LoggedEvent {
        let place = "message \(message.offset) of partition \(message.topicPartition.partition)"
        guard let document = try? JSONParser.parse(message.value), case .string(let schema)? = document["schema"] else {
            throw ReportError(code: .unreadableRecord, message: "\(place) is not an event of the stream (no schema)")
        }
        guard schema == StreamMessage.schema else {
            throw ReportError(code: .unreadableRecord, message: "\(place) has a schema other than \(StreamMessage.schema), the one this version reads")
        }
        do {
            return try EventCoding.decodeRecord(message.value)
        } catch {
            throw ReportError(code: .unreadableRecord, message: "\(place) is not an event this version reads: \(error)")
        }
    }
}

/// A message's identity for spotting resends: two independent 64-bit hashes of its key and value.
private struct ResendKey: Hashable {
    var first: Int
    var second: Int

    init(_ message: KafkaMessage) {
        var first = Hasher()
        first.combine(message.key)
        first.combine(message.value)
        var second = Hasher()
        second.combine(0x5eed)
        second.combine(message.value)
        second.combine(message.key)
        self.first = first.finalize()
        self.second = second.finalize()
    }
}
