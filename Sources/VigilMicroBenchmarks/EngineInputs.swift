import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures

/// What the engine computes for each payment of the workload's first pass, replayed once untimed:
/// the inputs of the model, rules and event stages.
struct EngineInputs {
    /// Each payment's feature vector (`Feature.count` values, NaN = missing), from a replay in time order.
    let features: [[Double]]
    /// Each payment's response as the engine would answer it.
    let responses: [ScoreResponse]
    /// Each payment's event as the engine would log it.
    let events: [ScoredPaymentEvent]

    init(workload: Workload, model: ModelBundle, tenant: TenantPolicy) async throws {
        let engine = ScoringEngine(store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: model)
        var features: [[Double]] = []
        var responses: [ScoreResponse] = []
        var events: [ScoredPaymentEvent] = []
        var vector: [Double] = []
        for payment in workload.payments {
            try await engine.extractor.observe(payment, into: &vector)
            let response = engine.evaluate(payment, features: vector, tenant: tenant, model: model)
            features.append(vector)
            responses.append(response)
            events.append(ScoredPaymentEvent(tenant: tenant.name, receivedAt: payment.createdAt, request: payment, response: response, features: vector))
        }
        self.features = features
        self.responses = responses
        self.events = events
    }
}
