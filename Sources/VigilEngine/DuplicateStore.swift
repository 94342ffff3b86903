public import VigilDomain
public import VigilFeatures

/// Where the duplicate check keeps each tenant's payment ids: ``DuplicateIndex`` in process memory, or a shared store
/// (Valkey/Redis, in the `VigilRedisState` adapter) so that every node sees every other node's reservations.
///
/// A reservation is atomic: of two requests with one id, on any nodes, exactly one gets ``DuplicateIndex/Reservation/reserved``.
/// Calls fail only for a shared store (``StateStoreError``), and then nothing was reserved or recorded.
public protocol DuplicateStore: Sendable {
    /// How long an answered id is remembered.
    var retentionMillis: Int64 { get }
    /// Reserves `(tenant, paymentId)` unless it is already known.
    /// - Parameter fingerprint: ``DuplicateIndex/fingerprint(of:)`` of the payment asked about.
    func reserve(tenant: String, paymentId: String, fingerprint: UInt64, nowMillis: Int64) async throws(StateStoreError) -> DuplicateIndex.Reservation
    /// Records the answer for a reserved id (or, during recovery, for an id read from the log).
    func record(tenant: String, paymentId: String, fingerprint: UInt64, response: ScoreResponse, atMillis: Int64) async throws(StateStoreError)
    /// Releases a reservation whose scoring failed, so a retry can score it. Best effort: a shared store's
    /// reservation also expires by itself.
    func release(tenant: String, paymentId: String) async
    /// Ids remembered or being scored, where the store counts them itself; nil for a shared store.
    var entryCount: Int? { get }
}

extension DuplicateIndex: DuplicateStore {
    public var entryCount: Int? { count }
}

extension DuplicateStore {
    /// Records an answer for `(tenant, paymentId)` unless the store already holds one or a reservation: what folding
    /// a peer region's event does, so a payment this region answered itself keeps its own answer.
    /// - Returns: whether the answer was recorded.
    public func recordIfAbsent(
        tenant: String, paymentId: String, fingerprint: UInt64, response: ScoreResponse, atMillis: Int64, nowMillis: Int64
    ) async throws(StateStoreError) -> Bool {
        guard case .reserved = try await reserve(tenant: tenant, paymentId: paymentId, fingerprint: fingerprint, nowMillis: nowMillis) else {
            return false
        }
        do {
            try await record(tenant: tenant, paymentId: paymentId, fingerprint: fingerprint, response: response, atMillis: atMillis)
        } catch {
            await release(tenant: tenant, paymentId: paymentId)
            throw error
        }
        return true
    }
}
