import Foundation
public import VigilDomain
public import VigilEventLog
public import VigilFeatures
import VigilRules
import VigilTrees

/// What became of one scoring request.
public enum ScoreOutcome: Sendable, Equatable {
    /// Scored now and durably logged.
    case scored(ScoreResponse)
    /// Seen before within the retention window: the original answer, marked as a duplicate.
    case duplicate(ScoreResponse)
    /// The same payment id is being scored right now by another request.
    case inProgress
    /// The payment id was answered within the retention window for a different payment; nothing was scored.
    case reused
    /// The event log refused the record; nothing was acknowledged.
    case unavailable(String)
    /// The shared state store (duplicate check or feature state) failed or did not answer in time; nothing was
    /// acknowledged.
    case stateUnavailable(String)
}

/// Duplicate check → features → model → rules → decision → durable event, for one payment.
///
/// Generic over its stores so the per-payment path never calls through an existential.
public final class ScoringEngine<Store: FeatureStore, Log: EventLog, Duplicates: DuplicateStore>: Sendable {
    public let extractor: FeatureExtractor<Store>
    public let log: Log
    public let duplicates: Duplicates
    /// The champion, challenger and tenants' champions; a request reads the set once, a deploy replaces it whole.
    public let models: ModelSlot
    /// Where scored payments wait for the challenger, when the set has one (a worker drains it: the server's
    /// shadow-scoring service).
    public let shadows: ShadowQueue
    /// At most this many reasons are reported, largest first.
    public let maxReasons: Int
    /// Which time a payment's features are computed at, against its receive time; recovery applies the same bounds.
    public let bounds: CreatedAtBounds
    /// Where score ids come from.
    let random = RandomBytes()
    /// Whether a failed shared store degrades the answer (request-only features, `degraded: true`) instead of
    /// refusing the payment.
    public let degradesOnStateFailure: Bool
    /// The reference data the daily files load (reports, directory, account links, entitlements, load progress).
    /// One call per payment, so an existential is cheap next to it.
    public let reference: any ReferenceStore
    /// Counts served scores, features, alerts and labels for `/metrics` (drift, precision, recall); nil counts nothing.
    public let monitor: ServingMonitor?

    public init(
        store: Store, log: Log, model: ModelBundle, duplicates: Duplicates, maxReasons: Int = 5,
        bounds: CreatedAtBounds = .standard, degradesOnStateFailure: Bool = false, reference: any ReferenceStore = InMemoryReferenceStore(),
        monitor: ServingMonitor? = nil, shadows: ShadowQueue = ShadowQueue()
    ) {
        self.monitor = monitor
        self.shadows = shadows
        self.reference = reference
        self.degradesOnStateFailure = degradesOnStateFailure
        self.extractor = FeatureExtractor(store: store)
        self.log = log
        self.duplicates = duplicates
        self.models = ModelSlot(ModelSet(champion: model))
        self.maxReasons = maxReasons
        self.bounds = bounds
    }

