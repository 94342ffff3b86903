import Foundation
import Testing
@testable import VigilEvaluation

@Suite struct EvaluationReportTests {
    /// Five frauds and five genuine payments over four days, where rules flag one fraud below the review threshold
    /// and allow another above it.
    static let mixed: [ScoredExample] = [
        example(950, fraud: true, decision: "block", type: "app_scam", amount: 1000, day: "2026-03-14"),
        example(400, fraud: true, decision: "allow", type: "app_scam", amount: 3000, day: "2026-03-14"),
        example(300, fraud: true, decision: "review", type: "mule", perspective: "receiving", amount: 200, day: "2026-03-15"),
        example(650, fraud: true, decision: "allow", type: "account_takeover", amount: 800, day: "2026-03-15"),
        example(990, fraud: true, decision: "block", perspective: "receiving", amount: 1000, day: "2026-03-16"),
        example(700, fraud: false, decision: "review", amount: 50, day: "2026-03-14"),
        example(100, fraud: false, decision: "allow", amount: 20, day: "2026-03-14"),
        example(50, fraud: false, decision: "allow", perspective: "receiving", amount: 70, day: "2026-03-16"),
        example(920, fraud: false, decision: "block", perspective: "receiving", amount: 10, day: "2026-03-16"),
        example(10, fraud: false, decision: "allow", amount: 5, day: "2026-03-17"),
    ]

    private func close(_ value: Double?, _ expected: Double) -> Bool {
        guard let value else { return false }
        return abs(value - expected) < 1e-12
    }

    @Test func counts() {
        let report = EvaluationReport(examples: Self.mixed, modelVersion: "m", period: "p")
        #expect(report.examples == 10 && report.frauds == 5 && report.genuine == 5)
        #expect(report.fraudRate == 0.5)
        #expect(report.fraudValue == 6000)
        #expect(report.unavailable.isEmpty)
    }

    @Test func rankingMetricsHandleTies() {
        let report = EvaluationReport(examples: tiedExamples, modelVersion: "m", period: "p")
        #expect(self.close(report.rocAUC, 20.0 / 24.0))
        #expect(self.close(report.prAUC, 0.75))
    }

    /// Flagged fraud value (1,000 + 200 + 1,000) ÷ all fraud value (6,000); the allowed 650 fraud counts as missed
    /// and the flagged 300 one as caught, because the decision, not the score, decides.
    @Test func valueDetectionFollowsTheDecisions() {
        let report = EvaluationReport(examples: Self.mixed, modelVersion: "m", period: "p")
        #expect(self.close(report.valueDetectionRate, 2200.0 / 6000.0))
    }

    /// With five genuine payments, 1% allows no false positive: score ≥ 950 (the frauds at 990 and 950, worth 2,000).
    @Test func valueDetectionAtTheOnePercentThreshold() throws {
        let report = EvaluationReport(examples: Self.mixed, modelVersion: "m", period: "p")
        let point = try #require(report.operatingPoints.first { $0.limit.key == "0.01" })
        #expect(point.scoreThreshold == 950)
        #expect(point.recall == 0.4)
        #expect(point.falsePositiveRate == 0)
        #expect(point.precision == 1)
        #expect(self.close(point.valueDetectionRate, 2000.0 / 6000.0))
    }

    @Test func recallAtFalsePositiveRate() throws {
        let report = EvaluationReport(examples: thresholdExamples, modelVersion: "m", period: "p")
        #expect(report.recall(atFalsePositiveRate: "0.001") == 0.5)
        #expect(report.recall(atFalsePositiveRate: "0.01") == 0.8)
        let strict = try #require(report.operatingPoints.first)
        #expect(strict.scoreThreshold == 900 && strict.falsePositiveRate == 0.001 && strict.flagged == 6)
    }

    @Test func recallByFraudTypeCountsDecisions() {
        let report = EvaluationReport(examples: Self.mixed, modelVersion: "m", period: "p")
        let recalls = Dictionary(uniqueKeysWithValues: report.recallByFraudType.map { ($0.name, $0.recall) })
        #expect(recalls == ["account_takeover": 0, "app_scam": 0.5, "mule": 1, "unspecified": 1])
        let appScam = report.recallByFraudType.first { $0.name == "app_scam" }
        #expect(appScam?.fraudValue == 4000)
        #expect(appScam?.valueDetectionRate == 0.25)
    }

