public import Foundation
public import VigilFiles
public import VigilEventLog
import VigilProtection

/// Everything `vigil serve` can be told. Flags override environment variables, which override the
/// config file, which overrides these defaults.
public struct VigilConfiguration: Sendable, Equatable, Codable {
    /// Address to bind; loopback by default.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free one and prints it.
    public var port: Int = 8080
    /// Where tenants, keys and the event log live.
    public var dataDirectory: String = "./data"
    /// Where tenants, wrapped keys, signing keys and the audit log live: nil (or `files`) for the data directory,
    /// `postgres://user[:password]@host:port/database` for a PostgreSQL that many nodes share (docs/control-plane.md).
    /// It may hold a password: it is never printed or logged.
    public var controlPlane: String?
    /// `fsync` acknowledges a payment only once its event is on disk; `async` acknowledges after the write.
    public var durability: Durability = .fsync
    /// How long an exact retry is answered as a duplicate.
    public var duplicateRetentionHours: Int = 48
    /// An XGBoost JSON model to load instead of the bundled one.
    public var modelPath: String?
    /// Where the master key comes from: `file` (DATA/master.key, created on first start) or `env` (VIGIL_MASTER_KEY).
    public var masterKeySource: MasterKeySource = .file
    /// Log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel: String = "info"
    /// Seconds a client has to send a request's head (and over TLS, to finish the handshake) from the connection's
    /// start. On a kept-alive connection the next head is due within `idleTimeoutSeconds` of the last response.
    public var requestHeaderTimeoutSeconds: Int = 10
    /// Seconds a client has to send a request's body, from the end of its head.
    public var requestBodyTimeoutSeconds: Int = 30
    /// Seconds a kept-alive connection has, after a response, to send the next request's head before it is closed.
    public var idleTimeoutSeconds: Int = 60
    /// Connections one process holds open at most; a connection beyond it is closed at once and counted.
    public var maxConnections: Int = 1000
    /// Size of an event-log segment file, zeroed when it is made (at least 64 KiB).
    public var eventLogSegmentBytes: Int = 64 << 20
    /// Seconds a node whose event log has failed keeps answering `/ready` with 503 (so a load balancer takes it out)
    /// before it shuts down and exits with status 75 for its supervisor to restart it.
    public var eventLogFailureExitSeconds: Int = 10
    /// Seconds between snapshots of the in-process scoring state (`DATA/snapshots/`); a graceful shutdown writes one
    /// too. Recovery loads the newest valid snapshot and replays only the log after it. 0 turns the periodic ones off.
    public var snapshotIntervalSeconds: Int = 300
    /// Days an event-log segment is kept after its newest record was written. An older segment is deleted once a
    /// snapshot covers it (and, with a stream, once it is shipped). 0 keeps every segment.
    public var eventRetentionDays: Int = 35
    /// PEM certificate chain (the server's certificate first) to serve HTTPS with; needs `tlsKeyPath`. With TLS,
    /// HTTP/2 is offered by ALPN beside HTTP/1.1.
    public var tlsCertificatePath: String?
    /// PEM private key of the certificate in `tlsCertificatePath` (unencrypted).
    public var tlsKeyPath: String?
    /// PEM bundle of the CAs whose client certificates are accepted; a client certificate signed by one of them is
    /// then required at the handshake (mutual TLS). Needs TLS.
    public var clientCAPath: String?
    /// The oldest TLS version accepted: 1.3 unless 1.2 is asked for.
    public var tlsMinimumVersion: TLSMinimumVersion = .v1_3

