import Foundation
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilReporting
import VigilTraining

/// A one-feature model (request.amount_log10): fraud above 2.5 (about 316), or below it when `inverted`.
func amountModel(inverted: Bool = false) throws -> ModelBundle {
    let values: [Float] = [1, 1.5, 2, 2.2, 2.8, 3, 3.5, 4]
    let labels: [Float] = values.map { ($0 > 2.5) != inverted ? 1 : 0 }
    let set = try TrainingSet(featureNames: ["request.amount_log10"], rows: 8, values: values, labels: labels)
    let (model, _) = try TrainedModel.train(set, parameters: TrainingParameters(maxDepth: 1, rounds: 5, earlyStoppingRounds: nil))
    return try ModelBundle(xgboostJSON: model.xgboostJSON())
}

/// A small log written by the engine (the bundled model): bank-a scores p0 before the period and p1–p4 in it (1,000,
/// 100, 100 and 100 GBP; review from score 0, so all alerted), bank-b scores b1 and b2 (50 and 5,000 GBP; review
/// from 1,000, so none alerted). Labels: bank-a reports p1 by id and p2 by a FRAD return naming its UETR; bank-b reports
/// b2, and p3, which is not its payment.
struct MonitoringLog {
    static let start = Instant(epochMillis: 1_795_000_000_000)
    static let end = Instant(epochMillis: 1_795_000_000_000 + 3_600_000)
    var events: [LoggedEvent] = []
    var scores: [String: Int] = [:]

    static func make() async throws -> MonitoringLog {
        let log = InMemoryEventLog()
        let engine = ScoringEngine(store: InMemoryFeatureStore(), log: log, model: try ModelBundle.bundled())
        let bankA = TenantPolicy(name: "bank-a", reviewThreshold: 0, blockThreshold: 1000, rules: try TenantPolicy.compileRules(""))
        let bankB = TenantPolicy(name: "bank-b", reviewThreshold: 1000, blockThreshold: 1000, rules: try TenantPolicy.compileRules(""))
        let payments: [(String, String, TenantPolicy, Int64)] = [
            ("p0", "100.00", bankA, -60), ("p1", "1000.00", bankA, 60), ("p2", "100.00", bankA, 120), ("p3", "100.00", bankA, 180),
            ("p4", "100.00", bankA, 240), ("b1", "50.00", bankB, 300), ("b2", "5000.00", bankB, 360),
        ]
        for (index, (id, amount, policy, offset)) in payments.enumerated() {
            let at = Instant(epochMillis: start.epochMillis + offset * 1000)
            var payment = TokenizedPayment(
                paymentId: id, perspective: .sending, type: .push, scheme: "FPS", channel: "web",
                amount: try Money.parse(amount, currency: Currency(code: "GBP")!).get(), createdAt: at,
                debtor: TokenizedParty(account: Token(a: UInt64(index + 1), b: 1, c: 0, d: 0), sealedAccount: SealedValue(keyVersion: 1, bytes: [1]), agent: "BANKGB01"),
                creditor: TokenizedParty(account: Token(a: UInt64(index + 100), b: 2, c: 0, d: 0), sealedAccount: SealedValue(keyVersion: 1, bytes: [1]))
            )
            payment.uetr = "0F4E2A1C-0000-4000-8000-00000000000\(index)"
            _ = await engine.score(payment, tenant: policy, receivedAt: at, started: .now)
        }
        var made = MonitoringLog()
        for record in log.records {
            let event = try EventCoding.decodeRecord(record)
            if case .scored(let scored) = event { made.scores[scored.paymentId] = scored.response.score }
            made.events.append(event)
        }
        #expect(made.scores.count == 7)
        func label(_ tenant: String, _ record: IntakeRecord) -> LoggedEvent {
            .intake(IntakeEvent(tenant: tenant, fileId: "f", row: 2, loadedAt: end, record: record))
        }
        let reported = Instant(epochMillis: 0)
        made.events.insert(label("bank-a", .fraudReport(FraudReport(paymentId: "p1", uetr: nil, reportedAt: reported, fraudType: .appScam))), at: 0)
        made.events += [
            label("bank-a", .status(PaymentStatusReport(
                paymentId: nil, uetr: "0f4e2a1c-0000-4000-8000-000000000002", status: .returned, reasonCode: "FRAD", at: reported
            ))),
            label("bank-a", .status(PaymentStatusReport(paymentId: "p3", uetr: nil, status: .returned, reasonCode: "AC04", at: reported))),
            label("bank-b", .fraudReport(FraudReport(paymentId: "b2", uetr: nil, reportedAt: reported, fraudType: .mule))),
            label("bank-b", .fraudReport(FraudReport(paymentId: "p3", uetr: nil, reportedAt: reported, fraudType: .mule))),
        ]
        return made
    }
}

