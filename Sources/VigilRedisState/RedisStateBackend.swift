import Foundation
import NIOCore
import NIOSSL
public import VigilRedis
public import VigilServer

/// Builds a node's state back end on Valkey/Redis from `vigil serve`'s configuration (`state`, `statePrefix`,
/// `stateTimeoutMilliseconds`, `stateExpiryDays`, `duplicateRetentionHours`): feature state, the duplicate check and
/// usage plans on one client, whose every command is bounded by the state timeout.
public enum RedisStateBackend {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Connects (a wrong URL, password or an unreachable server fails here, with the password never shown).
    public static func connect(configuration: VigilConfiguration) async throws(Failure) -> StateBackend<RedisFeatureStore, RedisDuplicateStore> {
        let url: RedisURL
        do {
            url = try RedisURL(configuration.state)
        } catch {
            throw Failure(description: "state: \(error.message)")
        }
        let timeout = TimeAmount.milliseconds(Int64(configuration.stateTimeoutMilliseconds))
        var tls: TLSConfiguration?
        if let path = configuration.stateTLSCAPath {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw Failure(description: "stateTLSCAPath: cannot read \(path)")
            }
            var trusting = TLSConfiguration.makeClientConfiguration()
            trusting.trustRoots = .file(path)
            tls = trusting
        }
        let client: RedisClient
        do {
            client = try await RedisClient.connect(
                url: url,
                configuration: RedisConfiguration(
                    commandTimeout: timeout, connectTimeout: max(timeout, .seconds(1)), maxConnectionsPerNode: 4, tls: tls
                )
            )
        } catch {
            throw Failure(description: "state: cannot reach \(url) (\(error.code)): \(error.message)")
        }
        let keys = KeySpace(prefix: configuration.statePrefix)
        let usage: RedisUsageLimiter
        do {
            usage = try RedisUsageLimiter(client: client, keyPrefix: configuration.statePrefix)
        } catch {
            await client.close()
            throw Failure(description: "statePrefix: \(error)")
        }
        let features = RedisFeatureStore(client: client, keys: keys, idleExpiryDays: configuration.stateExpiryDays)
        let duplicates = RedisDuplicateStore(client: client, keys: keys, retentionSeconds: Int64(configuration.duplicateRetentionHours) * 3600)
        var backend = StateBackend(
            features: features, duplicates: duplicates,
            replaysEventLog: false, usage: usage, summary: url.description,
            check: {
                do {
                    let reply = try await client.send("PING")
                    return reply.string == "PONG" ? nil : "the state store answered PING with something else"
                } catch {
                    return "the state store does not answer" + ((error as? RedisError).map { " (\($0.code))" } ?? "")
                }
            }
        )
        backend.counters = { counters(features: features.statistics, duplicates: duplicates.statistics) }
        backend.reference = RedisReferenceStore(client: client, keys: keys)
        return backend
    }

    /// Connects as ``connect(configuration:)`` and adds the peer region's store (`peerState`): every recorded answer
    /// is written there too, within `peerWriteTimeoutMilliseconds`. The peer client connects on its first write, so a
    /// peer region that is down does not stop this node from starting; each failed write is counted as a miss.
    public static func connectWithPeer(
        configuration: VigilConfiguration
    ) async throws(Failure) -> StateBackend<RedisFeatureStore, PeerReplicatedDuplicates<RedisDuplicateStore, RedisDuplicateStore>> {
        guard let peerState = configuration.peerState else { throw Failure(description: "peerState: not set") }
        let url: RedisURL
        do {
            url = try RedisURL(peerState)
        } catch {
            throw Failure(description: "peerState: \(error.message)")
        }
        let local = try await connect(configuration: configuration)
        let timeout = TimeAmount.milliseconds(Int64(configuration.peerWriteTimeoutMilliseconds))
        // A rediss:// peer trusts the CAs the local store's certificate may chain to (stateTLSCAPath), or the system's.
        var tls: TLSConfiguration?
        if url.tls, let path = configuration.stateTLSCAPath {
            var trusting = TLSConfiguration.makeClientConfiguration()
            trusting.trustRoots = .file(path)
            tls = trusting
        }
        let client: RedisClient
        do {
            client = try RedisClient.connectingLazily(
                url: url,
                configuration: RedisConfiguration(commandTimeout: timeout, connectTimeout: timeout, maxConnectionsPerNode: 4, tls: tls)
            )
        } catch {
            throw Failure(description: "peerState: \(error.message)")
        }
        let link = RegionLink(configuration)
        let peer = RedisDuplicateStore(
            client: client, keys: KeySpace(prefix: configuration.statePrefix), retentionSeconds: Int64(configuration.duplicateRetentionHours) * 3600
        )
        var backend = StateBackend(
            features: local.features, duplicates: PeerReplicatedDuplicates(local: local.duplicates, peer: peer, link: link),
            replaysEventLog: false, usage: local.usage, summary: local.summary + ", peer region \(link.peer ?? "") at \(url)", check: local.check
        )
        backend.counters = local.counters
        backend.link = link
        backend.localDuplicates = local.duplicates
        backend.reference = local.reference
        return backend
    }

    /// The stores' counts as `/metrics` shows them.
    static func counters(features: RedisStateStatistics, duplicates: RedisStateStatistics) -> [StateStoreCounter] {
        [
            StateStoreCounter(
                name: "vigil_state_store_round_trips_total", help: "Requests to the shared state store (feature state and duplicate checks).",
                total: features.roundTrips + duplicates.roundTrips
            ),
            StateStoreCounter(
                name: "vigil_state_store_cas_retries_total",
                help: "Feature-state compare-and-set attempts repeated because another node changed the record in between.",
                total: features.retries
            ),
            StateStoreCounter(
                name: "vigil_state_store_contended_total", help: "Feature-state updates given up after the bound of attempts.",
                total: features.contended
            ),
            StateStoreCounter(
                name: "vigil_state_store_already_applied_total",
                help: "Feature-state updates skipped because the record had applied that payment already (its other bank, or a retry after a crash).",
                total: features.alreadyApplied
            ),
            StateStoreCounter(
                name: "vigil_state_store_failures_total", help: "Requests to the shared state store that failed or timed out.",
                total: features.failures + duplicates.failures
            ),
        ]
    }
}
