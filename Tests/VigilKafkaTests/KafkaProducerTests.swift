import Synchronization
import Testing

@testable import VigilKafka

@Suite("KafkaProducer against librdkafka's mock cluster")
struct KafkaProducerTests {
    private func keyed(_ index: Int) -> (key: [UInt8], value: [UInt8]) {
        (Array("tenant-a:payment-\(index)".utf8), Array("{\"sequence\":\(index)}".utf8))
    }

    @Test("configures librdkafka as an idempotent producer with acks=all")
    func idempotentWithAllAcks() throws {
        let mock = try KafkaMockCluster(brokers: 1)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: [mock.bootstrapServers]))
        defer { producer.close() }
        #expect(producer.effectiveProperty("enable.idempotence") == "true")
        #expect(producer.effectiveProperty("acks") == "-1")
    }

    @Test("refuses to let properties override what the producer owns, and names librdkafka's refusal of a bad one")
    func refusesOwnedAndInvalidProperties() {
        #expect(throws: KafkaError.self) {
            try KafkaProducer(configuration: .init(bootstrapServers: ["127.0.0.1:1"], properties: ["acks": "1"]))
        }
        do {
            _ = try KafkaProducer(configuration: .init(bootstrapServers: ["127.0.0.1:1"], properties: ["no.such.property": "1"]))
            Issue.record("an unknown property was accepted")
        } catch {
            #expect(error.code == .configuration)
            #expect(error.message.contains("no.such.property"))
        }
    }

    @Test("produces keyed messages that a consumer reads back, in order, once each")
    func producesAndReadsBack() async throws {
        let mock = try KafkaMockCluster(brokers: 3)
        try mock.createTopic("vigil.scores", partitions: 1, replicationFactor: 3)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: [mock.bootstrapServers]))
        defer { producer.close() }
        for index in 0..<20 {
            let (key, value) = keyed(index)
            try await producer.produce(topic: "vigil.scores", key: key, value: value)
        }
        let consumer = try TestConsumer(bootstrapServers: mock.bootstrapServers, topic: "vigil.scores")
        let records = consumer.read(count: 20)
        #expect(records == (0..<20).map { TestConsumer.Record(key: keyed($0).key, value: keyed($0).value) })
        #expect(consumer.readRemaining().isEmpty)
    }

    @Test("a produce waits while the partition's leader is down and delivers once when it is back")
    func leaderDownThenUp() async throws {
        let mock = try KafkaMockCluster(brokers: 3)
        try mock.createTopic("vigil.scores", partitions: 1, replicationFactor: 3)
        try mock.setLeader(topic: "vigil.scores", partition: 0, broker: 2)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: [mock.bootstrapServers]))
        defer { producer.close() }
        let (firstKey, firstValue) = keyed(0)
        try await producer.produce(topic: "vigil.scores", key: firstKey, value: firstValue)

        try mock.setDown(broker: 2)
        let delivered = DeliveredCount()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 1..<10 {
                let (key, value) = keyed(index)
                group.addTask {
                    try await producer.produce(topic: "vigil.scores", key: key, value: value)
                    delivered.value.add(1, ordering: .relaxed)
                }
            }
            // Not a timing assertion: no send can be acknowledged while the leader is down, however long this is.
            try await Task.sleep(for: .milliseconds(500))
            #expect(delivered.value.load(ordering: .relaxed) == 0)
            try mock.setUp(broker: 2)
            try await group.waitForAll()
        }

        let consumer = try TestConsumer(bootstrapServers: mock.bootstrapServers, topic: "vigil.scores")
        let keys = consumer.read(count: 10).map(\.key)
        #expect(keys.sorted { $0.lexicographicallyPrecedes($1) } == (0..<10).map { keyed($0).key }.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(consumer.readRemaining().isEmpty)
    }

    @Test("retriable produce errors from the broker are retried and the message is written once")
    func retriesInjectedErrors() async throws {
        let mock = try KafkaMockCluster(brokers: 3)
        try mock.createTopic("vigil.scores", partitions: 1, replicationFactor: 3)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: [mock.bootstrapServers]))
        defer { producer.close() }
        try mock.pushRequestErrors(apiKey: 0, count: 3, errorName: "NOT_ENOUGH_REPLICAS")
        let (key, value) = keyed(7)
        try await producer.produce(topic: "vigil.scores", key: key, value: value)

        let consumer = try TestConsumer(bootstrapServers: mock.bootstrapServers, topic: "vigil.scores")
        #expect(consumer.read(count: 1) == [TestConsumer.Record(key: key, value: value)])
        #expect(consumer.readRemaining().isEmpty)
    }

    @Test("a non-retriable produce error fails the send with librdkafka's error name")
    func nonRetriableErrorIsNamed() async throws {
        let mock = try KafkaMockCluster(brokers: 1)
        try mock.createTopic("vigil.scores", partitions: 1, replicationFactor: 1)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: [mock.bootstrapServers]))
        defer { producer.close() }
        try mock.pushRequestErrors(apiKey: 0, count: 1, errorName: "MSG_SIZE_TOO_LARGE")
        let (key, value) = keyed(1)
        let error = await #expect(throws: KafkaError.self) {
            try await producer.produce(topic: "vigil.scores", key: key, value: value)
        }
        #expect(error?.code == .delivery)
        #expect(error?.errorName == "MSG_SIZE_TOO_LARGE")
    }

    @Test("a produce to a bootstrap address where nothing listens fails with _MSG_TIMED_OUT after the delivery timeout")
    func unreachableBootstrapTimesOut() async throws {
        // A port the mock had and gave up: nothing listens on it any more.
        let address = try KafkaMockCluster(brokers: 1).bootstrapServers
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: [address], deliveryTimeout: .seconds(1)))
        defer { producer.close() }
        let (key, value) = keyed(1)
        let error = await #expect(throws: KafkaError.self) {
            try await producer.produce(topic: "vigil.scores", key: key, value: value)
        }
        #expect(error?.code == .delivery)
        #expect(error?.errorName == "_MSG_TIMED_OUT")
    }

    @Test("a produce after close fails with code closed")
    func produceAfterClose() async throws {
        let mock = try KafkaMockCluster(brokers: 1)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: [mock.bootstrapServers]))
        producer.close()
        let error = await #expect(throws: KafkaError.self) {
            try await producer.produce(topic: "vigil.scores", key: [1], value: [2])
        }
        #expect(error?.code == .closed)
    }
}

@Suite("KafkaMockCluster")
struct KafkaMockClusterTests {
    @Test("names librdkafka's errors as rd_kafka_err2name does, local ones with their underscore")
    func errorNames() {
        #expect(KafkaMockCluster.responseError(named: "NOT_LEADER_FOR_PARTITION") != nil)
        #expect(KafkaMockCluster.responseError(named: "_TRANSPORT") != nil)
        #expect(KafkaMockCluster.responseError(named: "NO_SUCH_ERROR") == nil)
    }

    @Test("refuses an unknown error name and a bad broker count")
    func refusesBadInput() throws {
        #expect(throws: KafkaError.self) { try KafkaMockCluster(brokers: 0) }
        let mock = try KafkaMockCluster(brokers: 1)
        #expect(throws: KafkaError.self) { try mock.pushRequestErrors(apiKey: 0, count: 1, errorName: "NO_SUCH_ERROR") }
        #expect(throws: KafkaError.self) { try mock.setDown(broker: 9) }
    }
}

private final class DeliveredCount: Sendable {
    let value = Atomic<Int>(0)
}
