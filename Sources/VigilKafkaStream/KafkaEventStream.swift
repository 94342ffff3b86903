import Dispatch
public import VigilKafka
public import VigilServer

/// The event stream on Kafka: each batch is produced by an idempotent producer with `acks=all` to the topic, or a
/// resident message to the region-local topic beside it (`<topic>.resident`), and a send returns once every message of
/// the batch has its delivery report.
public final class KafkaEventStream: EventStreamSink {
    private let producer: KafkaProducer
    public let topic: String
    public let summary: String

    /// Connects (in the background) to the brokers of `url`.
    /// - Parameters:
    ///   - deliveryTimeout: How long librdkafka retries one message before the batch fails and the shipper backs off
    ///     and sends it again.
    /// - Throws: `KafkaError` if librdkafka refuses the configuration.
    public init(url: EventStreamURL, topic: String, deliveryTimeout: Duration = .seconds(10)) throws(KafkaError) {
        producer = try KafkaProducer(
            configuration: .init(bootstrapServers: url.brokers, deliveryTimeout: deliveryTimeout, clientID: "vigil-shipper")
        )
        self.topic = topic
        summary = "kafka \(url.brokers.joined(separator: ",")) topic \(topic)"
    }

    public func send(_ messages: [StreamMessage]) async throws {
        let residentTopic = StreamMessage.residentTopic(of: topic)
        // One call, so the batch reaches librdkafka in the log's order.
        try await producer.produce(messages.map { (topic: $0.resident ? residentTopic : topic, key: $0.key, value: $0.value) })
    }

    public func close() async {
        // Closing flushes what is in flight for up to 5 s, blocking its thread: not one of the cooperative pool's.
        let producer = self.producer
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                producer.close(timeout: .seconds(5))
                continuation.resume()
            }
        }
    }
}