    /// Scores one tokenised payment for a tenant.
    /// - Parameter started: when the request arrived, for `processingMicros`.
    public func score(
        _ payment: TokenizedPayment, tenant: TenantPolicy, receivedAt: Instant, started: ContinuousClock.Instant
    ) async -> ScoreOutcome {
        let fingerprint = DuplicateIndex.fingerprint(of: payment)
        let reservation: DuplicateIndex.Reservation
        do {
            reservation = try await duplicates.reserve(
                tenant: tenant.name, paymentId: payment.paymentId, fingerprint: fingerprint, nowMillis: receivedAt.epochMillis
            )
        } catch {
            guard degradesOnStateFailure else { return .stateUnavailable("the duplicate check failed: \(error)") }
            return await scoreDegraded(payment, tenant: tenant, receivedAt: receivedAt, started: started, reserved: false)
        }
        switch reservation {
        case .duplicate(var original):
            original.duplicate = true
            // Logged so that reporting counts duplicates. Awaited like a scored event's record (it shares its batch's
            // fsync), but the answer does not depend on it: the retry gets its original answer even when the log
            // refuses the record, and the report then counts one duplicate fewer (docs/event-log.md).
            let answered = DuplicateAnsweredEvent(
                tenant: tenant.name, paymentId: payment.paymentId, receivedAt: receivedAt, originalScoreId: original.scoreId
            )
            _ = try? await log.append(EventCoding.record(answered))
            return .duplicate(original)
        case .inProgress:
            return .inProgress
        case .reused:
            return .reused
        case .reserved:
            break
        }
        // One set for the whole request, whatever a deploy does meanwhile.
        let models = self.models.current
        var features: [Double] = []
        do {
            let facts = try await reference.facts(ReferenceQuery(tenant: tenant.name, payment: payment))
            try await extractor.observe(
                observed(payment, receivedAt: receivedAt), identity: payment.consortiumIdentity, facts: facts, into: &features
            )
        } catch {
            guard degradesOnStateFailure else {
                await duplicates.release(tenant: tenant.name, paymentId: payment.paymentId)
                return .stateUnavailable("the feature state failed: \(error)")
            }
            return await scoreDegraded(payment, tenant: tenant, receivedAt: receivedAt, started: started, reserved: true)
        }
        var response = evaluate(payment, features: features, tenant: tenant, model: models.champion(for: tenant.name))
        let elapsed = ContinuousClock.now - started
        response.processingMicros = Int(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)

        let event = ScoredPaymentEvent(tenant: tenant.name, receivedAt: receivedAt, request: payment, response: response, features: features)
        do {
            _ = try await log.append(EventCoding.record(event))
        } catch {
            await duplicates.release(tenant: tenant.name, paymentId: payment.paymentId)
            return .unavailable("the event log refused the record: \(error)")
        }
        monitor?.scored(tenant: tenant.name, features: features, response: response)
        do {
            try await duplicates.record(
                tenant: tenant.name, paymentId: payment.paymentId, fingerprint: fingerprint, response: response, atMillis: receivedAt.epochMillis
            )
        } catch {
            // Logged, so acknowledged: the answer stands. Until the answer is recorded a retry is told to wait (409),
            // never scored twice; it is recorded in the background, well within the reservation's life.
            let (duplicates, tenant) = (duplicates, tenant.name)
            Task { await Self.recordEventually(duplicates, tenant: tenant, fingerprint: fingerprint, response: response, at: receivedAt) }
        }
        if let challenger = models.challenger {
            shadows.submit(ShadowJob(
                tenant: tenant.name, paymentId: payment.paymentId, scoreId: response.scoreId, receivedAt: receivedAt, features: features,
                challenger: challenger
            ))
        }
        return .scored(response)
    }

    /// Scores a payment from its request alone, because the shared store failed: no duplicate check (a retry during
    /// the outage is scored again, degraded too), no state read or written. The answer says `degraded: true` and is
    /// logged like any other, so it is acknowledged.
    /// - Parameter reserved: whether the duplicate check had reserved the id before the feature state failed; its
    ///   answer is then recorded when the store takes it.
    func scoreDegraded(
        _ payment: TokenizedPayment, tenant: TenantPolicy, receivedAt: Instant, started: ContinuousClock.Instant, reserved: Bool
    ) async -> ScoreOutcome {
        let features = FeatureExtractor<Store>.requestOnly(payment)
        var response = evaluate(payment, features: features, tenant: tenant, model: models.current.champion(for: tenant.name))
        response.degraded = true
        let elapsed = ContinuousClock.now - started
        response.processingMicros = Int(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)
        let event = ScoredPaymentEvent(tenant: tenant.name, receivedAt: receivedAt, request: payment, response: response, features: features)
        do {
            _ = try await log.append(EventCoding.record(event))
        } catch {
            if reserved { await duplicates.release(tenant: tenant.name, paymentId: payment.paymentId) }
            return .unavailable("the event log refused the record: \(error)")
        }
        monitor?.scored(tenant: tenant.name, features: features, response: response)
        if reserved {
            let (duplicates, name, fingerprint) = (duplicates, tenant.name, DuplicateIndex.fingerprint(of: payment))
            Task { await Self.recordEventually(duplicates, tenant: name, fingerprint: fingerprint, response: response, at: receivedAt) }
        }
        return .scored(response)
    }

