import Dispatch
import Foundation
public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import NIOPosix
public import ServiceLifecycle
import VigilDomain
public import VigilEngine
import VigilEventLog
public import VigilFiles
public import VigilFeatures
import VigilGateway
public import VigilProtection
import VigilTraining
import VigilTrees
import Synchronization

/// The model's training profile for the drift gauges; a model without one (or with one this version cannot read,
/// which is logged) is served all the same, without drift gauges.
func servingProfile(_ model: ModelBundle, logger: Logger) -> TrainingProfile? {
    do {
        return try model.trainingProfile()
    } catch {
        logger.warning(
            "The model's training profile is unreadable; no drift gauges", metadata: ["vigil.model.version": .string(model.version), "vigil.error": "\(error)"]
        )
        return nil
    }
}

/// Failures while assembling the service, each with what to do about it.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String
}

/// Wires keys, tenants, model, event log, engine and HTTP server into one application.
/// `vigil serve` and the tests both build the service here.
/// - Parameters:
///   - controlPlane: Where tenants, wrapped keys, signing keys and the audit log are kept; nil for the files in the
///     data directory (the embedded default). `vigil serve --control-plane postgres://…` passes PostgreSQL's.
///   - failStop: What stops the node once its event log has failed (`vigil serve` attaches its service group);
///     without one attached the node stays up, not ready.
///   - usage: Where tenants' usage plans are spent: this process by default, or a store all nodes share.
///   - stream: Where the event log is shipped (`vigil serve --stream kafka://…` passes the Kafka adapter's); nil for
///     nowhere.
///   - intake: The daily-file intake's back ends and metadata store (`vigil serve` passes clamd, gpg and
///     PostgreSQL's when configured); the embedded defaults when not given.
public func buildApplication(
    configuration: VigilConfiguration, controlPlane: (any ControlPlane)? = nil, logger: Logger, failStop: FailStop = FailStop(),
    usage: any UsageLimiting = UsageLimiter(), stream: (any EventStreamSink)? = nil, intake: IntakeBackends = IntakeBackends(),
    onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }
) async throws -> some ApplicationProtocol {
    var backend = StateBackend.embedded(duplicateRetentionHours: configuration.duplicateRetentionHours)
    backend.usage = usage
    return try await buildApplication(
        configuration: configuration, controlPlane: controlPlane, backend: backend, logger: logger, failStop: failStop,
        stream: stream, intake: intake, onListening: onListening
    )
}

