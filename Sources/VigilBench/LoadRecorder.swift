import Histogram
import NIOCore

/// What one event loop's connections measured; merged into the run's result at the end.
struct LoadCounts: Sendable {
    /// Latency of every answered measured request, in microseconds from its intended send time.
    var latency = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: LoadCounts.highestMicros, numberOfSignificantValueDigits: .three
    )
    /// Measured requests issued (written or queued for a connection).
    var sent = 0
    /// Measured requests answered 2xx.
    var ok = 0
    /// Measured requests that failed, by HTTP status or by kind ("timeout", "connection").
    var errors: [String: Int] = [:]
    /// Measured requests answered with any status.
    var answered = 0
    /// When the last measured answer arrived.
    var lastAnswer: NIODeadline?

    /// One hour: anything slower is recorded as one hour.
    static let highestMicros: UInt64 = 3_600_000_000

    mutating func merge(_ other: LoadCounts) {
        latency.add(other.latency)
        sent += other.sent
        ok += other.ok
        answered += other.answered
        errors.merge(other.errors, uniquingKeysWith: +)
        if let theirs = other.lastAnswer { lastAnswer = max(lastAnswer ?? theirs, theirs) }
    }
}

/// The counts of one event loop's connections, shared by them without locks.
///
/// All access happens on `loop` (checked in debug builds), which is what makes the `@unchecked Sendable` sound:
/// the reference crosses threads only to be handed to that loop.
final class LoadRecorder: @unchecked Sendable {
    let loop: any EventLoop
    private var counts = LoadCounts()

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func issued() {
        loop.assertInEventLoop()
        counts.sent += 1
    }

    func answered(status: UInt, intended: NIODeadline, at now: NIODeadline) {
        loop.assertInEventLoop()
        let micros = UInt64(max(0, (now - intended).nanoseconds / 1000))
        _ = counts.latency.record(min(max(micros, 1), LoadCounts.highestMicros))
        counts.answered += 1
        if (200..<300).contains(status) {
            counts.ok += 1
        } else {
            counts.errors[String(status), default: 0] += 1
        }
        counts.lastAnswer = now
    }

    func failed(_ kind: String, count: Int = 1) {
        loop.assertInEventLoop()
        guard count > 0 else { return }
        counts.errors[kind, default: 0] += count
    }

    /// The counts so far; read on `loop`.
    func snapshot() -> EventLoopFuture<LoadCounts> {
        loop.submit { self.counts }
    }
}