    /// Records an answer a shared store refused, trying again with doubling pauses (0.25 s up to 2 s) for about 20 s:
    /// less than a reservation lasts (30 s), so a retry never finds the reservation gone and the answer missing while
    /// this node runs. (A node killed meanwhile records it from its log when it starts again.)
    static func recordEventually(_ duplicates: Duplicates, tenant: String, fingerprint: UInt64, response: ScoreResponse, at: Instant) async {
        var pause = Duration.milliseconds(250)
        var waited = Duration.zero
        while waited < .seconds(20) {
            try? await Task.sleep(for: pause)
            waited += pause
            pause = min(pause * 2, .seconds(2))
            do {
                try await duplicates.record(
                    tenant: tenant, paymentId: response.paymentId, fingerprint: fingerprint, response: response, atMillis: at.epochMillis
                )
                return
            } catch {
                continue
            }
        }
    }

    /// The payment as the features see it: at ``CreatedAtBounds/featureTime(createdAt:receivedAt:)``. The event log
    /// keeps the payment as it was sent, with its receive time, so recovery arrives at the same time again.
    func observed(_ payment: TokenizedPayment, receivedAt: Instant) -> TokenizedPayment {
        let at = bounds.featureTime(createdAt: payment.createdAt, receivedAt: receivedAt)
        guard at != payment.createdAt else { return payment }
        var moved = payment
        moved.createdAt = at
        return moved
    }

    /// Model, reasons, rules and decision for a payment whose features are known. No state changes.
    /// - Parameter model: the model that answers for the tenant (``ModelSet/champion(for:)`` of the set the request read).
    public func evaluate(_ payment: TokenizedPayment, features: [Double], tenant: TenantPolicy, model: ModelBundle) -> ScoreResponse {
        assess(payment, features: features, tenant: tenant, model: model).response
    }

    /// `evaluate`, plus the calibrated probability behind the score (for offline evaluation).
    public func assess(
        _ payment: TokenizedPayment, features: [Double], tenant: TenantPolicy, model: ModelBundle
    ) -> (probability: Double, response: ScoreResponse) {
        let ensemble = model.ensemble
        let width = ensemble.featureCount
        var contributions = [Double](repeating: 0, count: width)
        let margin = withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { row in
            for (i, source) in model.inputs.enumerated() { row[i] = Float(features[source]) }
            let input = UnsafeBufferPointer(row)
            return contributions.withUnsafeMutableBufferPointer { ensemble.explainedMargin(input, into: $0).margin }
        }
        let probability = model.calibrated(1 / (1 + exp(-margin)))
        let score = Self.score(probability: probability)

        // A reason names something observed: a missing feature still moves the score (its default branch),
        // but "unusual hour" for an account with no history would mislead whoever reads the reasons.
        var ranked: [(feature: Feature, contribution: Double)] = []
        for (i, value) in contributions.enumerated() where value > 0 && !features[model.inputs[i]].isNaN {
            ranked.append((Feature(rawValue: model.inputs[i])!, value))
        }
        ranked.sort { $0.contribution > $1.contribution }
        let reasons = ranked.prefix(maxReasons).map {
            Reason(code: $0.feature.reasonCode, feature: $0.feature.name, contribution: ($0.contribution * 1e6).rounded() / 1e6)
        }

        var numeric = [Double(score), payment.amount.majorUnits]
        numeric.append(contentsOf: features)
        let text = [payment.amount.currency.code, payment.perspective.rawValue, payment.scheme, payment.channel ?? ""]
        var firings: [RuleFiring] = []
        var decision = tenant.decision(forScore: score)
        numeric.withUnsafeBufferPointer { numeric in
            text.withUnsafeBufferPointer { text in
                tenant.rules.evaluate(numeric: numeric, text: text) { index in
                    let rule = tenant.rules.rules[index]
                    let outcome = Decision(rule.outcome)
                    firings.append(RuleFiring(name: rule.name, outcome: outcome))
                    decision = max(decision, outcome)
                }
            }
        }
        return (probability, ScoreResponse(
            paymentId: payment.paymentId, scoreId: ScoreID.random(random), score: score, decision: decision,
            reasons: Array(reasons), rules: firings, duplicate: false, modelVersion: model.version, processingMicros: 0
        ))
    }

    /// ``ModelBundle/score(probability:)``: 0–999 on a log scale.
    public static func score(probability: Double) -> Int { ModelBundle.score(probability: probability) }