/// ``buildApplication(configuration:controlPlane:logger:failStop:usage:stream:onListening:)`` on a given state back end.
/// - Parameter peerEvents: the peer region's event stream, whose scored payments are folded into this region's state
///   (``PeerFold``); nil for none.
public func buildApplication<Store: FeatureStore, Duplicates: DuplicateStore>(
    configuration: VigilConfiguration, controlPlane: (any ControlPlane)? = nil, backend: StateBackend<Store, Duplicates>, logger: Logger,
    failStop: FailStop = FailStop(), stream: (any EventStreamSink)? = nil, peerEvents: (any PeerEventSource)? = nil,
    intake: IntakeBackends = IntakeBackends(), onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }
) async throws -> some ApplicationProtocol {
    // Every argument is checked, the model included, before the data directory is created or written.
    let checked = try ConfigurationCheck(configuration)
    let (tls, model) = (checked.tls, checked.model)
    // Before anything touches the disk or replays the log: a port in use is the commonest start-up failure.
    try await checkPortIsFree(host: configuration.host, port: configuration.port)
    let data = configuration.dataDirectory
    do {
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
        throw StartupError(description: "cannot create data directory \(data): \(error.localizedDescription)")
    }

    let plane = controlPlane ?? FileControlPlane(directory: data)
    let admin = Administration(plane: plane, provider: configuration.masterKeyProvider, actor: .server)
    let signingKeys = admin.signingKeys
    // Control-plane work blocks (locks, fsyncs, round trips to PostgreSQL): off the cooperative pool.
    // The deployed models (`vigil model deploy`); `model` (`--model`, else the bundled one) is the champion when none is.
    let (models, loadedModels) = await loadDeployedModels(admin: admin, fallback: model, logger: logger)
    let (keys, tenants, tokens) = try await blocking { () throws -> (KeyRing, TenantTable, TokenAuthority) in
        let keys: KeyRing
        let tenants: TenantTable
        do {
            // Before anything is written: keys that do not open with this node's master key (a shared control
            // plane, a different master key) stop the start here, not after new keys were wrapped with it.
            _ = try admin.keys.open()
            // First start only: a control plane whose tenants were all erased stays without tenants.
            if try !admin.tenants.exists() {
                try createDemoTenant(admin: admin, dataDirectory: data, logger: logger)
            }
            tenants = try admin.tenants.load()
            // Tenants added by hand, or from before data keys were per tenant, get theirs now.
            try ensureDataKeys(admin: admin, logger: logger)
            keys = try admin.keys.open()
        } catch {
            throw StartupError(description: "keys and tenants: \(error)")
        }
        do {
            let now = Int64(Date().timeIntervalSince1970)
            if let created = try signingKeys.createIfEmpty(provider: configuration.masterKeyProvider, now: now) {
                logger.notice("Created the first token-signing key", metadata: ["vigil.signing.kid": .string(created.kid)])
                try admin.record(action: "keys.create-signing", target: nil, details: ["kid": created.kid, "alg": created.algorithm.rawValue])
            }
            return (keys, tenants, TokenAuthority(policy: configuration.tokenPolicy, keys: try signingKeys.verificationKeys()))
        } catch {
            throw StartupError(description: "signing keys: \(error)")
        }
    }
    let link = backend.link ?? RegionLink(configuration)
    guard link.region == configuration.region, link.peer == configuration.peerRegion else {
        throw StartupError(description: "the state back end was built for another region than region and peerRegion name")
    }
    let state = ServerState(tenants: tenants, keys: keys, usage: backend.usage, storeCounters: backend.counters, link: link)

    let metrics = ServerMetrics()
    let log: FileEventLog
    do {
        log = try FileEventLog(
            directory: data + "/events", durability: configuration.durability, segmentBytes: configuration.eventLogSegmentBytes,
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

    var shipper: EventShipper?
    if let stream {
        do {
            shipper = try EventShipper(
                log: log, sink: stream, position: try StreamPosition(dataDirectory: data), metrics: metrics, link: link, logger: logger
            )
        } catch {
            await log.shutdown()
            throw error
        }
    }
    // How many records are on the stream (every sequence below it), for retention: nil when there is no stream.
    let streamShipped: @Sendable () -> UInt64? = { [position = shipper?.position] in position?.shipped }

    let engine = ScoringEngine(
        store: backend.features, log: log, model: model, duplicates: backend.duplicates, bounds: configuration.createdAtBounds,
        degradesOnStateFailure: configuration.stateFailure == .degraded, reference: backend.reference,
        monitor: ServingMonitor(profile: servingProfile(models.champion, logger: logger), modelVersion: models.champion.version)
    )
    if let monitor = engine.monitor {
        metrics.onScrape { [registry = metrics.registry] in ServerMetrics.record(monitor.snapshot, in: registry) }
    }
    engine.models.replace(models)
    let shadowCounts = ShadowCounts()
    metrics.onScrape { [shadows = engine.shadows] in
        metrics.recordStoreCounters([
            StateStoreCounter(
                name: "vigil_shadow_scores_total", help: "Challenger (shadow) scores appended to the event log.",
                total: shadowCounts.logged.load(ordering: .relaxed)
            ),
            StateStoreCounter(
                name: "vigil_shadow_scores_dropped_total",
                help: "Payments the challenger did not score: the shadow queue was full, or the event log refused the shadow records.",
                total: shadows.dropped + shadowCounts.refused.load(ordering: .relaxed)
            ),
        ])
    }
    logger.info("Scoring state", metadata: ["vigil.state": .string(backend.summary)])
    let fileStore = intake.store ?? DataDirectoryFileStore(dataDirectory: data)
    let responder = VigilResponder(
        engine: engine, state: state, metrics: metrics, tokens: tokens, openAPI: try OpenAPIDocument.bytes(),
        checksClientCertificates: tls?.requiresClientCertificate ?? false,
        files: FileEndpoints(store: fileStore, layout: IntakeLayout(dataDirectory: data), settings: configuration.intakeSettings)
    )
    let intakePipeline = IntakePipeline(
        layout: IntakeLayout(dataDirectory: data), store: fileStore, scanner: intake.scanner, opener: intake.opener,
        sink: EngineIntakeSink(engine: engine), settings: configuration.intakeSettings,
        makeReader: { type, tenant in TokenizingReader(type: type, tenant: tenant) }, logger: logger
    )
    if let tls {
        logger.notice(
            "Serving HTTPS: HTTP/2 and HTTP/1.1 by ALPN",
            metadata: [
                "vigil.tls.min_version": .string(configuration.tlsMinimumVersion.rawValue),
                "vigil.tls.client_certificates": .string(tls.requiresClientCertificate ? "required" : "not requested"),
            ]
        )
    }
    if intake.scanner is ScanningOff {
        logger.warning(
            "MALWARE SCANNING OF DAILY FILES IS OFF: files from banks are opened unscanned; set intakeScan to clamd:… (docs/intake.md)",
            metadata: ["vigil.intake.scan": "off"]
        )
    }
    logger.info(
        "Model loaded",
        metadata: [
            "vigil.model.version": .string(models.champion.version), "vigil.model.trees": .stringConvertible(models.champion.ensemble.treeCount),
            "vigil.models": .string(models.roles.joined(separator: ",")),
        ])

    // Snapshots belong to state kept in this process; a shared store keeps its own.
    var snapshots: StateSnapshots?
    if backend.replaysEventLog, let store = backend.features as? InMemoryFeatureStore, let index = backend.duplicates as? DuplicateIndex {
        snapshots = StateSnapshots(
            store: store, duplicates: index, usage: state.usage as? UsageLimiter, log: log, dataDirectory: data,
            reference: backend.reference as? InMemoryReferenceStore
        )
    }
    // After the log's service, so it stops (and writes what it holds) before the log closes.
    var lifecycle: [any Service] = [
        EventLogService(log: log, logger: logger),
        ShadowScoringService(queue: engine.shadows, log: log, counts: shadowCounts, logger: logger),
    ]
    if let snapshots {
        let interval = configuration.snapshotIntervalSeconds > 0 ? Duration.seconds(configuration.snapshotIntervalSeconds) : nil
        lifecycle.append(SnapshotService(snapshots: snapshots, state: state, interval: interval, logger: logger))
        if configuration.eventRetentionDays > 0 {
            lifecycle.append(
                RetentionService(
                    log: log, retentionSeconds: Int64(configuration.eventRetentionDays) * 86_400, covered: { snapshots.coveredSequence() },
                    shipped: streamShipped, logger: logger))
        }
    } else if configuration.eventRetentionDays > 0 {
        // A shared store holds the state and the log is never replayed, so no segment waits for a snapshot: only for
        // its age and, with a stream, for the shipper.
        lifecycle.append(
            RetentionService(
                log: log, retentionSeconds: Int64(configuration.eventRetentionDays) * 86_400, covered: { [log] in log.appendedRecords },
                shipped: streamShipped, logger: logger))
    }

    let limits = ConnectionLimits(configuration)
    let (server, _) = HTTPServerBuilder.guarded(limits: limits, metrics: metrics, tls: tls != nil) { http1, responder in
        try tls?.childChannel(http1: http1, idleTimeout: limits.idleTimeout, responder: responder)
            ?? HTTP1Channel(responder: responder, configuration: http1)
    }

    lifecycle.append(IntakeService(pipeline: intakePipeline, state: state, backends: intake, logger: logger))
    var services: [any Service] = lifecycle + [
        RecoveryService(
            engine: engine, log: log, replays: backend.replaysEventLog, snapshots: snapshots, state: state, metrics: metrics, logger: logger),
    ]
    if let peerEvents {
        services.append(PeerFold(
            engine: engine, answers: backend.localDuplicates ?? backend.duplicates, source: peerEvents, link: link,
            logger: logger
        ))
    }
    return Application(
        responder: responder,
        server: server,
        configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "vigil"),
        services: services + [
            BackendMonitor(check: backend.check, state: state, metrics: metrics, logger: logger),
            EventLogMonitor(
                log: log, state: state, metrics: metrics, failStop: failStop,
                exitDelay: .seconds(configuration.eventLogFailureExitSeconds), logger: logger
            ),
            ConfigurationReloader(admin: admin, state: state, models: engine.models, monitor: engine.monitor, fallbackModel: model, loadedModels: loadedModels, logger: logger),
            SigningKeyReloader(store: signingKeys, authority: tokens, logger: logger),
        ] + (shipper.map { [$0] } ?? []),
        onServerRunning: { channel in
            onListening(configuration.host, channel.localAddress?.port ?? configuration.port)
        },
        logger: logger
    )
}

/// Binds `host:port` and lets go at once, so that a port in use stops the start with a message a person can act on
/// rather than a bind error after recovery. (Another process could still take the port in between; `vigil serve`
/// words that bind error the same way.)
func checkPortIsFree(host: String, port: Int) async throws {
    guard port != 0 else { return }
    do {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port).get()
        try await channel.close()
    } catch let error where isAddressInUse(error) {
        throw StartupError(description: portInUseMessage(host: host, port: port))
    } catch let error as IOError where error.errnoCode == EACCES {
        throw StartupError(description: "port \(port) on \(host) needs privileges this process lacks; choose a port above 1023")
    } catch {
        throw StartupError(description: "cannot listen on \(host) port \(port): \(error)")
    }
}

