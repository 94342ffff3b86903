/// What load to offer to which server: the part of `vigil bench`'s options that the load generator runs on.
public struct LoadPlan: Sendable {
    /// Open loop offers requests at a constant arrival rate whatever the server does; closed loop sends the next
    /// request on a connection as soon as the previous answer arrives (maximum throughput).
    public enum Mode: Sendable, Equatable {
        case closed
        /// Requests a second, spread evenly over the connections.
        case open(rate: Double)
    }

    /// HTTPS options; plain HTTP when the plan has none.
    public struct TLS: Sendable {
        /// Verify the server's certificate chain and host name (off only for self-signed test certificates).
        public var verify: Bool
        /// A PEM file of CA certificates to trust instead of the system's.
        public var caFile: String?
        /// A PEM client certificate and its key, for a server that requires one (mutual TLS).
        public var clientCertificateFile: String?
        public var clientKeyFile: String?

        public init(verify: Bool = true, caFile: String? = nil, clientCertificateFile: String? = nil, clientKeyFile: String? = nil) {
            self.verify = verify
            self.caFile = caFile
            self.clientCertificateFile = clientCertificateFile
            self.clientKeyFile = clientKeyFile
        }
    }

    /// A server to send to.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public var host: String
    public var port: Int
    /// Servers to move to, in order, when the current one cannot be reached or answers 502, 503 or 504 (another
    /// region's load balancer); after the last, the first again. Empty: no failover.
    public var failover: [Endpoint] = []
    public var tls: TLS?
    /// The request target; `POST` with a payment body when `payments` are given, `GET` otherwise.
    public var path: String
    /// Sent as `Authorization: Bearer …` when present.
    public var apiKey: String?
    public var connections: Int
    /// Event loops (threads) the connections are spread over.
    public var threads: Int
    public var mode: Mode
    /// Requests sent during the warm-up are not counted.
    public var warmup: Duration
    public var duration: Duration
    /// How long answers are awaited after the end before the outstanding requests count as "timeout".
    public var drainTimeout: Duration
    /// Keep every request sent (warm-up included) with its outcome in `LoadResult.requests`: what `vigil bench
    /// --record` writes. Costs a copy of each request and answer body; off for measuring.
    public var recordRequests = false

    public init(
        host: String, port: Int, tls: TLS? = nil, path: String, apiKey: String? = nil, connections: Int, threads: Int,
        mode: Mode, warmup: Duration, duration: Duration, drainTimeout: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.path = path
        self.apiKey = apiKey
        self.connections = connections
        self.threads = threads
        self.mode = mode
        self.warmup = warmup
        self.duration = duration
        self.drainTimeout = drainTimeout
    }

    /// - Throws: `BenchError` with code `invalidOption` naming the first bad value.
    public func validate() throws(BenchError) {
        func bad(_ message: String) -> BenchError { BenchError(code: .invalidOption, message: message) }
        guard connections > 0 else { throw bad("--connections must be positive") }
        guard threads > 0 else { throw bad("--threads must be positive") }
        if case .open(let rate) = mode, !(rate > 0 && rate.isFinite) { throw bad("--rate must be a positive number") }
        guard duration > .zero else { throw bad("--duration must be positive") }
        guard warmup >= .zero else { throw bad("--warmup must not be negative") }
        guard drainTimeout >= .zero else { throw bad("--drain-timeout must not be negative") }
        guard path.hasPrefix("/") else { throw bad("--path must start with /") }
        guard (1...65535).contains(port), failover.allSatisfy({ (1...65535).contains($0.port) }) else {
            throw bad("the port must be between 1 and 65535")
        }
    }

    /// The primary server, then the failover ones.
    public var endpoints: [Endpoint] { [Endpoint(host: host, port: port)] + failover }
}

extension Duration {
    var nanoseconds: Int64 {
        let parts = components
        return parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000
    }

    var seconds: Double { Double(nanoseconds) / 1e9 }
}