    @Test func recallByPerspective() {
        let report = EvaluationReport(examples: Self.mixed, modelVersion: "m", period: "p")
        let sending = report.recallByPerspective.first { $0.name == "sending" }
        let receiving = report.recallByPerspective.first { $0.name == "receiving" }
        #expect(self.close(sending?.recall, 1.0 / 3.0))
        #expect(receiving?.recall == 1)
        #expect(sending?.alerts == 2 && receiving?.alerts == 3)
    }

    @Test func perspectiveWithoutFraudIsUnavailable() {
        let examples = [example(900, fraud: true), example(100, fraud: false, perspective: "receiving")]
        let report = EvaluationReport(examples: examples, modelVersion: "m", period: "p")
        #expect(report.recallByPerspective.first { $0.name == "receiving" }?.recall == nil)
        #expect(report.unavailable["recallByPerspective.receiving"] != nil)
    }

    /// 2 alerts on the 14th, 1 on the 15th, 2 on the 16th, none on the 17th: mean 5/4, max 2 (the 14th, the earlier).
    @Test func alertsPerDay() {
        let alerts = EvaluationReport(examples: Self.mixed, modelVersion: "m", period: "p").alertsPerDay
        #expect(alerts.days == ["2026-03-14": 2, "2026-03-15": 1, "2026-03-16": 2, "2026-03-17": 0])
        #expect(alerts.mean == 1.25)
        #expect(alerts.max == 2)
        #expect(alerts.maxDay == "2026-03-14")
    }

    @Test func decisions() {
        let decisions = EvaluationReport(examples: Self.mixed, modelVersion: "m", period: "p").decisions
        #expect(decisions.counts == ["allow": 5, "review": 2, "block": 3])
        #expect(decisions.recall == 0.6 && decisions.falsePositiveRate == 0.4 && decisions.precision == 0.6)
    }

    @Test func scoreBands() {
        let report = EvaluationReport(examples: Self.mixed, modelVersion: "m", period: "p")
        #expect(report.scoreBands.map(\.name).first == "0-99")
        #expect(report.scoreBands.map(\.name).last == "900-999")
        #expect(report.scoreBands.map(\.fraud) == [0, 0, 0, 1, 1, 0, 1, 0, 0, 2])
        #expect(report.scoreBands.map(\.genuine) == [2, 1, 0, 0, 0, 0, 0, 1, 0, 1])
    }

    @Test func scoreBandEdgesAndOutOfRangeScores() {
        let scores = [0, 99, 100, 199, 999, -5, 1200]
        let report = EvaluationReport(
            examples: scores.map { example($0, fraud: false) }, modelVersion: "m", period: "p"
        )
        #expect(report.scoreBands.map(\.genuine) == [3, 2, 0, 0, 0, 0, 0, 0, 0, 2])
    }

    /// Bin 0: 0.05 (genuine) and 0.05 (fraud); bin 1: 0.1 and 0.15 (genuine); bin 9: 0.95 and 1.0 (fraud).
    /// Brier: (0.05² + 0.95² + 0.1² + 0.15² + 0.05² + 0²) / 6 = 0.94 / 6.
    @Test func calibrationDecilesAndBrierScore() {
        let examples = [
            example(50, fraud: false, probability: 0.05), example(50, fraud: true, probability: 0.05),
            example(100, fraud: false, probability: 0.1), example(150, fraud: false, probability: 0.15),
            example(950, fraud: true, probability: 0.95), example(999, fraud: true, probability: 1.0),
        ]
        let report = EvaluationReport(examples: examples, modelVersion: "m", period: "p")
        #expect(report.calibration.count == 10)
        #expect(report.calibration.map(\.count) == [2, 2, 0, 0, 0, 0, 0, 0, 0, 2])
        #expect(self.close(report.calibration[0].meanPredicted, 0.05))
        #expect(report.calibration[0].observedFraudRate == 0.5)
        #expect(self.close(report.calibration[1].meanPredicted, 0.125))
        #expect(report.calibration[1].observedFraudRate == 0)
        #expect(self.close(report.calibration[9].meanPredicted, 0.975))
        #expect(report.calibration[9].observedFraudRate == 1)
        #expect(report.calibration[4].meanPredicted == nil && report.calibration[4].observedFraudRate == nil)
        #expect(self.close(report.brierScore, 0.94 / 6))
    }

    /// Probabilities k/10 land in bin k, as the score's floor(p × 1000) lands in band k.
    @Test(arguments: 0...9)
    func decileBoundariesBelongToTheUpperBin(k: Int) {
        let report = EvaluationReport(
            examples: [example(0, fraud: false, probability: Double(k) / 10)], modelVersion: "m", period: "p"
        )
        #expect(report.calibration[k].count == 1)
    }

