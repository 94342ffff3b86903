import Foundation
public import Hummingbird
public import Logging
import NIOCore
public import ServiceLifecycle
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilGateway
import VigilProtection
import VigilTrees

/// Failures while assembling the service, each with what to do about it.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String
}

/// Wires keys, tenants, model, event log, engine and HTTP server into one application.
/// `vigil serve` and the tests both build the service here.
public func buildApplication(
    configuration: VigilConfiguration, logger: Logger, onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }
) async throws -> some ApplicationProtocol {
    let data = configuration.dataDirectory
    do {
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
        throw StartupError(description: "cannot create data directory \(data): \(error.localizedDescription)")
    }

    do {
        try configuration.validate()
    } catch {
        throw StartupError(description: "configuration: \(error)")
    }

    let keys: KeyRing
    do {
        keys = try KeyRing.open(directory: data, provider: configuration.masterKeyProvider)
    } catch {
        throw StartupError(description: "keys: \(error)")
    }

    let signingKeys = SigningKeyStore(dataDirectory: data)
    let tokens: TokenAuthority
    do {
        let now = Int64(Date().timeIntervalSince1970)
        if let created = try signingKeys.createIfEmpty(provider: configuration.masterKeyProvider, now: now) {
            logger.notice("Created the first token-signing key", metadata: ["vigil.signing.kid": .string(created.kid)])
        }
        tokens = TokenAuthority(policy: configuration.tokenPolicy, keys: try signingKeys.verificationKeys())
    } catch {
        throw StartupError(description: "signing keys: \(error)")
    }

    let directory = TenantDirectory(dataDirectory: data)
    if try directory.load().byName.isEmpty {
        let key = try directory.create(name: "demo")
        try AtomicFile.write(Array((key + "\n").utf8), to: data + "/demo.key", mode: 0o600)
        logger.notice("Created the demo tenant; its API key is in the data directory", metadata: ["vigil.file": "demo.key"])
    }
    let state = ServerState(tenants: try directory.load())

    let model: ModelBundle
    do {
        model = try configuration.modelPath.map { try ModelBundle.load(path: $0) } ?? ModelBundle.bundled()
    } catch {
        throw StartupError(description: "model: \(error)")
    }

    let metrics = ServerMetrics()
    let log: FileEventLog
    do {
        log = try FileEventLog(
            directory: data + "/events", durability: configuration.durability,
            onSync: { seconds, records in metrics.synced(seconds: seconds, records: records) }
        )
    } catch {
        throw StartupError(description: "event log: \(error)")
    }
    if log.recovery.truncatedBytes > 0 {
        logger.warning(
            "Truncated a torn tail of the event log", metadata: ["vigil.eventlog.truncated_bytes": "\(log.recovery.truncatedBytes)"]
        )
    }

    let engine = ScoringEngine(
        store: InMemoryFeatureStore(), log: log, model: model,
        duplicates: DuplicateIndex(retentionSeconds: Int64(configuration.duplicateRetentionHours) * 3600)
    )
    let responder = VigilResponder(
        engine: engine, gateway: Gateway(keys: keys), state: state, metrics: metrics, tokens: tokens,
        openAPI: try OpenAPIDocument.bytes()
    )
    logger.info("Model loaded", metadata: ["vigil.model.version": .string(model.version), "vigil.model.trees": .stringConvertible(model.ensemble.treeCount)])

    return Application(
        responder: responder,
        configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "vigil"),
        services: [
            EventLogService(log: log, logger: logger),
            RecoveryService(engine: engine, log: log, state: state, metrics: metrics, logger: logger),
            TenantReloader(directory: directory, state: state, logger: logger),
            SigningKeyReloader(store: signingKeys, authority: tokens, logger: logger),
        ],
        onServerRunning: { channel in
            onListening(configuration.host, channel.localAddress?.port ?? configuration.port)
        },
        logger: logger
    )
}

/// The OpenAPI 3.1 document served at `/openapi.json`.
public enum OpenAPIDocument {
    public static func bytes() throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            throw StartupError(description: "the OpenAPI document is missing from the build")
        }
        return Array(data)
    }
}

/// Flushes and closes the event log after the HTTP server has stopped (services stop in reverse order).
struct EventLogService: Service {
    let log: FileEventLog
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        await log.shutdown()
        logger.info("Event log flushed and closed")
    }
}

/// Rebuilds feature state and the duplicate index from the event log, then marks the service ready.
struct RecoveryService<Store: FeatureStore>: Service {
    let engine: ScoringEngine<Store, FileEventLog>
    let log: FileEventLog
    let state: ServerState
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        let started = ContinuousClock.now
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var count = 0
        try log.forEach { sequence, payload in
            do {
                try engine.replay(payload, nowMillis: now)
            } catch {
                throw StartupError(description: "event log record \(sequence) is not a scored-payment event: \(error)")
            }
            count += 1
        }
        state.markReady()
        metrics.setReady(true)
        logger.notice(
            "Recovery finished; ready", metadata: ["vigil.recovery.events": "\(count)", "vigil.recovery.duration": "\(ContinuousClock.now - started)"]
        )
        try? await gracefulShutdown()
    }
}

/// Picks up changes to `tenants.json` (new tenants, keys, rules) without a restart.
struct TenantReloader: Service {
    let directory: TenantDirectory
    let state: ServerState
    let logger: Logger

    func modified() -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: directory.path))?[.modificationDate] as? Date
    }

    func run() async throws {
        var seen = modified()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let current = modified()
            guard current != seen else { continue }
            seen = current
            do {
                state.replaceTenants(try directory.load())
                logger.notice("Reloaded tenants")
            } catch {
                logger.error("Kept the previous tenants: the new tenant file is invalid", metadata: ["vigil.error": "\(error)"])
            }
        }
    }
}