    /// Folds one logged event back into the feature state and the duplicate index (recovery), and returns whose
    /// payment it was and when it was received. Features move at the time live scoring used (``observed``), so an
    /// event logged with a far-future `createdAt` (accepted before `createdAt` was bounded) cannot hide an account's
    /// windows after a restart.
    /// A duplicate-answered record changes no state (its payment was folded in when it was scored): nil. An intake
    /// record or a label is applied (``apply(_:recordingProgress:)``, ``apply(_:)-(LabelEvent)``): nil.
    /// - Throws: ``EventDecodingError`` when the record is not an event; a shared store's ``StateStoreError``.
    @discardableResult
    public func replay(_ payload: [UInt8], nowMillis: Int64) async throws -> (tenant: String, receivedAt: Instant)? {
        let record = try EventCoding.decodeRecord(payload)
        if case .intake(let intake) = record {
            try await apply(intake)
            return nil
        }
        if case .label(let label) = record {
            try await apply(label)
            return nil
        }
        guard case .scored(let event) = record else { return nil }
        var features: [Double] = []
        let facts = try await reference.facts(ReferenceQuery(tenant: event.tenant, payment: event.request))
        try await extractor.observe(
            observed(event.request, receivedAt: event.receivedAt), identity: event.request.consortiumIdentity, facts: facts,
            into: &features
        )
        if event.receivedAt.epochMillis >= nowMillis - duplicates.retentionMillis {
            try await duplicates.record(
                tenant: event.tenant, paymentId: event.paymentId, fingerprint: DuplicateIndex.fingerprint(of: event.request),
                response: event.response, atMillis: event.receivedAt.epochMillis
            )
        }
        return (event.tenant, event.receivedAt)
    }
}

extension ScoringEngine {
    /// Applies one loaded daily-file record to the state, then records its row as loaded: a history payment folds into
    /// the feature state through the extractor (at its `createdAt`, under its consortium identity, so the same payment
    /// loaded again, or scored live by either bank moments before, counts once in the store's window); a fraud report,
    /// or a return or recall for fraud (`FRAD`), that names a creditor joins the consortium list; directory rows,
    /// account links and entitlements go to the reference store. The event log is the caller's (the intake sink
    /// appends, recovery and the peer fold read). Applying a record twice changes nothing beyond the history
    /// payment's window (the caller skips rows at or below ``ReferenceStore/loadedRow(fileId:)`` of its ``IntakeEvent/progressKey``).
    /// - Parameter recordingProgress: whether to record the row as loaded at once (recovery, the peer fold); the intake
    ///   sink records it itself once the record is durable in the log.
    public func apply(_ event: IntakeEvent, recordingProgress: Bool = true) async throws(StateStoreError) {
        switch event.record {
        case .history(let payment):
            let facts = try await reference.facts(ReferenceQuery(tenant: event.tenant, payment: payment))
            var features: [Double] = []
            try await extractor.observe(payment, identity: payment.consortiumIdentity, facts: facts, into: &features)
        default:
            try await event.applyReference(to: reference)
            monitor?.received(event.record, tenant: event.tenant)
        }
        if recordingProgress { try await reference.recordLoaded(fileId: event.progressKey, row: event.row) }
    }

    /// Applies a run-time label to the state: a fraud report, or a return or recall for fraud, that names a creditor
    /// joins the consortium list, as the same daily-file row would. The event log is the caller's (`LabelRecorder`
    /// appends, recovery and the peer fold read). Applying a label twice changes nothing (its report identity).
    public func apply(_ label: LabelEvent) async throws(StateStoreError) {
        try await label.applyReference(to: reference)
        monitor?.received(label.record.intakeRecord, tenant: label.tenant)
    }

