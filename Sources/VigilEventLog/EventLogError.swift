/// An error from an event log, with a broad ``Code`` and a message naming the file and cause.
public struct EventLogError: Error, Sendable, CustomStringConvertible {
    /// A broad classification of an event-log failure; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case io
            case corrupt
            case locked
            case closed
            case recordTooLarge
            case invalidArgument
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// A system call failed. After a failed write or sync the log refuses further appends.
        public static let io = Code(.io)
        /// A segment holds a damaged record where only intact records may be.
        public static let corrupt = Code(.corrupt)
        /// Another process or handle holds the directory's lock.
        public static let locked = Code(.locked)
        /// The log is shut down or shutting down.
        public static let closed = Code(.closed)
        /// The payload is longer than the log's `maxRecordBytes`.
        public static let recordTooLarge = Code(.recordTooLarge)
        /// An argument is out of range, such as an empty payload or a non-positive segment size.
        public static let invalidArgument = Code(.invalidArgument)

        public var description: String {
            switch self.wrapped {
            case .io: "I/O error"
            case .corrupt: "Corrupt log"
            case .locked: "Locked"
            case .closed: "Closed"
            case .recordTooLarge: "Record too large"
            case .invalidArgument: "Invalid argument"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, naming the file, offset or system error where there is one.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "\(self.code): \(self.message)"
    }
}
