import Histogram
import NIOCore
import NIOPosix
import NIOSSL

/// What a load run measured, ready to be rendered.
public struct LoadResult: Sendable {
    /// Measured requests issued: each one ends answered 2xx (`ok`), answered with another status or failed
    /// (`errors`), so `sent == ok + errors.values.sum()`.
    public var sent: Int
    public var ok: Int
    /// Failures by HTTP status ("409") or kind ("timeout", "connection").
    public var errors: [String: Int]
    /// Answers a second: answered measured requests over the measured period (longer if answers came late).
    public var achievedRate: Double
    /// Latency percentiles in milliseconds from each request's intended send time; nil when nothing was answered.
    public var latencyMs: Percentiles?
    /// Times a connection moved to the next server (`LoadPlan.failover`) during the run.
    public var failovers = 0
    /// The longest stretch of the measured period with no 2xx answer, in milliseconds (10 ms resolution): the
    /// failover gap.
    public var longestGapMs: Double = 0
    /// Every request sent, with its outcome, when the plan's `recordRequests` is set; in no particular order.
    public var requests: [RecordedRequest] = []

    public struct Percentiles: Sendable {
        public var p50: Double
        public var p90: Double
        public var p99: Double
        public var p999: Double
        public var max: Double
    }
}

/// Offers `plan`'s load and measures it.
///
/// One event loop a thread; connection `k` lives on loop `k mod threads`. Every connection is opened before the
/// clock starts; the run ends by itself after warm-up plus duration, then waits up to the drain timeout for
/// outstanding answers.
/// - Parameter payments: the bodies to post; nil sends bodiless `GET`s (e.g. `/health`).
/// - Throws: `BenchError` with code `invalidOption` or `connect`.
public func runLoad(_ plan: LoadPlan, payments: PaymentPopulation?) async throws(BenchError) -> LoadResult {
    try plan.validate()
    var sslContext: NIOSSLContext?
    if let tls = plan.tls {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !tls.verify { configuration.certificateVerification = .none }
        if let caFile = tls.caFile { configuration.trustRoots = .file(caFile) }
        do {
            if let certificateFile = tls.clientCertificateFile, let keyFile = tls.clientKeyFile {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            }
            sslContext = try NIOSSLContext(configuration: configuration)
        } catch {
            throw BenchError(code: .invalidOption, message: "cannot set up TLS: \(error)")
        }
    }
    let runID = String(UInt32.random(in: .min ... .max), radix: 16)
    let run = LoadRun(plan: plan, payments: payments, sslContext: sslContext, runID: runID)

    let group = MultiThreadedEventLoopGroup(numberOfThreads: plan.threads)
    defer { group.shutdownGracefully { _ in } }
    let loops = Array(group.makeIterator())
    let recorders = loops.map { LoadRecorder(loop: $0) }
    let connections = (0..<plan.connections).map { index in
        LoadConnection(index: index, loop: loops[index % loops.count], run: run, recorder: recorders[index % loops.count])
    }
    do {
        try await EventLoopFuture.andAllSucceed(connections.map { $0.open() }, on: loops[0]).get()
    } catch {
        for connection in connections { connection.loop.execute { connection.abandon() } }
        let servers = plan.endpoints.map { "\($0.host):\($0.port)" }.joined(separator: " or ")
        throw BenchError(code: .connect, message: "cannot connect to \(servers): \(error)")
    }

    // A common start a little ahead, so every loop begins on the same timeline.
    let start = NIODeadline.now() + .milliseconds(20)
    for recorder in recorders {
        recorder.loop.execute { recorder.begin(measuredFrom: start + .nanoseconds(plan.warmup.nanoseconds), for: plan.duration) }
    }
    for connection in connections {
        connection.loop.execute { connection.begin(start: start) }
    }
    _ = try? await EventLoopFuture.andAllComplete(connections.map(\.finishedFuture), on: loops[0]).get()

    var counts = LoadCounts()
    for recorder in recorders {
        if let part = try? await recorder.snapshot().get() { counts.merge(part) }
    }
    let measuredStart = start + .nanoseconds(plan.warmup.nanoseconds)
    var period = plan.duration.seconds
    if let last = counts.lastAnswer {
        period = max(period, Double((last - measuredStart).nanoseconds) / 1e9)
    }
    var percentiles: LoadResult.Percentiles?
    if counts.latency.totalCount > 0 {
        let h = counts.latency
        func ms(_ micros: UInt64) -> Double { Double(micros) / 1000 }
        percentiles = .init(
            p50: ms(h.valueAtPercentile(50)), p90: ms(h.valueAtPercentile(90)), p99: ms(h.valueAtPercentile(99)),
            p999: ms(h.valueAtPercentile(99.9)), max: ms(h.max)
        )
    }
    var result = LoadResult(
        sent: counts.sent, ok: counts.ok, errors: counts.errors,
        achievedRate: Double(counts.answered) / period, latencyMs: percentiles
    )
    result.failovers = counts.failovers
    result.longestGapMs = Double(counts.longestGapBins) * Double(LoadCounts.binMillis)
    result.requests = counts.requests
    return result
}
