import Testing
import VigilKafkaStream
import VigilServer

@testable import VigilKafka

/// The same suite for both event stream sinks: the in-process one and Kafka's (through librdkafka's mock cluster).
@Suite("EventStreamSink: in memory and on Kafka")
struct EventStreamSinkTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, kafka
        var testDescription: String { rawValue }
    }

    /// A sink, what it holds, and a way to take its stream down and up.
    struct Harness {
        var sink: any EventStreamSink
        var held: () -> [StreamMessage]
        var setAvailable: (Bool) throws -> Void
        var mock: KafkaMockCluster?
    }

    static let topic = "vigil.events"

    static func harness(_ kind: Kind) throws -> Harness {
        switch kind {
        case .memory:
            let stream = InMemoryEventStream()
            return Harness(sink: stream, held: { stream.messages }, setAvailable: { stream.setAvailable($0) })
        case .kafka:
            let mock = try KafkaMockCluster(brokers: 1)
            try mock.createTopic(topic, partitions: 1, replicationFactor: 1)
            let url = try EventStreamURL(parsing: "kafka://" + mock.bootstrapServers, from: "test")
            let sink = try KafkaEventStream(url: url, topic: topic, deliveryTimeout: .seconds(1))
            return Harness(
                sink: sink,
                held: {
                    guard let consumer = try? TestConsumer(bootstrapServers: mock.bootstrapServers, topic: topic) else { return [] }
                    return consumer.readRemaining().map { StreamMessage(key: $0.key, value: $0.value) }
                },
                setAvailable: { available in try available ? mock.setUp(broker: 1) : mock.setDown(broker: 1) },
                mock: mock
            )
        }
    }

    static func messages(_ range: Range<Int>) -> [StreamMessage] {
        range.map { StreamMessage(key: Array("tenant-\($0 % 3)/payment-\($0)".utf8), value: Array("{\"sequence\":\($0)}".utf8)) }
    }

    @Test("a delivered batch is held whole, in order", arguments: Kind.allCases)
    func deliversInOrder(_ kind: Kind) async throws {
        let harness = try Self.harness(kind)
        try await harness.sink.send(Self.messages(0..<50))
        try await harness.sink.send(Self.messages(50..<60))
        #expect(harness.held() == Self.messages(0..<60))
        await harness.sink.close()
    }

    @Test("during an outage a send fails; sent again afterwards, the batch is delivered", arguments: Kind.allCases)
    func outageThenRetry(_ kind: Kind) async throws {
        let harness = try Self.harness(kind)
        try await harness.sink.send(Self.messages(0..<5))
        try harness.setAvailable(false)
        await #expect(throws: (any Error).self) { try await harness.sink.send(Self.messages(5..<10)) }
        try harness.setAvailable(true)
        // As the shipper does: the same batch again until it is taken (librdkafka reconnects with its own backoff, so
        // the first send after the outage may still time out). Bounded: 20 sends of at most 1 s.
        var delivered = false
        for _ in 0..<20 where !delivered {
            delivered = (try? await harness.sink.send(Self.messages(5..<10))) != nil
        }
        #expect(delivered)
        let held = harness.held()
        // Messages 5..<10 are held once or more (a timed-out send may have been written after all); nothing is lost.
        #expect(Array(held.prefix(5)) == Self.messages(0..<5))
        #expect(Set(held.dropFirst(5).map(\.key)) == Set(Self.messages(5..<10).map(\.key)))
        await harness.sink.close()
    }

    @Test("a send after close fails", arguments: Kind.allCases)
    func sendAfterClose(_ kind: Kind) async throws {
        let harness = try Self.harness(kind)
        await harness.sink.close()
        await #expect(throws: (any Error).self) { try await harness.sink.send(Self.messages(0..<1)) }
    }
}