struct ModelMonitorTests {
    /// Half the training payments below 316 GBP, half above; training scores half 0–49, half 950–999.
    static let profile = TrainingProfile(
        rows: 2, score: .scores([0, 999]),
        features: [.init(name: "request.amount_log10", distribution: BinnedDistribution(edges: [2.5], proportions: [0.5, 0.5, 0]))]
    )

    @Test func reportsDriftAndAlertQualityOfThePeriod() async throws {
        let log = try await MonitoringLog.make()
        let version = try ModelBundle.bundled().version
        var monitor = ModelMonitor(profile: Self.profile, modelVersion: version, period: LabelledPeriod(from: MonitoringLog.start, to: MonitoringLog.end))
        for event in log.events { monitor.add(event) }
        let report = monitor.report()
        #expect(report.payments == 6)
        #expect(report.scoredByModel == 6)
        #expect(report.versions == [version: 6])
        // Four of six below the edge (p2–p4, b1) against half: (4/6 − 1/2)·ln(4/3) + (2/6 − 1/2)·ln(2/3) ≈ 0.1155.
        let expected = (4.0 / 6 - 0.5) * Foundation.log(4.0 / 3) + (2.0 / 6 - 0.5) * Foundation.log(2.0 / 3)
        #expect(report.features.count == 1)
        #expect(abs(report.features[0].psi - expected) < 1e-12)
        #expect(report.features[0].band == .moderate)
        var counts = [Int](repeating: 0, count: Self.profile.score.binCount)
        for id in ["p1", "p2", "p3", "p4", "b1", "b2"] { counts[Self.profile.score.bin(Double(log.scores[id]!))] += 1 }
        #expect(report.scorePSI == PopulationStability.index(expected: Self.profile.score.proportions, counts: counts))

        // bank-a: four alerts, p1 (by id) and p2 (FRAD return by UETR) reported; the AC04 return is no label, and
        // bank-b's report of "p3" is not bank-a's. bank-b: nothing alerted, b2 reported.
        #expect(report.tenants == [
            .init(tenant: "bank-a", payments: 4, alerts: 4, reportedFrauds: 2, alertedFrauds: 2),
            .init(tenant: "bank-b", payments: 2, alerts: 0, reportedFrauds: 1, alertedFrauds: 0),
        ])
        #expect(report.tenants[0].precision == 0.5)
        #expect(report.tenants[0].recall == 1)
        #expect(report.tenants[1].precision == nil)
        #expect(report.tenants[1].recall == 0)

        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        let tenants = try #require(json["tenants"] as? [[String: Any]])
        #expect(tenants[0]["precision"] as? Double == 0.5)
        #expect(tenants[1]["precision"] is NSNull)
        #expect((json["features"] as? [[String: Any]])?.first?["band"] as? String == "moderate")
        let text = report.text()
        #expect(text.contains("request.amount_log10  0.1155  moderate"))
        #expect(text.contains("bank-a  4  4  2  2  0.5000  1.0000"))
    }

    @Test func onlyTheProfiledModelsScoresAreComparedAndAModelWithoutProfileHasNoDrift() async throws {
        let log = try await MonitoringLog.make()
        let period = LabelledPeriod(from: MonitoringLog.start, to: MonitoringLog.end)
        var other = ModelMonitor(profile: Self.profile, modelVersion: "xgb-other", period: period)
        var unprofiled = ModelMonitor(profile: nil, modelVersion: "xgb-other", period: period)
        for event in log.events {
            other.add(event)
            unprofiled.add(event)
        }
        #expect(other.report().scoredByModel == 0)
        #expect(other.report().scorePSI == nil)
        #expect(other.report().features.count == 1)
        #expect(unprofiled.report().features.isEmpty)
        #expect(unprofiled.report().text().contains("carries no training profile"))
        #expect(unprofiled.report().tenants.count == 2)
    }
}

