import Testing

@testable import VigilKafka

@Suite("KafkaConsumer against librdkafka's mock cluster")
struct KafkaConsumerTests {
    private static let topic = "vigil.events"

    private func produce(_ count: Int, from first: Int = 0, to mock: KafkaMockCluster) async throws {
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: [mock.bootstrapServers]))
        defer { producer.close() }
        for index in first..<(first + count) {
            try await producer.produce(topic: Self.topic, key: Array("key-\(index)".utf8), value: Array("value-\(index)".utf8))
        }
    }

    private func consumer(_ mock: KafkaMockCluster, group: String = "vigil-tests") throws -> KafkaConsumer {
        try KafkaConsumer(configuration: .init(bootstrapServers: [mock.bootstrapServers], groupID: group))
    }

    /// Polls until every partition in `partitions` reported its end, or `polls` polls of 100 ms found nothing.
    private func readToEnd(_ consumer: KafkaConsumer, partitions: Int, polls: Int = 100) async throws -> [KafkaMessage] {
        var messages: [KafkaMessage] = []
        var ended: Set<KafkaTopicPartition> = []
        var idle = 0
        while ended.count < partitions, idle < polls {
            let events = try await consumer.poll(timeout: .milliseconds(100))
            if events.isEmpty { idle += 1 }
            for event in events {
                switch event {
                case .message(let message):
                    messages.append(message)
                    ended.remove(message.topicPartition)
                case .endOfPartition(let topicPartition, _):
                    ended.insert(topicPartition)
                }
            }
        }
        return messages
    }

    @Test("reads an assigned partition from the beginning, in order, and reports its end")
    func readsFromBeginning() async throws {
        let mock = try KafkaMockCluster(brokers: 3)
        try mock.createTopic(Self.topic, partitions: 1, replicationFactor: 3)
        try await produce(10, to: mock)
        let consumer = try consumer(mock)
        defer { consumer.close() }
        let partition = KafkaTopicPartition(topic: Self.topic, partition: 0)
        try consumer.assign([partition: .beginning])
        let messages = try await readToEnd(consumer, partitions: 1)
        #expect(messages.map(\.offset) == Array(0..<10))
        #expect(messages.map { $0.key.map { String(decoding: $0, as: UTF8.self) } } == (0..<10).map { "key-\($0)" })
        #expect(messages.map { String(decoding: $0.value, as: UTF8.self) } == (0..<10).map { "value-\($0)" })
        #expect(try consumer.watermarks(of: partition) == (low: 0, high: 10))
    }

    @Test("starts at an explicit offset")
    func startsAtOffset() async throws {
        let mock = try KafkaMockCluster(brokers: 1)
        try mock.createTopic(Self.topic, partitions: 1, replicationFactor: 1)
        try await produce(10, to: mock)
        let consumer = try consumer(mock)
        defer { consumer.close() }
        try consumer.assign([KafkaTopicPartition(topic: Self.topic, partition: 0): .offset(7)])
        let messages = try await readToEnd(consumer, partitions: 1)
        #expect(messages.map(\.offset) == [7, 8, 9])
    }

    @Test("lists a topic's partitions and reads all of them to their ends, an empty one included")
    func readsEveryPartition() async throws {
        let mock = try KafkaMockCluster(brokers: 3)
        try mock.createTopic(Self.topic, partitions: 4, replicationFactor: 1)
        try await produce(40, to: mock)
        let consumer = try consumer(mock)
        defer { consumer.close() }
        let partitions = try consumer.partitions(of: Self.topic)
        #expect(partitions == [0, 1, 2, 3])
        try consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { (KafkaTopicPartition(topic: Self.topic, partition: $0), .beginning) }))
        let messages = try await readToEnd(consumer, partitions: 4)
        #expect(Set(messages.map { String(decoding: $0.value, as: UTF8.self) }) == Set((0..<40).map { "value-\($0)" }))
        #expect(messages.count == 40)
    }

    @Test("a consumer group resumes from the offsets it committed")
    func resumesFromCommittedOffsets() async throws {
        let mock = try KafkaMockCluster(brokers: 1)
        try mock.createTopic(Self.topic, partitions: 1, replicationFactor: 1)
        try await produce(6, to: mock)
        let partition = KafkaTopicPartition(topic: Self.topic, partition: 0)
        do {
            let first = try consumer(mock, group: "resume")
            defer { first.close() }
            try first.assign([partition: .committed])
            let messages = try await readToEnd(first, partitions: 1)
            #expect(messages.map(\.offset) == Array(0..<6))
            try first.commit([partition: 4])
            #expect(try first.committed([partition]) == [partition: 4])
        }
        try await produce(2, from: 6, to: mock)
        let second = try consumer(mock, group: "resume")
        defer { second.close() }
        try second.subscribe([Self.topic])
        let messages = try await readToEnd(second, partitions: 1, polls: 150)
        #expect(messages.map(\.offset) == [4, 5, 6, 7])
    }

    @Test("asking for a topic's partitions where no broker listens fails with librdkafka's error name")
    func noBroker() async throws {
        // A port the mock had and gave up: nothing listens on it any more.
        let address = try KafkaMockCluster(brokers: 1).bootstrapServers
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: [address], groupID: "g"))
        defer { consumer.close() }
        let error = #expect(throws: KafkaError.self) { try consumer.partitions(of: Self.topic, timeout: .seconds(1)) }
        #expect(error?.code == .metadata)
        #expect(error?.errorName == "_TRANSPORT" || error?.errorName == "_TIMED_OUT")
    }

    @Test("refuses properties the consumer owns, and every call after close")
    func refusesOwnedPropertiesAndUseAfterClose() async throws {
        #expect(throws: KafkaError.self) {
            try KafkaConsumer(configuration: .init(bootstrapServers: ["127.0.0.1:1"], groupID: "g", properties: ["enable.auto.commit": "true"]))
        }
        let mock = try KafkaMockCluster(brokers: 1)
        let consumer = try consumer(mock)
        consumer.close()
        let error = await #expect(throws: KafkaError.self) { try await consumer.poll(timeout: .zero) }
        #expect(error?.code == .closed)
        #expect(throws: KafkaError.self) { try consumer.assign([:]) }
    }
}