    /// Whether the server speaks HTTPS.
    public var tlsEnabled: Bool { tlsCertificatePath != nil }
    /// The `iss` a bearer token must carry, and the one `vigil tenant token` writes.
    public var tokenIssuer: String = "vigil"
    /// The `aud` a bearer token must name, and the one `vigil tenant token` writes.
    public var tokenAudience: String = "vigil-api"
    /// Seconds a token issuer's clock may differ from the server's, applied to `exp`, `iat` and `nbf` (0–300).
    public var tokenClockSkewSeconds: Int = 30
    /// Seconds a payment's `createdAt` may be ahead of the server's clock before it is refused (0–3600).
    public var createdAtSkewSeconds: Int = 300
    /// Seconds a payment's `createdAt` may be behind the server's clock and still be the time its features are computed
    /// at; an older one is scored at the receive time (60 s to 3660 days).
    public var createdAtLagSeconds: Int = 86_400
    /// Where feature state, the duplicate check and usage plans live: `memory` (this process, rebuilt from the event
    /// log at start) or a shared Valkey/Redis: `redis://[user:password@]host:port[/db]`, `rediss://…` (TLS) or
    /// `redis+cluster://host:port,host:port,…`.
    public var state: String = "memory"
    /// Prefix of every key Vigil writes to a shared state store.
    public var statePrefix: String = "vigil:"
    /// Milliseconds one request to the shared state store may take before the payment is answered 503 (10–60000).
    public var stateTimeoutMilliseconds: Int = 500
    /// Days a shared store keeps an account's, relationship's or device's state after its last payment (8–3660: at
    /// least the 7-day window).
    public var stateExpiryDays: Int = 90
    /// PEM bundle of the CAs a `rediss://` state store's certificate may chain to; the system's trust store when nil
    /// (managed Valkey/Redis services use public CAs).
    public var stateTLSCAPath: String?
    /// What a payment gets when the shared state store fails: `unavailable` (503, nothing acknowledged) or `degraded`
    /// (a score from the request alone, marked `"degraded": true`, logged and acknowledged).
    public var stateFailure: StateFailure = .unavailable
    /// This node's region (docs/regions.md): a name like a tenant's, e.g. `eu-west`. Nil for a deployment without
    /// regions; a tenant pinned to regions is then refused here (`403 wrong-region`).
    public var region: String?
    /// The other region of an active-active pair; needs `region`.
    public var peerRegion: String?
    /// The peer region's Valkey/Redis (`redis://…` or `rediss://…`): each answer recorded here is written there too,
    /// so a retry sent to the peer after a failover is a duplicate. Needs `peerRegion` and a shared `state`. It may
    /// hold a password: it is never printed or logged.
    public var peerState: String?
    /// The peer region's event stream (`kafka://host:port,…`), whose scored payments are folded into this region's
    /// feature state. Needs `peerRegion` and a shared `state`.
    public var peerStream: String?
    /// Milliseconds a write to the peer region's store may take; past it the local write alone acknowledges and the
    /// miss is counted (10–5000).
    public var peerWriteTimeoutMilliseconds: Int = 100

    public enum StateFailure: String, Sendable, Codable, CaseIterable {
        case unavailable, degraded

        /// Reads `unavailable` or `degraded`, naming where the bad value came from.
        public init(parsing text: String, from source: String) throws(Invalid) {
            guard let value = Self(rawValue: text) else { throw Invalid(description: "\(source) must be unavailable or degraded") }
            self = value
        }
    }

    /// Where the event log is shipped: nil for nowhere, or `kafka://host:port,host:port,…` (the bootstrap brokers).
    public var stream: String?
    /// The Kafka topic the event log is shipped to.
    public var streamTopic: String = "vigil.events"
    /// Where daily files are scanned for malware: `off` (the embedded default, warned about at start),
    /// `clamd:/path/to/clamd.socket` or `clamd:tcp://host:port` (docs/intake.md).
    public var intakeScan: String = "off"
    /// Whether daily files are PGP: `off` (plain CSV) or `gpg` (encrypted to Vigil's intake key, signed by the
    /// tenant's registered key).
    public var intakePGP: String = "off"
    /// The fraction of a file's rows (0–1) that may be bad before the whole file is rejected.
    public var intakeErrorThreshold: Double = 0.01
    /// The largest daily file taken, in bytes (HTTPS uploads past it get 413).
    public var intakeMaxFileBytes: Int = 2 << 30
    /// Milliseconds a file in the inbox must stay unchanged before it is taken (100–600000).
    public var intakeSettleMilliseconds: Int = 2000

    /// The intake settings, checked.
    public var intakeSettings: IntakeSettings {
        IntakeSettings(errorThreshold: intakeErrorThreshold, maxFileBytes: intakeMaxFileBytes, settleMilliseconds: intakeSettleMilliseconds)
    }
    /// What a region's name must be.
    public static let regionNameRule = "must be 1–63 lower-case letters, digits, '-' or '_'"