    /// Records the answer of a logged event in the duplicate store again, if it was received at `since` or later:
    /// what a node on a shared store does at start for the newest events of its own log, so an answer it logged but
    /// had not recorded when it was killed is a duplicate for any node, not scored again once its reservation expires.
    /// A duplicate-answered record records nothing (its answer came from the store).
    /// - Returns: whether the event was recent enough to record.
    /// - Throws: ``EventDecodingError`` for a record that is not an event; a store's ``StateStoreError``.
    public func restoreAnswer(_ payload: [UInt8], sinceMillis since: Int64) async throws -> Bool {
        let record = try EventCoding.decodeRecord(payload)
        guard record.receivedAt.epochMillis >= since else { return false }
        guard case .scored(let event) = record else { return true }
        try await duplicates.record(
            tenant: event.tenant, paymentId: event.paymentId, fingerprint: DuplicateIndex.fingerprint(of: event.request),
            response: event.response, atMillis: event.receivedAt.epochMillis
        )
        return true
    }
}

extension ScoringEngine where Duplicates == DuplicateIndex {
    /// An engine with the in-process duplicate index.
    public convenience init(
        store: Store, log: Log, model: ModelBundle, maxReasons: Int = 5, bounds: CreatedAtBounds = .standard
    ) {
        self.init(store: store, log: log, model: model, duplicates: DuplicateIndex(), maxReasons: maxReasons, bounds: bounds)
    }
}

extension IntakeRecord {
    /// Applies the record to the reference store when it is reference data (a report or `FRAD` return naming a
    /// creditor, a directory row, an account link, entitlements); a history payment changes nothing here (it is the
    /// feature state's). The one place a loaded daily-file record (``IntakeEvent/applyReference(to:)``) and a run-time
    /// label (``LabelEvent/applyReference(to:)``) reach the reference store, so both count a report alike.
    /// - Parameters:
    ///   - tenant: whose record it is.
    ///   - arrivedAt: when Vigil got it (loaded the file, received the label): a report is known no earlier.
    public func applyReference(to reference: any ReferenceStore, tenant: String, arrivedAt: Instant) async throws(StateStoreError) {
        switch self {
        case .history:
            break
        case .fraudReport(let report):
            // A first-party fraud is the customer's own (a false claim, a payment disowned): its payee is no mule, and
            // listing it would mark a genuine business that thousands pay. It stays a label; the list is for payees.
            if report.fraudType != .firstParty, let creditor = report.creditorAccount {
                let id = InMemoryReferenceStore.reportIdentity(tenant: tenant, paymentId: report.paymentId, uetr: report.uetr, creditor: creditor)
                try await reference.addReport(creditor: creditor, report: id, reportedAt: report.reportedAt, knownAt: IntakeEvent.knownAt(report.reportedAt, arrivedAt))
            }
        case .status(let status):
            if status.isFraud, let creditor = status.creditorAccount {
                let id = InMemoryReferenceStore.reportIdentity(tenant: tenant, paymentId: status.paymentId, uetr: status.uetr, creditor: creditor)
                try await reference.addReport(creditor: creditor, report: id, reportedAt: status.at, knownAt: IntakeEvent.knownAt(status.at, arrivedAt))
            }
        case .directory(let entry):
            try await reference.upsert(entry, tenant: tenant)
        case .accountLink(let link):
            try await reference.link(link, tenant: tenant)
        case .entitlements(let entitlements):
            try await reference.replaceEntitlements(entitlements, tenant: tenant)
        }
    }
}

extension LabelEvent {
    /// Applies a fraud report, or a return or recall for fraud, that names a creditor to the consortium list, exactly
    /// as the same daily-file row would be (``IntakeRecord/applyReference(to:tenant:arrivedAt:)``).
    public func applyReference(to reference: any ReferenceStore) async throws(StateStoreError) {
        try await record.intakeRecord.applyReference(to: reference, tenant: tenant, arrivedAt: receivedAt)
    }
}

extension IntakeEvent {
    /// Applies the record to the reference store when it is reference data
    /// (``IntakeRecord/applyReference(to:tenant:arrivedAt:)``). What the engine does for these records, and what
    /// offline replay (`vigil features export --data-dir`) does to see the same reference data.
    public func applyReference(to reference: any ReferenceStore) async throws(StateStoreError) {
        try await record.applyReference(to: reference, tenant: tenant, arrivedAt: loadedAt)
    }

    /// When a report became known to Vigil: not before it was loaded, so an offline replay given the same reference
    /// data never sees a report the live service could not have seen (no leakage into training).
    static func knownAt(_ reported: Instant, _ loaded: Instant) -> Instant {
        reported.epochMillis >= loaded.epochMillis ? reported : loaded
    }
}
