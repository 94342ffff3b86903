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
    /// Connections that moved to the next server, once the run had begun.
    var failovers = 0
    /// One flag per ``binMillis`` of the measured period: whether a 2xx answer arrived in it.
    var okBins: [Bool] = []
    /// Every request sent, with its outcome, when the plan records them.
    var requests: [RecordedRequest] = []

    /// The resolution of the failover gap.
    static let binMillis = 10

    /// The longest run of bins without a 2xx answer.
    var longestGapBins: Int {
        var longest = 0
        var current = 0
        for ok in okBins {
            current = ok ? 0 : current + 1
            longest = max(longest, current)
        }
        return longest
    }

    /// One hour: anything slower is recorded as one hour.
    static let highestMicros: UInt64 = 3_600_000_000

    mutating func merge(_ other: LoadCounts) {
        latency.add(other.latency)
        sent += other.sent
        ok += other.ok
        answered += other.answered
        errors.merge(other.errors, uniquingKeysWith: +)
        if let theirs = other.lastAnswer { lastAnswer = max(lastAnswer ?? theirs, theirs) }
        failovers += other.failovers
        if okBins.count < other.okBins.count { okBins += [Bool](repeating: false, count: other.okBins.count - okBins.count) }
        for (i, ok) in other.okBins.enumerated() where ok { okBins[i] = true }
        requests += other.requests
    }
}

/// The counts of one event loop's connections, shared by them without locks.
///
/// All access happens on `loop` (checked in debug builds), which is what makes the `@unchecked Sendable` sound:
/// the reference crosses threads only to be handed to that loop.
final class LoadRecorder: @unchecked Sendable {
    let loop: any EventLoop
    private var counts = LoadCounts()
    private var measuredFrom: NIODeadline?

    init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Starts the failover-gap bins: one per ``LoadCounts/binMillis`` of the measured period.
    func begin(measuredFrom: NIODeadline, for duration: Duration) {
        loop.assertInEventLoop()
        self.measuredFrom = measuredFrom
        counts.okBins = [Bool](repeating: false, count: max(1, Int(duration.nanoseconds / 1_000_000) / LoadCounts.binMillis))
    }

    func failedOver() {
        loop.assertInEventLoop()
        if measuredFrom != nil { counts.failovers += 1 }
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
            if let measuredFrom, now >= measuredFrom {
                let bin = Int((now - measuredFrom).nanoseconds / 1_000_000) / LoadCounts.binMillis
                if bin < counts.okBins.count { counts.okBins[bin] = true }
            }
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

    func recorded(_ request: RecordedRequest) {
        loop.assertInEventLoop()
        counts.requests.append(request)
    }

    /// The counts so far; read on `loop`.
    func snapshot() -> EventLoopFuture<LoadCounts> {
        loop.submit { self.counts }
    }
}
