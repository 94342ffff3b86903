import CRdKafka

/// A librdkafka consumer for the tests: reads one partition of a topic from its beginning.
final class TestConsumer {
    struct Record: Equatable {
        var key: [UInt8]
        var value: [UInt8]
    }

    private let handle: OpaquePointer

    init(bootstrapServers: String, topic: String, partition: Int32 = 0) throws {
        let conf = rd_kafka_conf_new()!
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in [("bootstrap.servers", bootstrapServers), ("group.id", "vigil-tests"), ("enable.auto.commit", "false")] {
            guard rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) == RD_KAFKA_CONF_OK else {
                throw TestConsumerError(message: "configuration refused")
            }
        }
        guard let handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errorText, errorText.count) else {
            throw TestConsumerError(message: "no consumer")
        }
        self.handle = handle
        let partitions = rd_kafka_topic_partition_list_new(1)!
        defer { rd_kafka_topic_partition_list_destroy(partitions) }
        rd_kafka_topic_partition_list_add(partitions, topic, partition).pointee.offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
        guard rd_kafka_assign(handle, partitions) == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw TestConsumerError(message: "assign failed")
        }
    }

    deinit {
        rd_kafka_consumer_close(handle)
        rd_kafka_destroy(handle)
    }

    /// Reads until `count` records arrived or `polls` polls of 100 ms found nothing more (bounded in time).
    func read(count: Int, idlePolls: Int = 50) -> [Record] {
        var records: [Record] = []
        var idle = 0
        while records.count < count, idle < idlePolls {
            guard let message = rd_kafka_consumer_poll(handle, 100) else {
                idle += 1
                continue
            }
            defer { rd_kafka_message_destroy(message) }
            guard message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let key = message.pointee.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.pointee.key_len)) } ?? []
            let value = message.pointee.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.pointee.len)) } ?? []
            records.append(Record(key: key, value: value))
        }
        return records
    }

    /// Polls a few more times and returns whatever arrives: after reading all expected records, it must be empty.
    func readRemaining() -> [Record] {
        read(count: Int.max, idlePolls: 10)
    }
}

struct TestConsumerError: Error {
    var message: String
}