    /// Whether `name` can name a region (the tenant-name rule).
    public static func isValidRegionName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        return bytes.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }
    }

    /// Whether state is shared (Valkey/Redis) rather than in this process.
    public var hasSharedState: Bool { state != "memory" }

    public enum MasterKeySource: String, Sendable, Codable, CaseIterable {
        case file, env
    }

    public enum TLSMinimumVersion: String, Sendable, Codable, CaseIterable {
        case v1_2 = "1.2"
        case v1_3 = "1.3"

        /// Reads `1.2` or `1.3`, naming where the bad value came from.
        public init(parsing text: String, from source: String) throws(Invalid) {
            guard let version = Self(rawValue: text) else { throw Invalid(description: "\(source) must be 1.2 or 1.3") }
            self = version
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, dataDirectory, controlPlane, durability, duplicateRetentionHours, modelPath, masterKeySource, logLevel
        case requestHeaderTimeoutSeconds, requestBodyTimeoutSeconds, idleTimeoutSeconds, maxConnections
        case eventLogSegmentBytes, eventLogFailureExitSeconds, snapshotIntervalSeconds, eventRetentionDays
        case tlsCertificatePath, tlsKeyPath, clientCAPath, tlsMinimumVersion
        case tokenIssuer, tokenAudience, tokenClockSkewSeconds
        case createdAtSkewSeconds, createdAtLagSeconds
        case state, statePrefix, stateTimeoutMilliseconds, stateExpiryDays, stateFailure, stateTLSCAPath
        case stream, streamTopic
        case region, peerRegion, peerState, peerStream, peerWriteTimeoutMilliseconds
        case intakeScan, intakePGP, intakeErrorThreshold, intakeMaxFileBytes, intakeSettleMilliseconds
    }

    public init(from decoder: any Decoder) throws {
        let defaults = VigilConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? defaults.host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? defaults.port
        dataDirectory = try c.decodeIfPresent(String.self, forKey: .dataDirectory) ?? defaults.dataDirectory
        controlPlane = try c.decodeIfPresent(String.self, forKey: .controlPlane)
        durability = try c.decodeIfPresent(Durability.self, forKey: .durability) ?? defaults.durability
        duplicateRetentionHours = try c.decodeIfPresent(Int.self, forKey: .duplicateRetentionHours) ?? defaults.duplicateRetentionHours
        modelPath = try c.decodeIfPresent(String.self, forKey: .modelPath)
        masterKeySource = try c.decodeIfPresent(MasterKeySource.self, forKey: .masterKeySource) ?? defaults.masterKeySource
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? defaults.logLevel
        requestHeaderTimeoutSeconds =
            try c.decodeIfPresent(Int.self, forKey: .requestHeaderTimeoutSeconds) ?? defaults.requestHeaderTimeoutSeconds
        requestBodyTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .requestBodyTimeoutSeconds) ?? defaults.requestBodyTimeoutSeconds
        idleTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .idleTimeoutSeconds) ?? defaults.idleTimeoutSeconds
        maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections) ?? defaults.maxConnections
        eventLogSegmentBytes = try c.decodeIfPresent(Int.self, forKey: .eventLogSegmentBytes) ?? defaults.eventLogSegmentBytes
        eventLogFailureExitSeconds =
            try c.decodeIfPresent(Int.self, forKey: .eventLogFailureExitSeconds) ?? defaults.eventLogFailureExitSeconds
        snapshotIntervalSeconds = try c.decodeIfPresent(Int.self, forKey: .snapshotIntervalSeconds) ?? defaults.snapshotIntervalSeconds
        eventRetentionDays = try c.decodeIfPresent(Int.self, forKey: .eventRetentionDays) ?? defaults.eventRetentionDays
        tlsCertificatePath = try c.decodeIfPresent(String.self, forKey: .tlsCertificatePath)
        tlsKeyPath = try c.decodeIfPresent(String.self, forKey: .tlsKeyPath)
        clientCAPath = try c.decodeIfPresent(String.self, forKey: .clientCAPath)
        if let version = try c.decodeIfPresent(String.self, forKey: .tlsMinimumVersion) {
            tlsMinimumVersion = try TLSMinimumVersion(parsing: version, from: "tlsMinimumVersion")
        }
        tokenIssuer = try c.decodeIfPresent(String.self, forKey: .tokenIssuer) ?? defaults.tokenIssuer
        tokenAudience = try c.decodeIfPresent(String.self, forKey: .tokenAudience) ?? defaults.tokenAudience
        tokenClockSkewSeconds = try c.decodeIfPresent(Int.self, forKey: .tokenClockSkewSeconds) ?? defaults.tokenClockSkewSeconds
        createdAtSkewSeconds = try c.decodeIfPresent(Int.self, forKey: .createdAtSkewSeconds) ?? defaults.createdAtSkewSeconds
        createdAtLagSeconds = try c.decodeIfPresent(Int.self, forKey: .createdAtLagSeconds) ?? defaults.createdAtLagSeconds
        state = try c.decodeIfPresent(String.self, forKey: .state) ?? defaults.state
        statePrefix = try c.decodeIfPresent(String.self, forKey: .statePrefix) ?? defaults.statePrefix
        stateTimeoutMilliseconds = try c.decodeIfPresent(Int.self, forKey: .stateTimeoutMilliseconds) ?? defaults.stateTimeoutMilliseconds
        stateExpiryDays = try c.decodeIfPresent(Int.self, forKey: .stateExpiryDays) ?? defaults.stateExpiryDays
        stateTLSCAPath = try c.decodeIfPresent(String.self, forKey: .stateTLSCAPath)
        if let failure = try c.decodeIfPresent(String.self, forKey: .stateFailure) {
            stateFailure = try StateFailure(parsing: failure, from: "stateFailure")
        }
        stream = try c.decodeIfPresent(String.self, forKey: .stream)
        streamTopic = try c.decodeIfPresent(String.self, forKey: .streamTopic) ?? defaults.streamTopic
        region = try c.decodeIfPresent(String.self, forKey: .region)
        peerRegion = try c.decodeIfPresent(String.self, forKey: .peerRegion)
        peerState = try c.decodeIfPresent(String.self, forKey: .peerState)
        peerStream = try c.decodeIfPresent(String.self, forKey: .peerStream)
        peerWriteTimeoutMilliseconds =
            try c.decodeIfPresent(Int.self, forKey: .peerWriteTimeoutMilliseconds) ?? defaults.peerWriteTimeoutMilliseconds
        intakeScan = try c.decodeIfPresent(String.self, forKey: .intakeScan) ?? defaults.intakeScan
        intakePGP = try c.decodeIfPresent(String.self, forKey: .intakePGP) ?? defaults.intakePGP
        intakeErrorThreshold = try c.decodeIfPresent(Double.self, forKey: .intakeErrorThreshold) ?? defaults.intakeErrorThreshold
        intakeMaxFileBytes = try c.decodeIfPresent(Int.self, forKey: .intakeMaxFileBytes) ?? defaults.intakeMaxFileBytes
        intakeSettleMilliseconds = try c.decodeIfPresent(Int.self, forKey: .intakeSettleMilliseconds) ?? defaults.intakeSettleMilliseconds
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a JSON config file; unknown keys are refused so a typo cannot silently fall back to a default.
    public static func load(file path: String) throws -> VigilConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(description: "cannot read config file \(path)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Invalid(description: "config file \(path) is not a JSON object")
        }
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw Invalid(description: "config file \(path): unknown key '\(unknown)'; known keys are \(known.sorted().joined(separator: ", "))")
        }
        do {
            let configuration = try JSONDecoder().decode(VigilConfiguration.self, from: data)
            try configuration.validateValues()
            return configuration
        } catch let error as Invalid {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw Invalid(description: "config file \(path): '\(key)' has the wrong type or value")
        } catch {
            throw Invalid(description: "config file \(path): \(error)")
        }
    }

    /// Applies `VIGIL_*` environment variables.
    public mutating func applyEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let value = environment["VIGIL_HOST"] { host = value }
        if let value = environment["VIGIL_PORT"] {
            guard let port = Int(value) else { throw Invalid(description: "VIGIL_PORT must be a number") }
            self.port = port
        }
        if let value = environment["VIGIL_DATA_DIR"] { dataDirectory = value }
        if let value = environment["VIGIL_CONTROL_PLANE"] { controlPlane = value }
        if let value = environment["VIGIL_DURABILITY"] {
            guard let durability = Durability(rawValue: value) else { throw Invalid(description: "VIGIL_DURABILITY must be fsync or async") }
            self.durability = durability
        }
        if let value = environment["VIGIL_MODEL"] { modelPath = value }
        if let value = environment["VIGIL_LOG_LEVEL"] { logLevel = value }
        let numbers: [(String, WritableKeyPath<VigilConfiguration, Int>)] = [
            ("VIGIL_REQUEST_HEADER_TIMEOUT_SECONDS", \.requestHeaderTimeoutSeconds),
            ("VIGIL_REQUEST_BODY_TIMEOUT_SECONDS", \.requestBodyTimeoutSeconds),
            ("VIGIL_IDLE_TIMEOUT_SECONDS", \.idleTimeoutSeconds),
            ("VIGIL_MAX_CONNECTIONS", \.maxConnections),
            ("VIGIL_EVENT_LOG_SEGMENT_BYTES", \.eventLogSegmentBytes),
            ("VIGIL_EVENT_LOG_FAILURE_EXIT_SECONDS", \.eventLogFailureExitSeconds),
            ("VIGIL_SNAPSHOT_INTERVAL_SECONDS", \.snapshotIntervalSeconds),
            ("VIGIL_EVENT_RETENTION_DAYS", \.eventRetentionDays),
            ("VIGIL_STATE_TIMEOUT_MS", \.stateTimeoutMilliseconds),
            ("VIGIL_STATE_EXPIRY_DAYS", \.stateExpiryDays),
            ("VIGIL_PEER_WRITE_TIMEOUT_MS", \.peerWriteTimeoutMilliseconds),
            ("VIGIL_INTAKE_MAX_FILE_BYTES", \.intakeMaxFileBytes),
            ("VIGIL_INTAKE_SETTLE_MS", \.intakeSettleMilliseconds),
        ]
        for (name, key) in numbers {
            guard let value = environment[name] else { continue }
            guard let number = Int(value) else { throw Invalid(description: "\(name) must be a number") }
            self[keyPath: key] = number
        }
        if environment["VIGIL_MASTER_KEY"] != nil { masterKeySource = .env }
        if let value = environment["VIGIL_TOKEN_ISSUER"] { tokenIssuer = value }
        if let value = environment["VIGIL_TOKEN_AUDIENCE"] { tokenAudience = value }
        if let value = environment["VIGIL_TOKEN_CLOCK_SKEW_SECONDS"] {
            guard let seconds = Int(value) else { throw Invalid(description: "VIGIL_TOKEN_CLOCK_SKEW_SECONDS must be a number") }
            tokenClockSkewSeconds = seconds
        }
        if let value = environment["VIGIL_CREATED_AT_SKEW_SECONDS"] {
            guard let seconds = Int(value) else { throw Invalid(description: "VIGIL_CREATED_AT_SKEW_SECONDS must be a number") }
            createdAtSkewSeconds = seconds
        }
        if let value = environment["VIGIL_CREATED_AT_LAG_SECONDS"] {
            guard let seconds = Int(value) else { throw Invalid(description: "VIGIL_CREATED_AT_LAG_SECONDS must be a number") }
            createdAtLagSeconds = seconds
        }
        if let value = environment["VIGIL_TLS_CERT"] { tlsCertificatePath = value }
        if let value = environment["VIGIL_TLS_KEY"] { tlsKeyPath = value }
        if let value = environment["VIGIL_CLIENT_CA"] { clientCAPath = value }
        if let value = environment["VIGIL_STATE"] { state = value }
        if let value = environment["VIGIL_STATE_PREFIX"] { statePrefix = value }
        if let value = environment["VIGIL_STATE_TLS_CA"] { stateTLSCAPath = value }
        if let value = environment["VIGIL_REGION"] { region = value }
        if let value = environment["VIGIL_PEER_REGION"] { peerRegion = value }
        if let value = environment["VIGIL_PEER_STATE"] { peerState = value }
        if let value = environment["VIGIL_PEER_STREAM"] { peerStream = value }
        if let value = environment["VIGIL_STATE_FAILURE"] { stateFailure = try StateFailure(parsing: value, from: "VIGIL_STATE_FAILURE") }
        if let value = environment["VIGIL_STREAM"] { stream = value }
        if let value = environment["VIGIL_STREAM_TOPIC"] { streamTopic = value }
        if let value = environment["VIGIL_INTAKE_SCAN"] { intakeScan = value }
        if let value = environment["VIGIL_INTAKE_PGP"] { intakePGP = value }
        if let value = environment["VIGIL_INTAKE_ERROR_THRESHOLD"] {
            guard let fraction = Double(value) else { throw Invalid(description: "VIGIL_INTAKE_ERROR_THRESHOLD must be a number") }
            intakeErrorThreshold = fraction
        }
        if let value = environment["VIGIL_TLS_MIN_VERSION"] {
            tlsMinimumVersion = try TLSMinimumVersion(parsing: value, from: "VIGIL_TLS_MIN_VERSION")
        }
        // Settings that go together (a TLS key and its certificate) are checked by `validate()` once every layer
        // is applied, so that one can come from the environment or the file and the other from a flag.
        try validateValues()
    }

    /// Checks every setting and that settings which go together are given together.
    public func validate() throws {
        try validateValues()
        try validateCombination()
    }

    func validateValues() throws {
        guard (0...65535).contains(port) else { throw Invalid(description: "port must be between 0 and 65535") }
        guard duplicateRetentionHours >= 1 else { throw Invalid(description: "duplicateRetentionHours must be at least 1") }
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logLevel) else { throw Invalid(description: "logLevel must be one of \(levels.joined(separator: ", "))") }
        let ranges: [(String, Int, ClosedRange<Int>)] = [
            ("requestHeaderTimeoutSeconds", requestHeaderTimeoutSeconds, 1...3600),
            ("requestBodyTimeoutSeconds", requestBodyTimeoutSeconds, 1...3600),
            ("idleTimeoutSeconds", idleTimeoutSeconds, 1...86400),
            ("maxConnections", maxConnections, 1...1_000_000),
            ("eventLogSegmentBytes", eventLogSegmentBytes, (64 << 10)...FileEventLog.maxRecordBytesLimit),
            ("eventLogFailureExitSeconds", eventLogFailureExitSeconds, 0...3600),
            ("snapshotIntervalSeconds", snapshotIntervalSeconds, 0...86400),
            ("eventRetentionDays", eventRetentionDays, 0...36500),
            ("stateTimeoutMilliseconds", stateTimeoutMilliseconds, 10...60_000),
            ("stateExpiryDays", stateExpiryDays, 8...3660),
            ("peerWriteTimeoutMilliseconds", peerWriteTimeoutMilliseconds, 10...5000),
            ("intakeMaxFileBytes", intakeMaxFileBytes, 1...(1 << 40)),
            ("intakeSettleMilliseconds", intakeSettleMilliseconds, 100...600_000),
        ]
        for (name, value, range) in ranges where !range.contains(value) {
            throw Invalid(description: "\(name) must be between \(range.lowerBound) and \(range.upperBound)")
        }
        // The URL's own syntax is checked where it is parsed (the Redis adapter), with a message naming the fault.
        let schemes = ["redis://", "rediss://", "redis+cluster://"]
        guard state == "memory" || schemes.contains(where: state.hasPrefix) else {
            throw Invalid(description: "state must be memory, redis://host:port, rediss://host:port or redis+cluster://host:port,host:port")
        }
        guard (1...64).contains(statePrefix.utf8.count), !statePrefix.contains("{"), !statePrefix.contains("}"),
            statePrefix.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f })
        else {
            throw Invalid(description: "statePrefix must be 1–64 printable ASCII characters without spaces or braces")
        }
        if stateTLSCAPath != nil, !state.hasPrefix("rediss://") && !state.hasPrefix("redis+cluster://") {
            throw Invalid(description: "stateTLSCAPath (--state-tls-ca) needs a TLS state store: state must start with rediss://")
        }
        if let stream { _ = try EventStreamURL(parsing: stream, from: "stream") }
        guard EventStreamURL.isValidTopic(streamTopic) else {
            throw Invalid(description: "streamTopic must be 1–249 characters of letters, digits, '.', '_' and '-'")
        }
        for (name, path) in [
            ("tlsCertificatePath", tlsCertificatePath), ("tlsKeyPath", tlsKeyPath), ("clientCAPath", clientCAPath), ("stateTLSCAPath", stateTLSCAPath),
        ] {
            if let path, path.isEmpty { throw Invalid(description: "\(name) must not be empty") }
        }
        for (name, value) in [("region", region), ("peerRegion", peerRegion)] {
            if let value, !Self.isValidRegionName(value) { throw Invalid(description: "\(name) " + Self.regionNameRule) }
        }
        // Only the scheme here: the adapter parses the rest, with a message naming the fault and never the password.
        if let peerState, !peerState.hasPrefix("redis://") && !peerState.hasPrefix("rediss://") {
            throw Invalid(description: "peerState must be redis://host:port or rediss://host:port (the peer region's Valkey/Redis)")
        }
        if let peerStream, !peerStream.hasPrefix("kafka://") || peerStream.count <= "kafka://".count {
            throw Invalid(description: "peerStream must be kafka://host:port[,host:port…] (the peer region's Kafka)")
        }
        for (name, value) in [("tokenIssuer", tokenIssuer), ("tokenAudience", tokenAudience)] {
            guard (1...256).contains(value.utf8.count), value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f }) else {
                throw Invalid(description: "\(name) must be 1–256 bytes of printable text")
            }
        }
        guard (0...Int(JSONWebToken.maximumClockSkewSeconds)).contains(tokenClockSkewSeconds) else {
            throw Invalid(description: "tokenClockSkewSeconds must be between 0 and \(JSONWebToken.maximumClockSkewSeconds)")
        }
        guard Self.createdAtSkewRange.contains(createdAtSkewSeconds) else {
            throw Invalid(description: "createdAtSkewSeconds must be between 0 and \(Self.createdAtSkewRange.upperBound)")
        }
        guard intakeErrorThreshold.isFinite, (0...1).contains(intakeErrorThreshold) else {
            throw Invalid(description: "intakeErrorThreshold must be a fraction between 0 and 1 (0.01 is 1% of a file's rows)")
        }
        do {
            _ = try IntakeScanSetting(parsing: intakeScan)
            _ = try IntakePGPSetting(parsing: intakePGP)
        } catch {
            throw Invalid(description: error.description)
        }
        guard Self.createdAtLagRange.contains(createdAtLagSeconds) else {
            throw Invalid(description: "createdAtLagSeconds must be between 60 and \(Self.createdAtLagRange.upperBound) (3660 days)")
        }
    }

    func validateCombination() throws {
        if peerRegion != nil, region == nil {
            throw Invalid(description: "a peer region (peerRegion, --peer-region) needs this node's own region (region, --region)")
        }
        if let peerRegion, peerRegion == region {
            throw Invalid(description: "peerRegion (--peer-region) must name the other region, not this node's own")
        }
        for (name, value) in [("peerState (--peer-state)", peerState), ("peerStream (--peer-stream)", peerStream)] where value != nil {
            guard peerRegion != nil else { throw Invalid(description: "\(name) needs the peer region's name (peerRegion, --peer-region)") }
            guard hasSharedState else {
                throw Invalid(description: "\(name) needs a shared state store (state, --state redis://…): a region's nodes share its Redis")
            }
        }
        if tlsKeyPath != nil, tlsCertificatePath == nil {
            throw Invalid(description: "a TLS key (tlsKeyPath, --tls-key) needs its certificate (tlsCertificatePath, --tls-cert)")
        }
        if tlsCertificatePath != nil, tlsKeyPath == nil {
            throw Invalid(description: "a TLS certificate (tlsCertificatePath, --tls-cert) needs its private key (tlsKeyPath, --tls-key)")
        }
        if clientCAPath != nil, tlsCertificatePath == nil {
            throw Invalid(description: "client certificates (clientCAPath, --client-ca) need TLS: give --tls-cert and --tls-key too")
        }
        if tlsMinimumVersion != .v1_3, tlsCertificatePath == nil {
            throw Invalid(description: "a TLS minimum version (tlsMinimumVersion, --tls-min-version) needs TLS: give --tls-cert and --tls-key too")
        }
    }
}
