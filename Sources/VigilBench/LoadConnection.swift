import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The run's shared, immutable parts: where to connect, what to send and the timeline.
final class LoadRun: Sendable {
    let plan: LoadPlan
    let payments: PaymentPopulation?
    let sslContext: NIOSSLContext?
    /// Appended to every payment id so repeated runs against one server are not duplicates.
    let idSuffix: [UInt8]
    /// The servers (the plan's, then its failover ones) and the request head for each.
    let endpoints: [LoadPlan.Endpoint]
    let heads: [HTTPRequestHead]
    /// Nanoseconds between two sends on one connection in open loop.
    let interval: Double

    init(plan: LoadPlan, payments: PaymentPopulation?, sslContext: NIOSSLContext?, runID: String) {
        self.plan = plan
        self.payments = payments
        self.sslContext = sslContext
        idSuffix = Array("-\(runID)".utf8)
        endpoints = plan.endpoints
        heads = endpoints.map { endpoint in
            var headers = HTTPHeaders()
            let defaultPort = plan.tls == nil ? 80 : 443
            let hostText = endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host
            headers.add(name: "Host", value: endpoint.port == defaultPort ? hostText : "\(hostText):\(endpoint.port)")
            headers.add(name: "User-Agent", value: "vigil-bench")
            if let key = plan.apiKey { headers.add(name: "Authorization", value: "Bearer \(key)") }
            if payments != nil { headers.add(name: "Content-Type", value: "application/json") }
            return HTTPRequestHead(version: .http1_1, method: payments == nil ? .GET : .POST, uri: plan.path, headers: headers)
        }
        if case .open(let rate) = plan.mode {
            interval = 1e9 / rate
        } else {
            interval = 0
        }
    }
}

/// One keep-alive connection with at most one request in flight.
///
/// Open loop: requests fall due at `start + (index + n × connections) / rate`, whether or not the connection is
/// free; a request that finds it busy waits in `pending`, and its latency still counts from when it fell due, so
/// a stall is not hidden (no coordinated omission). Closed loop: the next request goes out as soon as the answer
/// to the previous one has arrived.
///
/// All state is touched only on `loop` (checked in debug builds); the reference crosses threads only to reach it.
final class LoadConnection: @unchecked Sendable {
    struct Request {
        var sequence: Int
        var intended: NIODeadline
        var measured: Bool
    }

    let index: Int
    let loop: any EventLoop
    let run: LoadRun
    let recorder: LoadRecorder
    private let done: EventLoopPromise<Void>

    private var handler: LoadResponseHandler?
    private var pending = CircularBuffer<Request>()
    private var inFlight: Request?
    private var status: UInt = 0
    /// Requests this connection has issued (its n).
    private var issuedCount = 0
    /// How the in-flight request is counted if the connection closes under it: "connection", or "tls" when the
    /// TLS handshake or record layer failed.
    private var failureKind = "connection"
    private var generating = true
    private var finished = false
    private var start = NIODeadline.now()
    private var warmupEnd = NIODeadline.now()
    private var end = NIODeadline.now()
    /// Which of `run.endpoints` this connection sends to.
    private var target = 0
    /// With `LoadPlan.recordRequests`: the in-flight request's body, its server and the answer's body so far.
    private var sentBody: ByteBuffer?
    private var sentTarget = 0
    private var answerBody: ByteBuffer?

    init(index: Int, loop: any EventLoop, run: LoadRun, recorder: LoadRecorder) {
        self.index = index
        self.loop = loop
        self.run = run
        self.recorder = recorder
        done = loop.makePromise(of: Void.self)
    }

    /// Succeeds once every request of this connection has been answered or given up.
    var finishedFuture: EventLoopFuture<Void> { done.futureResult }

    /// Opens the connection to the first server, in failover order from the current one, that can be reached;
    /// fails when none can.
    func open() -> EventLoopFuture<Void> {
        loop.flatSubmit { self.open(attempt: 0) }
    }

    private func open(attempt: Int) -> EventLoopFuture<Void> {
        connect().flatMapError { error in
            guard attempt + 1 < self.run.endpoints.count else { return self.loop.makeFailedFuture(error) }
            self.failOver()
            return self.open(attempt: attempt + 1)
        }
    }

    /// Moves to the next server; the recorder counts it once the run has started.
    private func failOver() {
        target = (target + 1) % run.endpoints.count
        recorder.failedOver()
    }