    @Test func quantileCalibrationSplitsByRank() {
        let examples = (0..<20).map { example($0 * 50, fraud: $0 >= 18) }
        let bins = EvaluationReport(examples: examples, modelVersion: "m", period: "p").calibrationByQuantile
        #expect(bins.map(\.count) == Array(repeating: 2, count: 10))
        #expect(bins.last?.observedFraudRate == 1)
        #expect(bins.last?.lower == 0.9 && bins.last?.upper == 0.95)
    }

    /// Half the payments share probability 0: they form one group, and the groups after it do not overlap it.
    @Test func quantileCalibrationKeepsTiesInOneGroup() throws {
        let examples = (0..<100).map { i in example(i < 50 ? 0 : i * 10, fraud: false, probability: i < 50 ? 0 : Double(i) * 1e-6) }
        let bins = EvaluationReport(examples: examples, modelVersion: "m", period: "p").calibrationByQuantile
        #expect(bins.first?.count == 50 && bins.first?.upper == 0)
        #expect(bins.map(\.count).reduce(0, +) == 100)
        #expect(bins.count == 6)
        for (lower, upper) in zip(bins, bins.dropFirst()) { #expect(lower.upper < upper.lower) }
        #expect(bins.last?.lowestScore == 900 && bins.last?.highestScore == 990)
    }

    /// Tiny probabilities, as most payments get, print as distinct ranges, not as 0.0000–0.0000.
    @Test func quantileCalibrationTableRowsAreDistinct() {
        let examples = (0..<1_000).map { i in example(i % 200, fraud: false, probability: Double(i + 1) * 3e-8) }
        let markdown = EvaluationReport(examples: examples, modelVersion: "m", period: "p").markdown()
        let table = markdown.components(separatedBy: "## Calibration")[1].components(separatedBy: "\n")
            .filter { $0.hasPrefix("| ") && $0.components(separatedBy: " | ")[0].contains("e-0") }
        #expect(table.count == 10)
        #expect(Set(table.map { $0.components(separatedBy: " | ")[0] }).count == 10)
        #expect(table.first?.hasPrefix("| 3e-08–3e-06 | ") == true)
    }

    @Test func emptyInputHasNoMetrics() {
        let report = EvaluationReport(examples: [], modelVersion: "m", period: "p")
        #expect(report.rocAUC == nil && report.prAUC == nil && report.fraudRate == nil && report.brierScore == nil)
        #expect(report.valueDetectionRate == nil && report.alertsPerDay.mean == nil)
        #expect(report.recall(atFalsePositiveRate: "0.01") == nil)
        #expect(report.unavailable["rocAuc"] == "no examples")
        #expect(report.unavailable["recallAtFpr.0.001"] == "no examples")
    }

    @Test func onlyGenuinePayments() {
        let report = EvaluationReport(
            examples: [example(100, fraud: false), example(700, fraud: false)], modelVersion: "m", period: "p"
        )
        #expect(report.rocAUC == nil && report.valueDetectionRate == nil)
        #expect(report.unavailable["rocAuc"]?.hasPrefix("no fraud examples") == true)
        #expect(report.unavailable["valueDetectionRate"] == "no fraud examples")
        #expect(report.decisions.falsePositiveRate == 0.5)
        #expect(report.alertsPerDay.mean == 1)
    }

    @Test func onlyFrauds() {
        let report = EvaluationReport(
            examples: [example(100, fraud: true), example(700, fraud: true)], modelVersion: "m", period: "p"
        )
        #expect(report.rocAUC == nil && report.prAUC == nil)
        #expect(report.unavailable["prAuc"]?.hasPrefix("no genuine examples") == true)
        #expect(report.valueDetectionRate == 0.5)
        #expect(report.decisions.falsePositiveRate == nil)
    }

    @Test func nonFiniteInputsDoNotLeakIntoMetrics() {
        let examples = [
            example(900, fraud: true, probability: .nan, amount: .infinity),
            example(100, fraud: false, probability: 0.1, amount: .nan),
        ]
        let report = EvaluationReport(examples: examples, modelVersion: "m", period: "p")
        #expect(self.close(report.brierScore, 0.01))
        #expect(report.valueDetectionRate == nil)
        #expect(report.unavailable["valueDetectionRate"] == "the frauds have no value")
    }
}