/// Whether `error` is a bind that failed because another process holds the address.
public func isAddressInUse(_ error: any Error) -> Bool {
    (error as? IOError)?.errnoCode == EADDRINUSE
}

/// What `vigil serve` says when another process holds its port.
public func portInUseMessage(host: String, port: Int) -> String {
    "port \(port) on \(host) is already in use; stop the process using it or choose another port (--port, VIGIL_PORT)"
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

/// Rebuilds feature state and the duplicate index from the newest valid snapshot and the event log after it, then
/// marks the service ready.
///
/// With a shared state back end (`replays` false) the state is already in the store: the node replays nothing.
struct RecoveryService<Store: FeatureStore, Duplicates: DuplicateStore>: Service {
    let engine: ScoringEngine<Store, FileEventLog, Duplicates>
    let log: FileEventLog
    let replays: Bool
    /// The embedded state's snapshots; nil for a shared store.
    let snapshots: StateSnapshots?
    let state: ServerState
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        let started = ContinuousClock.now
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var count = 0
        var snapshot: UInt64?
        if replays {
            var start = log.firstSequence
            if let snapshots {
                let loaded = try await snapshots.load(logger: logger)
                (start, snapshot) = (loaded.replayFrom, loaded.snapshot)
            }
            if snapshot == nil && start > 0 {
                logger.warning(
                    "No usable snapshot, and retention has deleted the oldest log segments: the state misses the payments before them",
                    metadata: ["vigil.recovery.from": "\(start)"])
            }
            let (batches, taken) = Self.records(of: log, from: start)
            for try await batch in batches {
                taken()
                for (sequence, payload) in batch {
                    do {
                        // Today's payments count against the tenant's daily quota after a restart too (scored ones,
                        // as before duplicates were logged).
                        if let (tenant, receivedAt) = try await engine.replay(payload, nowMillis: now) {
                            state.usage.recordRecovered(tenant: tenant, atEpochSeconds: receivedAt.epochMillis.floorDivided(by: 1000))
                        }
                    } catch {
                        throw StartupError(description: "event log record \(sequence) is not an event this version reads: \(error)")
                    }
                    count += 1
                }
                // Let `/health` and `/ready` in between batches: there are only as many cooperative threads as cores.
                await Task.yield()
            }
        }
        state.markReady()
        metrics.setReady(true)
        logger.notice(
            "Recovery finished; ready",
            metadata: [
                "vigil.recovery.events": "\(count)", "vigil.recovery.duration": "\(ContinuousClock.now - started)",
                "vigil.recovery.snapshot": .string(snapshot.map { "\($0)" } ?? "none"),
            ]
        )
        if !replays { await restoreRecentAnswers(sinceMillis: now - Self.restoreWindowMillis) }
        try? await gracefulShutdown()
    }

    /// How far back a restarted node on a shared store records its logged answers again: twice a reservation's life.
    static var restoreWindowMillis: Int64 { 60_000 }

    /// Records again, in the shared duplicate store, the answers of this node's newest events (its log's last two
    /// segments, received within ``restoreWindowMillis``). A node killed after logging a payment but before recording
    /// its answer left only a reservation, which expires: this puts the answer in its place, so a retry on any node
    /// is a duplicate. It runs after the node is ready (a retry meanwhile still finds the reservation: 409), and a
    /// failure is logged, never fatal.
    func restoreRecentAnswers(sinceMillis since: Int64) async {
        let log = self.log
        do {
            let payloads = try await blocking {
                var payloads: [[UInt8]] = []
                try log.forEachInNewest(segments: 2) { _, payload in payloads.append(payload) }
                return payloads
            }
            var restored = 0
            for payload in payloads.reversed() {
                guard try await engine.restoreAnswer(payload, sinceMillis: since) else { break }
                restored += 1
            }
            logger.notice("Recorded the newest logged answers in the shared duplicate store", metadata: ["vigil.restore.answers": "\(restored)"])
        } catch {
            logger.error("Could not record the newest logged answers in the shared duplicate store", metadata: ["vigil.error": "\(error)"])
        }
    }
}

