import CRdKafka

/// A failure of the Kafka client: which step failed, librdkafka's name for the error, and its message.
///
/// Neither the name nor the message ever carries a message's key or payload.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The step that failed. Extensible: switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case configuration, clientCreation, enqueue, delivery, closed, mock, consume, metadata, commit
        }

        private let base: Base

        /// A configuration property was refused by librdkafka (unknown key or invalid value).
        public static let configuration = Code(base: .configuration)
        /// librdkafka could not create the client handle.
        public static let clientCreation = Code(base: .clientCreation)
        /// The message could not be queued for sending (e.g. the local queue is full).
        public static let enqueue = Code(base: .enqueue)
        /// The delivery report says the message was not written (e.g. `_MSG_TIMED_OUT`).
        public static let delivery = Code(base: .delivery)
        /// The producer was closed before the message was delivered.
        public static let closed = Code(base: .closed)
        /// A call to librdkafka's mock cluster (the test double) failed.
        public static let mock = Code(base: .mock)
        /// A consumer could not read a partition (e.g. `UNKNOWN_TOPIC_OR_PART`, `OFFSET_OUT_OF_RANGE`).
        public static let consume = Code(base: .consume)
        /// The cluster's metadata or a partition's offsets could not be read (e.g. no broker answered).
        public static let metadata = Code(base: .metadata)
        /// A consumer group's offsets could not be committed or read.
        public static let commit = Code(base: .commit)

        public var description: String { "\(base)" }
    }

    /// The step that failed.
    public var code: Code
    /// librdkafka's name of the error, e.g. `_MSG_TIMED_OUT` or `NOT_LEADER_FOR_PARTITION` (`rd_kafka_err2name`);
    /// `_INVALID_ARG` for a refused configuration.
    public var errorName: String
    /// A human-readable explanation.
    public var message: String

    public init(code: Code, errorName: String, message: String) {
        self.code = code
        self.errorName = errorName
        self.message = message
    }

    init(code: Code, responseError: rd_kafka_resp_err_t) {
        self.init(
            code: code, errorName: String(cString: rd_kafka_err2name(responseError)),
            message: String(cString: rd_kafka_err2str(responseError))
        )
    }

    public var description: String { "Kafka \(code) failed: \(errorName): \(message)" }
}
