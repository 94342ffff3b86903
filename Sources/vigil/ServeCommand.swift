import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import VigilEventLog
import VigilKafkaStream
import VigilPostgres
import VigilProtection
import VigilRedisState
import VigilServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the scoring service (embedded defaults: one process, data in ./data)."
    )

    @Option(help: "Address to bind (default 127.0.0.1).") var host: String?
    @Option(help: "Port to bind; 0 picks a free port and prints it (default 8080).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Data directory for tenants, keys and the event log (default ./data).") var dataDir: String?
    @Option(
        name: .customLong("control-plane"),
        help: ArgumentHelp(
            "Where tenants, keys and the audit log live: files (default, in the data directory) or postgres://user[:password]@host:port/db, shared by every node (env VIGIL_CONTROL_PLANE).",
            valueName: "url"
        )
    )
    var controlPlane: String?
    @Option(help: "JSON config file (see README, Configuration).") var config: String?
    @Option(help: "fsync (default) or async.") var durability: String?
    @Option(help: "XGBoost JSON model to load instead of the bundled one.") var model: String?
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(name: .customLong("client-ca"), help: "PEM CA bundle: require a client certificate signed by one of these CAs (mutual TLS).")
    var clientCA: String?
    @Option(name: .customLong("tls-min-version"), help: "Oldest TLS version accepted: 1.3 (default) or 1.2.") var tlsMinVersion: String?
    @Option(help: ArgumentHelp(
        "Where feature state, duplicate checks and usage plans live: memory (default), redis://[user:password@]host:port[/db], rediss://… or redis+cluster://host:port,host:port.",
        valueName: "url"
    ))
    var state: String?
    @Option(name: .customLong("state-prefix"), help: "Prefix of the keys written to a shared state store (default vigil:).") var statePrefix: String?
    @Option(name: .customLong("state-timeout-ms"), help: "Milliseconds a state-store request may take before the payment gets 503 (default 500).")
    var stateTimeoutMs: Int?
    @Option(name: .customLong("state-tls-ca"), help: "PEM CA bundle a rediss:// state store's certificate must chain to (default: the system's).")
    var stateTLSCA: String?
    @Option(name: .customLong("state-failure"), help: "When the state store fails: unavailable (503, the default) or degraded (score from the request alone).")
    var stateFailure: String?
    @Option(help: "This node's region, e.g. eu-west (docs/regions.md).") var region: String?
    @Option(name: .customLong("peer-region"), help: "The other region of an active-active pair (needs --region).") var peerRegion: String?
    @Option(
        name: .customLong("peer-state"),
        help: ArgumentHelp("The peer region's Valkey/Redis: answers are written there too (redis://… or rediss://…).", valueName: "url")
    )
    var peerState: String?
    @Option(
        name: .customLong("peer-stream"),
        help: ArgumentHelp("The peer region's Kafka, whose scored payments feed this region's features (kafka://host:port,…).", valueName: "url")
    )
    var peerStream: String?
    @Option(name: .customLong("peer-write-timeout-ms"), help: "Milliseconds a write to the peer region's store may take (default 100).")
    var peerWriteTimeoutMs: Int?

    @Option(help: ArgumentHelp(
        "Ship every event-log record to Kafka: kafka://host:port,host:port (the bootstrap brokers; env VIGIL_STREAM, config stream).",
        valueName: "url"
    ))
    var stream: String?
    @Option(name: .customLong("stream-topic"), help: "The Kafka topic the event log is shipped to (default vigil.events).") var streamTopic: String?
    @Option(
        name: .customLong("intake-scan"),
        help: ArgumentHelp("Malware scanning of daily files: off (default, warned about), clamd:/path/to/socket or clamd:tcp://host:port.", valueName: "scanner")
    )
    var intakeScan: String?
    @Option(name: .customLong("intake-pgp"), help: "Daily files are plain CSV (off, the default) or PGP, encrypted and signed (gpg).") var intakePGP: String?

    func run() async throws {
        var configuration = VigilConfiguration()
        do {
            if let config { configuration = try VigilConfiguration.load(file: config) }
            try configuration.applyEnvironment()
            if let host { configuration.host = host }
            if let port { configuration.port = port }
            if let dataDir { configuration.dataDirectory = dataDir }
            if let controlPlane { configuration.controlPlane = controlPlane }
            if let durability {
                guard let value = Durability(rawValue: durability) else { throw CLIError("--durability must be fsync or async") }
                configuration.durability = value
            }
            if let model { configuration.modelPath = model }
            if let tlsCert { configuration.tlsCertificatePath = tlsCert }
            if let tlsKey { configuration.tlsKeyPath = tlsKey }
            if let clientCA { configuration.clientCAPath = clientCA }
            if let state { configuration.state = state }
            if let statePrefix { configuration.statePrefix = statePrefix }
            if let stateTimeoutMs { configuration.stateTimeoutMilliseconds = stateTimeoutMs }
            if let stateTLSCA { configuration.stateTLSCAPath = stateTLSCA }
            if let stream { configuration.stream = stream }
            if let streamTopic { configuration.streamTopic = streamTopic }
            if let intakeScan { configuration.intakeScan = intakeScan }
            if let intakePGP { configuration.intakePGP = intakePGP }
            if let stateFailure { configuration.stateFailure = try .init(parsing: stateFailure, from: "--state-failure") }
            if let region { configuration.region = region }
            if let peerRegion { configuration.peerRegion = peerRegion }
            if let peerState { configuration.peerState = peerState }
            if let peerStream { configuration.peerStream = peerStream }
            if let peerWriteTimeoutMs { configuration.peerWriteTimeoutMilliseconds = peerWriteTimeoutMs }
            if let tlsMinVersion {
                configuration.tlsMinimumVersion = try .init(parsing: tlsMinVersion, from: "--tls-min-version")
            }
            try configuration.validate()
        } catch {
            throw CLIError("configuration: \(error)")
        }
        // A log or stdout reader that went away must cost a dropped line (EPIPE, counted), not the process.
        signal(SIGPIPE, SIG_IGN)
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "vigil")
        // Keys and plaintext live in this process's memory: no core dump, no ptrace by other processes.
        do {
            try ProcessHardening.apply()
        } catch {
            throw CLIError("cannot harden the process: \(error)")
        }
        let plane = try await openControlPlane(configuration.controlPlane, logger: logger)
        // File metadata goes where the control plane is: PostgreSQL's `vigil_files`, or the data directory.
        let intake = try intakeBackends(configuration, store: (plane as? PostgresControlPlane).map(PostgresFileStore.init))
        var eventStream: (any EventStreamSink)?
        if let stream = configuration.stream {
            do {
                eventStream = try KafkaEventStream(url: try EventStreamURL(parsing: stream, from: "stream"), topic: configuration.streamTopic)
            } catch {
                throw CLIError("event stream: \(error)")
            }
        }
        do {
            let scheme = configuration.tlsEnabled ? "https" : "http"
            let failStop = FailStop()
            let listening: @Sendable (String, Int) -> Void = { host, port in
                // Unbuffered, so a supervisor reading a pipe sees the port at once; a write that fails is not fatal.
                LogOutput.standardOutput.write("vigil: listening on \(scheme)://\(host):\(port)\n")
            }
            // The peer region's stream, folded into this region's state (validation made sure a region is named).
            let peerEvents: (any PeerEventSource)? = try configuration.peerStream.map {
                try KafkaPeerEventSource(url: $0, region: configuration.region ?? "")
            }
            if configuration.peerState != nil {
                let backend: StateBackend<RedisFeatureStore, PeerReplicatedDuplicates<RedisDuplicateStore, RedisDuplicateStore>>
                do {
                    backend = try await RedisStateBackend.connectWithPeer(configuration: configuration)
                } catch {
                    throw CLIError(error.description)
                }
                let app = try await buildApplication(
                    configuration: configuration, controlPlane: plane, backend: backend, logger: logger, failStop: failStop,
                    stream: eventStream, peerEvents: peerEvents, intake: intake, onListening: listening
                )
                try await failStop.run(app, logger: logger)
            } else if configuration.hasSharedState {
                let backend: StateBackend<RedisFeatureStore, RedisDuplicateStore>
                do {
                    backend = try await RedisStateBackend.connect(configuration: configuration)
                } catch {
                    throw CLIError(error.description)
                }
                let app = try await buildApplication(
                    configuration: configuration, controlPlane: plane, backend: backend, logger: logger, failStop: failStop,
                    stream: eventStream, peerEvents: peerEvents, intake: intake, onListening: listening
                )
                try await failStop.run(app, logger: logger)
            } else {
                let app = try await buildApplication(
                    configuration: configuration, controlPlane: plane, logger: logger, failStop: failStop, stream: eventStream,
                    intake: intake, onListening: listening
                )
                try await failStop.run(app, logger: logger)
            }
            // The event log failed and the node drained: a distinct status, so the supervisor restarts it.
            if failStop.hasStopped { throw ExitCode(FailStop.exitStatus) }
        } catch let error as StartupError {
            throw CLIError(error.description)
        } catch where isAddressInUse(error) {
            // Another process took the port between the start-up check and the bind.
            throw CLIError(portInUseMessage(host: configuration.host, port: configuration.port))
        }
    }
}