extension RecoveryService {
    /// The log's records from `start` on, in batches of 1,024. Reading blocks for as long as the log is long, so it runs on the blocking
    /// pool; at most four batches wait in memory, and the reader stops when the stream is dropped.
    /// - Returns: the batches, and what the reader calls on taking each one (it frees the batch's slot).
    static func records(
        of log: FileEventLog, from start: UInt64 = 0
    ) -> (batches: AsyncThrowingStream<[(UInt64, [UInt8])], any Error>, taken: @Sendable () -> Void) {
        let (stream, continuation) = AsyncThrowingStream<[(UInt64, [UInt8])], any Error>.makeStream()
        let slots = DispatchSemaphore(value: 4)
        let stopped = Atomic<Bool>(false)
        continuation.onTermination = { _ in
            stopped.store(true, ordering: .releasing)
            for _ in 0..<5 { slots.signal() }
        }
        Task {
            do {
                try await blocking {
                    var batch: [(UInt64, [UInt8])] = []
                    func hand() throws {
                        slots.wait()
                        if stopped.load(ordering: .acquiring) { throw CancellationError() }
                        continuation.yield(batch)
                        batch = []
                    }
                    try log.forEach(from: start) { sequence, payload in
                        batch.append((sequence, payload))
                        if batch.count == 1024 { try hand() }
                    }
                    if !batch.isEmpty { try hand() }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return (stream, { slots.signal() })
    }
}

/// Creates the `demo` tenant on a control plane's first start and writes its API key to `DATA/demo.key`. Another
/// node starting on the same (PostgreSQL) control plane at the same moment may create it first: then this node
/// goes on with theirs, and only that node's data directory holds the key.
func createDemoTenant(admin: Administration, dataDirectory: String, logger: Logger) throws {
    let key: String
    do {
        key = try admin.createTenant(name: "demo")
    } catch let error as TenantDirectory.Invalid {
        guard try admin.tenants.exists() else { throw error }
        return
    }
    try AtomicFile.write(Array((key + "\n").utf8), to: dataDirectory + "/demo.key", mode: 0o600)
    logger.notice("Created the demo tenant; its API key is in the data directory", metadata: ["vigil.file": "demo.key"])
}

/// Gives every tenant in the tenants document a data key it lacks, noting each in the log and the audit log.
func ensureDataKeys(admin: Administration, logger: Logger) throws {
    let created = try admin.keys.ensureDataKeys { try admin.tenants.read().map(\.name) }
    for tenant in created {
        try admin.record(action: "keys.create", target: tenant, details: ["reason": "tenant had no data key"])
        logger.notice("Created a data key for a tenant that had none", metadata: ["vigil.tenant": .string(tenant)])
    }
}

/// Picks up changes to the tenants (new tenants, keys, rules, plans) and the keys (rotation, erasure) without a
/// restart, by polling the control plane's stamps every second: a file's inode, size and time, or a PostgreSQL
/// row's version. A change made by hand, not through `vigil`, is recorded in the audit log. A control plane that
/// cannot be read (PostgreSQL down) keeps the node serving with what it has, and is tried again a second later.
struct ConfigurationReloader: Service {
    let admin: Administration
    let state: ServerState
    /// The engine's models, swapped whole when `models.json` changes.
    let models: ModelSlot
    /// Follows the global champion: its drift gauges are against the champion's training profile.
    var monitor: ServingMonitor? = nil
    /// The champion when none is deployed: `vigil serve --model`, else the bundled model.
    let fallbackModel: ModelBundle
    /// The models loaded at start, by version, so the first poll does not load them again.
    let loadedModels: [String: ModelBundle]
    let logger: Logger

    func run() async throws {
        let plane = admin.plane
        // The first poll reloads: a change made between the server's first read and this loop is not missed.
        var (seenTenants, seenKeys, seenModels) = (ControlDocumentStamp.unread, ControlDocumentStamp.unread, ControlDocumentStamp.unread)
        var loaded = loadedModels
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let (reloader, tenantsBefore, keysBefore, modelsBefore, loadedBefore) = (self, seenTenants, seenKeys, seenModels, loaded)
            do {
                (seenTenants, seenKeys, seenModels, loaded) = try await blocking {
                    let tenantsNow = try plane.stamp(.tenants)
                    if tenantsNow != tenantsBefore { reloader.reloadTenants() }
                    let keysNow = try plane.stamp(.keys)
                    if keysNow != keysBefore { reloader.reloadKeys() }
                    let modelsNow = try plane.stamp(.models)
                    let loadedNow = modelsNow != modelsBefore ? reloader.reloadModels(loaded: loadedBefore) : loadedBefore
                    return (tenantsNow, keysNow, modelsNow, loadedNow)
                }
            } catch {
                logger.error(
                    "Kept the current tenants, keys and models: the control plane cannot be read", metadata: ["vigil.error": "\(error)"])
            }
        }
    }

    /// Loads the set `models.json` describes and swaps it in whole; an invalid or unreadable model keeps the current
    /// set. A changed set is logged and audited (`model.reload`).
    /// - Returns: the models loaded, by version, for the next reload (only those the set uses).
    func reloadModels(loaded: [String: ModelBundle]) -> [String: ModelBundle] {
        var loaded = loaded
        let previous = models.current
        let next: ModelSet
        do {
            next = try admin.models.load(fallback: fallbackModel, loaded: &loaded)
        } catch {
            logger.error(
                "Kept the current models: the deployed models are invalid or cannot be read",
                metadata: ["vigil.error": "\(error)", "vigil.models": .string(previous.roles.joined(separator: ","))])
            return loaded
        }
        models.replace(next)
        if next.champion.version != previous.champion.version {
            monitor?.replace(profile: servingProfile(next.champion, logger: logger), modelVersion: next.champion.version)
        }
        let inUse = Set(next.roles.map { String($0.split(separator: "=").last ?? "") })
        loaded = loaded.filter { inUse.contains($0.key) }
        guard next.roles != previous.roles else { return loaded }
        let roles = next.roles.joined(separator: ",")
        logger.notice("Swapped the models", metadata: ["vigil.models": .string(roles), "vigil.models.previous": .string(previous.roles.joined(separator: ","))])
        do {
            try admin.record(action: "model.reload", target: nil, details: ["models": roles])
        } catch {
            logger.error("Could not record the model reload in the audit log", metadata: ["vigil.error": "\(error)"])
        }
        return loaded
    }

    func reloadTenants() {
        let previous = state.tenantTable
        let table: TenantTable
        do {
            table = try admin.tenants.load()
            try ensureDataKeys(admin: admin, logger: logger)
        } catch {
            logger.error("Kept the previous tenants: the new tenants are invalid or cannot be read", metadata: ["vigil.error": "\(error)"])
            return
        }
        state.replaceTenants(table)
        reloadKeys()
        let changes = TenantTable.changes(from: previous, to: table)
        logger.notice("Reloaded tenants", metadata: ["vigil.tenants.changed": .string(changes.joined(separator: ","))])
        if !changes.isEmpty {
            do {
                try admin.record(action: "tenants.reload", target: nil, details: ["changed": changes.joined(separator: ",")])
            } catch {
                logger.error("Could not record the tenant reload in the audit log", metadata: ["vigil.error": "\(error)"])
            }
        }
    }

    func reloadKeys() {
        do {
            state.replaceKeys(try admin.keys.open())
            logger.notice("Reloaded keys")
        } catch {
            logger.error("Kept the previous keys: the keys cannot be read or opened", metadata: ["vigil.error": "\(error)"])
        }
    }
}

/// The model set the control plane's `models.json` describes, with `fallback` as the champion when none is deployed,
/// and the models loaded by version. A deployed model that cannot be read or loaded leaves the fallback alone in the
/// set (logged): the node starts and scores, and the reloader tries again.
func loadDeployedModels(admin: Administration, fallback: ModelBundle, logger: Logger) async -> (ModelSet, [String: ModelBundle]) {
    do {
        return try await blocking {
            var loaded: [String: ModelBundle] = [:]
            return (try admin.models.load(fallback: fallback, loaded: &loaded), loaded)
        }
    } catch {
        logger.error("Scoring with the start-up model alone: the deployed models are invalid or cannot be read", metadata: ["vigil.error": "\(error)"])
        return (ModelSet(champion: fallback), [:])
    }
}

/// Runs blocking file work (a whole-log replay, reading and auditing configuration, each with its fsyncs) on NIO's
/// blocking thread pool: Swift's cooperative pool has one thread per core, and a blocked one stalls requests.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}
