public import VigilDomain
public import VigilFeatures

extension ScoringEngine {
    /// Folds a payment the peer region scored into this region's state (docs/regions.md), without logging it: this
    /// region's log holds what this region acknowledged, so nothing folded goes back to the peer (no ping-pong).
    ///
    /// The payment goes through the same feature path as live scoring, at the feature time the peer used (its
    /// `createdAt`, bounded by its `receivedAt` as ``observed(_:receivedAt:)`` bounds it), under its consortium
    /// identity: a record that applied the payment already (a redelivered event, or the payment's other bank scored it
    /// here) writes nothing. The peer's answer is recorded in `answers` unless that store holds an answer or a
    /// reservation for the id already, which reconciles a write to this region the peer missed.
    /// - Parameters:
    ///   - answers: this region's own duplicate store (not one that writes to the peer too).
    ///   - nowMillis: now, for the retention: an answer older than it is not recorded.
    /// - Returns: whether the peer's answer was recorded.
    /// - Throws: the store's ``StateStoreError``; the fold may then be repeated whole.
    @discardableResult
    public func fold(
        _ event: ScoredPaymentEvent, answersInto answers: some DuplicateStore, nowMillis: Int64
    ) async throws(StateStoreError) -> Bool {
        var features: [Double] = []
        let facts = try await reference.facts(ReferenceQuery(tenant: event.tenant, payment: event.request))
        try await extractor.observe(
            observed(event.request, receivedAt: event.receivedAt), identity: event.request.consortiumIdentity, facts: facts,
            into: &features
        )
        guard event.receivedAt.epochMillis >= nowMillis - answers.retentionMillis else { return false }
        var response = event.response
        response.duplicate = false
        return try await answers.recordIfAbsent(
            tenant: event.tenant, paymentId: event.paymentId, fingerprint: DuplicateIndex.fingerprint(of: event.request),
            response: response, atMillis: event.receivedAt.epochMillis, nowMillis: nowMillis
        )
    }
}
