import CRdKafka
import Synchronization

/// librdkafka's mock cluster: a test double of a Kafka cluster that runs inside librdkafka (`rd_kafka_mock_cluster_new`),
/// with brokers listening on loopback ports. It is not Kafka: use it in tests and in `vigil-kafka-mock`, never to keep
/// data.
///
/// Brokers are numbered from 1. Topics are created on first use (one partition) or by `createTopic`.
public final class KafkaMockCluster: Sendable {
    // The mock's API locks the cluster internally, so one handle serves every thread; both pointers are released
    // once, in deinit.
    private nonisolated(unsafe) let host: OpaquePointer
    private nonisolated(unsafe) let cluster: OpaquePointer

    /// The brokers' addresses, `127.0.0.1:port,…`, to use as `bootstrap.servers`.
    public let bootstrapServers: String

    /// Starts a mock cluster of `brokers` brokers.
    /// - Throws: `KafkaError` with code `.mock` if librdkafka cannot create it.
    public init(brokers: Int) throws(KafkaError) {
        guard brokers >= 1, brokers <= 64 else {
            throw KafkaError(code: .mock, errorName: "_INVALID_ARG", message: "a mock cluster has 1 to 64 brokers")
        }
        let conf = rd_kafka_conf_new()!
        // The mock is hosted by a client handle that never sends anything; keep it quiet.
        try KafkaProducer.set("log_level", "3", on: conf)
        var errorText = [CChar](repeating: 0, count: 512)
        guard let host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: .mock, errorName: "_FAIL", message: "librdkafka could not create the mock's host client")
        }
        guard let cluster = rd_kafka_mock_cluster_new(host, Int32(brokers)) else {
            rd_kafka_destroy(host)
            throw KafkaError(code: .mock, errorName: "_FAIL", message: "librdkafka could not create the mock cluster")
        }
        self.host = host
        self.cluster = cluster
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(host)
    }

    /// Creates `topic` with `partitions` partitions, each on `replicationFactor` brokers.
    public func createTopic(_ topic: String, partitions: Int = 1, replicationFactor: Int = 1) throws(KafkaError) {
        try check(rd_kafka_mock_topic_create(cluster, topic, Int32(partitions), Int32(replicationFactor)))
    }

    /// Makes `broker` the leader of `partition` of `topic`.
    public func setLeader(topic: String, partition: Int, broker: Int) throws(KafkaError) {
        try check(rd_kafka_mock_partition_set_leader(cluster, topic, Int32(partition), Int32(broker)))
    }

    /// Takes `broker` down: it closes its connections and refuses new ones until `setUp`.
    public func setDown(broker: Int) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_down(cluster, Int32(broker)))
    }

    /// Brings `broker` back up.
    public func setUp(broker: Int) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_up(cluster, Int32(broker)))
    }

    /// Makes the next `count` requests of Kafka protocol API `apiKey` (0 is Produce) fail with `errorName`
    /// (librdkafka's name, e.g. `NOT_LEADER_FOR_PARTITION`).
    public func pushRequestErrors(apiKey: Int, count: Int, errorName: String) throws(KafkaError) {
        guard let error = Self.responseError(named: errorName) else {
            throw KafkaError(code: .mock, errorName: "_INVALID_ARG", message: "librdkafka has no error of that name")
        }
        guard let apiKey = Int16(exactly: apiKey), apiKey >= 0, count >= 1, count <= 1000 else {
            throw KafkaError(
                code: .mock, errorName: "_INVALID_ARG", message: "the API key must be 0 to 32767 and the count 1 to 1000"
            )
        }
        let errors = [rd_kafka_resp_err_t](repeating: error, count: count)
        rd_kafka_mock_push_request_errors_array(cluster, apiKey, count, errors)
    }

    /// librdkafka's error code for its name (`rd_kafka_err2name`), with or without the leading underscore of a
    /// local error, e.g. `_TRANSPORT`.
    static func responseError(named name: String) -> rd_kafka_resp_err_t? {
        var descriptions: UnsafePointer<rd_kafka_err_desc>?
        var count = 0
        rd_kafka_get_err_descs(&descriptions, &count)
        guard let descriptions else { return nil }
        for description in UnsafeBufferPointer(start: descriptions, count: count) {
            guard let cName = description.name else { continue }
            if String(cString: cName) == name { return description.code }
        }
        return nil
    }

    private func check(_ status: rd_kafka_resp_err_t) throws(KafkaError) {
        guard status == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: .mock, responseError: status) }
    }
}
