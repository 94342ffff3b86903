import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilTraining

/// A one-feature model (request.amount_log10: fraud above 2.5, about 316) carrying `attributes`.
func amountModel(attributes: [String: String] = [:]) throws -> ModelBundle {
    let values: [Float] = [1, 1.5, 2, 2.2, 2.8, 3, 3.5, 4]
    let set = try TrainingSet(featureNames: ["request.amount_log10"], rows: 8, values: values, labels: values.map { $0 > 2.5 ? 1 : 0 })
    let (model, _) = try TrainedModel.train(set, parameters: TrainingParameters(maxDepth: 1, rounds: 5, earlyStoppingRounds: nil))
    return try ModelBundle(xgboostJSON: model.xgboostJSON(attributes: attributes))
}

struct ServingMonitorTests {
    /// Half the training payments below 316, half above; scores half 0–49, half 950–999.
    static let profile = TrainingProfile(
        rows: 2, score: .scores([0, 999]),
        features: [.init(name: "request.amount_log10", distribution: BinnedDistribution(edges: [2.5], proportions: [0.5, 0.5, 0]))]
    )

    func policy(review: Int, block: Int) throws -> TenantPolicy {
        TenantPolicy(name: "bank-a", reviewThreshold: review, blockThreshold: block, rules: try TenantPolicy.compileRules(""))
    }

    func report(_ id: String?, tenant: String = "bank-a") -> IntakeEvent {
        IntakeEvent(
            tenant: tenant, fileId: "f", row: 2, loadedAt: Instant(epochMillis: 0),
            record: .fraudReport(FraudReport(paymentId: id, uetr: nil, reportedAt: Instant(epochMillis: 0), fraudType: .other))
        )
    }

    @Test func countsDriftAlertsAndLabelsOfTheServedModel() async throws {
        let model = try amountModel()
        let monitor = ServingMonitor(profile: Self.profile, modelVersion: model.version, alertCapacity: 2)
        let engine = ScoringEngine(
            store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: model, duplicates: DuplicateIndex(), monitor: monitor
        )
        let policy = try policy(review: 0, block: 1000)
        var scores: [Int] = []
        for (index, amount) in ["100.00", "100.00", "100.00", "1000.00"].enumerated() {
            let outcome = await engine.score(
                payment("p\(index + 1)", from: 1, to: UInt64(10 + index), amount: amount, at: Int64(index)), tenant: policy,
                receivedAt: Instant(epochMillis: (1_795_000_000 + Int64(index)) * 1000), started: .now
            )
            guard case .scored(let response) = outcome else { Issue.record("not scored: \(outcome)"); return }
            scores.append(response.score)
        }
        var snapshot = monitor.snapshot
        #expect(snapshot.payments == 4)
        // Three of four below the edge against half: (0.75 − 0.5)·ln(1.5) + (0.25 − 0.5)·ln(0.5).
        #expect(snapshot.featurePSI.map(\.feature) == ["request.amount_log10"])
        #expect(abs(snapshot.featurePSI[0].psi - 0.274_653_072_167) < 1e-9)
        var counts = [Int](repeating: 0, count: Self.profile.score.binCount)
        for score in scores { counts[Self.profile.score.bin(Double(score))] += 1 }
        #expect(snapshot.scorePSI == PopulationStability.index(expected: Self.profile.score.proportions, counts: counts))

        // Every payment was alerted (review at 0); only the last two are remembered (capacity 2).
        try await engine.apply(report("p4"))
        try await engine.apply(report("p1"))
        try await engine.apply(report("p4"))
        snapshot = monitor.snapshot
        let quality = try #require(snapshot.tenants["bank-a"])
        #expect(quality == .init(alerts: 4, reports: 3, alertedReports: 1))
        #expect(quality.precision == 0.25)
        #expect(quality.recall == 1.0 / 3)
    }

    @Test func anotherModelsScoresAndAllowedPaymentsAreNotCounted() async throws {
        let model = try amountModel()
        let monitor = ServingMonitor(profile: Self.profile, modelVersion: "another-model")
        let engine = ScoringEngine(
            store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: model, duplicates: DuplicateIndex(), monitor: monitor
        )
        _ = await engine.score(
            payment("p1", from: 1, to: 2, at: 0), tenant: try policy(review: 1000, block: 1000),
            receivedAt: Instant(epochMillis: 1_795_000_000_000), started: .now
        )
        try await engine.apply(report("p1", tenant: "bank-b"))
        let snapshot = monitor.snapshot
        #expect(snapshot.payments == 0)
        #expect(snapshot.scorePSI == nil)
        #expect(snapshot.featurePSI.isEmpty)
        #expect(snapshot.tenants["bank-a"] == nil)
        #expect(snapshot.tenants["bank-b"] == .init(alerts: 0, reports: 1, alertedReports: 0))
        #expect(snapshot.tenants["bank-b"]?.precision == nil)
        #expect(snapshot.tenants["bank-b"]?.recall == 0)
    }

    @Test func aModelLoadsWithItsProfileOrWithout() throws {
        // The bundled model is trained by `vigil train`, which stores the profile.
        #expect(try ModelBundle.bundled().trainingProfile() != nil)
        #expect(try amountModel().trainingProfile() == nil)
        let profiled = try amountModel(attributes: [TrainingProfile.attributeName: Self.profile.encoded])
        #expect(try profiled.trainingProfile() == Self.profile)
        let damaged = try amountModel(attributes: [TrainingProfile.attributeName: "{}"])
        #expect(throws: TrainingProfile.FormatError.self) { try damaged.trainingProfile() }
    }

    @Test func loggedFeaturesScoreAgainAsTheEngineScoredThem() async throws {
        let log = InMemoryEventLog()
        let model = try ModelBundle.bundled()
        let engine = ScoringEngine(store: InMemoryFeatureStore(), log: log, model: model)
        let policy = try policy(review: 600, block: 900)
        for index in 0..<5 {
            _ = await engine.score(
                payment("p\(index)", from: 1, to: 2, amount: "\(index * 400 + 5).00", at: Int64(index * 60)), tenant: policy,
                receivedAt: Instant(epochMillis: (1_795_000_000 + Int64(index * 60)) * 1000), started: .now
            )
        }
        #expect(log.records.count == 5)
        for record in log.records {
            guard case .scored(let event) = try EventCoding.decodeRecord(record) else { Issue.record("not a scored event"); continue }
            #expect(model.assess(features: event.features.map { $0 ?? .nan }).score == event.response.score)
        }
    }
}
