public import VigilEngine
import VigilEventLog

/// Where a report reads its events from. The local event log is one source; a stream consumer (Kafka, issue 12 §2)
/// is meant to be another, so the aggregation never knows which it was given.
public protocol ReportEventSource: Sendable {
    /// Calls `body` with every event of the source, in the order it holds them.
    /// - Throws: ``ReportError`` when the source cannot be read or holds a record that is not an event; whatever
    ///   `body` throws.
    func forEachEvent(_ body: (LoggedEvent) throws -> Void) async throws
}

/// A node's local event log (`DATA/events/`), read offline without locking it, as `vigil events export` reads it.
public struct EventLogDirectorySource: ReportEventSource {
    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func forEachEvent(_ body: (LoggedEvent) throws -> Void) async throws {
        do {
            try FileEventLog.read(directory: directory) { sequence, payload in
                let event: LoggedEvent
                do {
                    event = try EventCoding.decodeRecord(payload)
                } catch {
                    throw ReportError(code: .unreadableRecord, message: "event log record \(sequence) is not an event this version reads: \(error)")
                }
                try body(event)
            }
        } catch let error as EventLogError {
            throw ReportError(code: .unreadableSource, message: "cannot read the event log: \(error)")
        }
    }
}

/// Why a report could not be made.
public struct ReportError: Error, Sendable, CustomStringConvertible {
    /// A broad classification of the failure.
    public struct Code: Hashable, Sendable {
        private enum Wrapped: Hashable, Sendable {
            case unreadableSource, unreadableRecord
        }

        private var wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// The source could not be read (a damaged segment, a gap between segments, an I/O error).
        public static let unreadableSource = Code(.unreadableSource)
        /// A record is not an event this version reads.
        public static let unreadableRecord = Code(.unreadableRecord)
    }

    public var code: Code
    /// What went wrong; it names records and fields, never their values.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