struct ModelComparisonTests {
    @Test func comparesTwoModelsOnTheLabelledPaymentsOfThePeriod() async throws {
        let log = try await MonitoringLog.make()
        let champion = try amountModel()
        let challenger = try amountModel(inverted: true)
        var comparison = ModelComparison(
            candidates: [.init(role: "champion", model: champion), .init(role: "challenger", model: challenger)],
            thresholds: ["bank-a": .init(review: 0, block: 1000)], defaultThresholds: .init(review: 600, block: 900),
            period: LabelledPeriod(from: MonitoringLog.start, to: MonitoringLog.end)
        )
        for event in log.events { comparison.add(event) }
        let report = comparison.report()
        #expect(report.payments == 6)
        // Frauds: p1, p2 (bank-a's labels) and b2.
        #expect(report.frauds == 3)
        #expect(report.models.map(\.role) == ["champion", "challenger"])
        #expect(report.models.map(\.version) == [champion.version, challenger.version])

        // Every payment scored again from its logged features, as the engine would.
        var features: [String: [Double]] = [:]
        for case .scored(let event) in log.events { features[event.paymentId] = event.features.map { $0 ?? .nan } }
        let ids = ["p1", "p2", "p3", "p4", "b1", "b2"]
        let fraud: Set = ["p1", "p2", "b2"]
        for (index, model) in [champion, challenger].enumerated() {
            let scores = ids.map { model.assess(features: features[$0]!).score }
            // ROC-AUC by pairs: each fraud against each genuine payment, a tie counting half.
            var wins = 0.0
            for f in ids.indices where fraud.contains(ids[f]) {
                for g in ids.indices where !fraud.contains(ids[g]) { wins += scores[f] > scores[g] ? 1 : scores[f] == scores[g] ? 0.5 : 0 }
            }
            #expect(report.models[index].rocAUC == wins / 9)
            let bankA = report.models[index].tenants[0]
            #expect(bankA == .init(tenant: "bank-a", review: 0, block: 1000, payments: 4, alerts: 4, blocks: 0, alertedFrauds: 2))
            let bankB = report.models[index].tenants[1]
            let bScores = [scores[4], scores[5]]
            #expect(bankB.review == 600 && bankB.block == 900)
            #expect(bankB.alerts == bScores.filter { $0 >= 600 }.count)
            #expect(bankB.blocks == bScores.filter { $0 >= 900 }.count)
            #expect(bankB.alertedFrauds == (scores[5] >= 600 ? 1 : 0))
        }
        // The two models rank the amounts in opposite orders, so they cannot tie.
        #expect(report.models[0].rocAUC != report.models[1].rocAUC)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(json["frauds"] as? Int == 3)
        #expect(report.text().contains("champion \(champion.version): ROC-AUC"))
    }

    @Test func recallAtOnePercentFalsePositivesIsReadOffTheRanking() {
        var comparison = ModelComparison(
            candidates: [.init(role: "champion", model: try! ModelBundle.bundled())], thresholds: [:],
            defaultThresholds: .init(review: 600, block: 900), period: LabelledPeriod(from: MonitoringLog.start, to: MonitoringLog.end)
        )
        // 200 genuine payments score 0–199, frauds f1–f4 score 500, 150, 199 and 198: at 1% FPR (2 false positives)
        // the threshold 198 flags f1, f3, f4 and genuine 198 and 199: recall 3/4.
        for score in 0..<200 { comparison.add(tenant: "t", paymentId: "g\(score)", uetr: nil, scores: [score]) }
        for (index, score) in [500, 150, 199, 198].enumerated() {
            comparison.add(tenant: "t", paymentId: "f\(index + 1)", uetr: nil, scores: [score])
            comparison.label(tenant: "t", paymentId: "f\(index + 1)", uetr: nil)
        }
        let model = comparison.report().models[0]
        #expect(model.recallAtFPR == 0.75)
    }
}
