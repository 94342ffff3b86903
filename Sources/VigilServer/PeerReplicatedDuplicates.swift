public import VigilDomain
public import VigilEngine
public import VigilFeatures

/// The duplicate check of a node whose region has a peer: reservations stay in the local region's store, and every
/// recorded answer is written to the peer region's store as well (same key layout), so a retry sent to the peer
/// region after a failover is answered as a duplicate there (docs/regions.md).
///
/// The two writes run side by side. The peer's is bounded by its store's own timeout (`peerWriteTimeoutMilliseconds`
/// for the Redis adapter's peer client), so it never holds the answer longer than that; when it fails the local
/// write alone acknowledges and ``RegionLink`` counts the miss, which the stream reconciles later (``PeerFold``
/// records the peer's answers it does not hold). An answer of a tenant not kept in the peer region is not written
/// there.
public struct PeerReplicatedDuplicates<Local: DuplicateStore, Peer: DuplicateStore>: DuplicateStore {
    public let local: Local
    public let peer: Peer
    public let link: RegionLink

    public init(local: Local, peer: Peer, link: RegionLink) {
        self.local = local
        self.peer = peer
        self.link = link
    }

    public var retentionMillis: Int64 { local.retentionMillis }
    public var entryCount: Int? { local.entryCount }

    public func reserve(
        tenant: String, paymentId: String, fingerprint: UInt64, nowMillis: Int64
    ) async throws(StateStoreError) -> DuplicateIndex.Reservation {
        try await local.reserve(tenant: tenant, paymentId: paymentId, fingerprint: fingerprint, nowMillis: nowMillis)
    }

    public func record(
        tenant: String, paymentId: String, fingerprint: UInt64, response: ScoreResponse, atMillis: Int64
    ) async throws(StateStoreError) {
        guard link.allows(tenant: tenant, in: link.peer) else {
            link.peerWriteSkipped()
            try await local.record(tenant: tenant, paymentId: paymentId, fingerprint: fingerprint, response: response, atMillis: atMillis)
            return
        }
        let (peer, link) = (peer, link)
        async let copied: Void = {
            do {
                try await peer.record(tenant: tenant, paymentId: paymentId, fingerprint: fingerprint, response: response, atMillis: atMillis)
            } catch {
                link.peerWriteMissed()
            }
        }()
        do {
            try await local.record(tenant: tenant, paymentId: paymentId, fingerprint: fingerprint, response: response, atMillis: atMillis)
        } catch {
            await copied
            throw error
        }
        await copied
    }

    public func release(tenant: String, paymentId: String) async {
        await local.release(tenant: tenant, paymentId: paymentId)
    }
}