    /// Opens the connection to the current server; fails when it cannot be reached.
    func connect() -> EventLoopFuture<Void> {
        let run = run
        let endpoint = run.endpoints[target]
        return ClientBootstrap(group: loop)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let context = run.sslContext {
                        let name = endpoint.host.isIPAddress ? nil : endpoint.host
                        try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: name))
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(LoadResponseHandler(connection: self))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .map { _ in }
    }

    /// Starts offering load; the timeline is shared by every connection.
    func begin(start: NIODeadline) {
        loop.assertInEventLoop()
        self.start = start
        warmupEnd = start + .nanoseconds(run.plan.warmup.nanoseconds)
        end = warmupEnd + .nanoseconds(run.plan.duration.nanoseconds)
        let drainDeadline = end + .nanoseconds(run.plan.drainTimeout.nanoseconds)
        loop.assumeIsolated().scheduleTask(deadline: drainDeadline) { self.giveUp() }
        switch run.plan.mode {
        case .closed:
            loop.assumeIsolated().scheduleTask(deadline: start) { self.issueClosed() }
        case .open:
            scheduleOpen()
        }
    }

    // MARK: Open and closed loop

    private func scheduleOpen() {
        let offset = Double(index + issuedCount * run.plan.connections) * run.interval
        let due = start + .nanoseconds(Int64(offset))
        guard due < end else {
            generating = false
            finishIfDone()
            return
        }
        loop.assumeIsolated().scheduleTask(deadline: due) {
            guard !self.finished else { return }
            self.issue(intended: due)
            self.scheduleOpen()
        }
    }

    private func issueClosed() {
        let now = NIODeadline.now()
        guard generating, now < end else {
            generating = false
            finishIfDone()
            return
        }
        issue(intended: now)
    }

    private func issue(intended: NIODeadline) {
        let request = Request(
            sequence: index + issuedCount * run.plan.connections, intended: intended, measured: intended >= warmupEnd
        )
        issuedCount += 1
        if request.measured { recorder.issued() }
        pending.append(request)
        sendIfIdle()
    }

    private func sendIfIdle() {
        guard inFlight == nil, let handler, handler.isActive, let request = pending.popFirst() else { return }
        inFlight = request
        status = 0
        var body: ByteBuffer?
        if let payments = run.payments {
            var buffer = handler.allocator.buffer(capacity: 1024)
            payments.writeBody(sequence: request.sequence, suffix: run.idSuffix, into: &buffer)
            body = buffer
        }
        var head = run.heads[target]
        if let body { head.headers.add(name: "Content-Length", value: String(body.readableBytes)) }
        if run.plan.recordRequests {
            sentBody = body
            sentTarget = target
            answerBody = nil
        }
        handler.send(head: head, body: body)
    }

    // MARK: Events from the channel

    func connected(_ handler: LoadResponseHandler) {
        self.handler = handler
        failureKind = "connection"
        sendIfIdle()
    }

    func broke(_ error: any Error) {
        if error is NIOSSLError || error is BoringSSLError { failureKind = "tls" }
    }

    func received(status: UInt) {
        self.status = status
    }

    func received(body part: ByteBuffer) {
        guard run.plan.recordRequests else { return }
        var part = part
        answerBody.setOrWriteBuffer(&part)
    }

    /// Keeps the in-flight request's outcome when the plan records requests.
    private func record(status: UInt?, failure: String?) {
        guard run.plan.recordRequests else { return }
        recorder.recorded(RecordedRequest(
            endpoint: sentTarget, status: status, failure: failure,
            request: sentBody.map { Array($0.readableBytesView) } ?? [],
            answer: answerBody.map { Array($0.readableBytesView) } ?? []
        ))
        sentBody = nil
        answerBody = nil
    }

    func answered() {
        guard let request = inFlight else { return }
        inFlight = nil
        let now = NIODeadline.now()
        if request.measured { recorder.answered(status: status, intended: request.intended, at: now) }
        record(status: status, failure: nil)
        // A load balancer whose servers are all gone answers 503 (502, 504): with somewhere else to go, go there.
        if run.endpoints.count > 1, [502, 503, 504].contains(status) {
            failOver()
            handler?.close()
            finishIfDone()
            return
        }
        if case .closed = run.plan.mode, pending.isEmpty {
            issueClosed()
        } else {
            sendIfIdle()
        }
        finishIfDone()
    }

    func closed() {
        handler = nil
        if let request = inFlight {
            inFlight = nil
            if request.measured { recorder.failed(failureKind) }
            record(status: nil, failure: failureKind)
        }
        guard !finished else { return }
        // The server closed a keep-alive connection (or it broke): reconnect and carry on.
        loop.assumeIsolated().scheduleTask(in: .milliseconds(100)) {
            guard !self.finished else { return }
            self.connect().assumeIsolated().whenComplete { result in
                if case .failure = result {
                    if self.run.endpoints.count > 1 { self.failOver() }
                    self.closed()
                } else if case .closed = self.run.plan.mode, self.pending.isEmpty, self.inFlight == nil {
                    self.issueClosed()
                }
            }
        }
    }

    // MARK: The end

    private func finishIfDone() {
        guard !generating, inFlight == nil, pending.isEmpty, !finished else { return }
        finish()
    }

    /// The drain deadline: whatever is still outstanding is a timeout.
    private func giveUp() {
        guard !finished else { return }
        generating = false
        let outstanding = (inFlight.map { $0.measured ? 1 : 0 } ?? 0) + pending.filter(\.measured).count
        recorder.failed("timeout", count: outstanding)
        if inFlight != nil { record(status: nil, failure: "timeout") }
        inFlight = nil
        pending.removeAll()
        finish()
    }

    /// Closes a connection whose run never started.
    func abandon() {
        guard !finished else { return }
        finished = true
        handler?.close()
        done.succeed()
    }

    private func finish() {
        finished = true
        handler?.close()
        done.succeed()
    }
}

/// Feeds a connection's HTTP answers to its `LoadConnection` and writes its requests.
final class LoadResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let connection: LoadConnection
    private var context: ChannelHandlerContext?

    init(connection: LoadConnection) {
        self.connection = connection
    }

    var isActive: Bool { context?.channel.isActive ?? false }
    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    func send(head: HTTPRequestHead, body: ByteBuffer?) {
        guard let context else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func close() {
        context?.close(promise: nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { connection.connected(self) }
    }

    func channelActive(context: ChannelHandlerContext) {
        connection.connected(self)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        connection.closed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): connection.received(status: head.status.code)
        case .body(let part): connection.received(body: part)
        case .end: connection.answered()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.broke(error)
        context.close(promise: nil)
    }
}

extension String {
    var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}
