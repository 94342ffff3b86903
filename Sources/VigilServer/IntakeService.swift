public import Logging
public import ServiceLifecycle
public import VigilFiles
import VigilProtection

/// Watches the daily-file inbox (`DATA/inbox/TENANT/`, where SFTP and `POST /v1/files` put files) and takes each
/// settled file through the intake pipeline, once recovery has rebuilt the state the files load into. Tenants and
/// their keys are read from the server's current tenant table on every pass, so a tenant created or a PGP key
/// registered while the server runs counts from the next pass. Stops the intake's back ends when the server stops.
public struct IntakeService: Service {
    let pipeline: IntakePipeline
    let state: ServerState
    let backends: IntakeBackends
    let logger: Logger

    public init(pipeline: IntakePipeline, state: ServerState, backends: IntakeBackends, logger: Logger) {
        self.pipeline = pipeline
        self.state = state
        self.backends = backends
        self.logger = logger
    }

    /// The tenants as the pipeline sees them: name, key ring scoped to the tenant, registered PGP key.
    static func tenants(_ snapshot: ServerState.Snapshot) -> [String: TenantIntake] {
        var tenants: [String: TenantIntake] = [:]
        for (name, tenant) in snapshot.tenants.byName {
            guard let keys = snapshot.keys.scoped(to: name) else { continue }
            tenants[name] = TenantIntake(name: name, keys: keys, signer: tenant.config.pgpKey)
        }
        return tenants
    }

    public func run() async throws {
        let state = self.state
        var watcher = InboxWatcher(pipeline: pipeline) { Self.tenants(state.current) }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if state.isRecovered {
                let records = await watcher.pass()
                for record in records {
                    logger.notice(
                        "Daily file processed",
                        metadata: [
                            "vigil.tenant": .string(record.tenant), "vigil.file.id": .string(record.id),
                            "vigil.file.status": .string(record.status.rawValue), "vigil.file.accepted": "\(record.accepted)",
                            "vigil.file.rejected": "\(record.rejected)",
                        ]
                    )
                }
            }
            let pause = watcher.pollInterval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
        await backends.shutdown()
    }
}
