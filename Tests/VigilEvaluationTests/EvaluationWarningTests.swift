import Testing
@testable import VigilEvaluation

@Suite struct EvaluationWarningTests {
    private func codes(_ examples: [ScoredExample]) -> [String] {
        EvaluationReport(examples: examples, modelVersion: "m", period: "p").warnings.map(\.code)
    }

    /// What a model calibrated on a validation period without fraud serves: probability 0, score 0, for everyone.
    static let flat: [ScoredExample] = (0..<500).map { i in example(0, fraud: i % 50 == 0, probability: 0) }

    /// Scores spread over 0–990 with a fraud rate that rises with them, and probabilities equal to that rate.
    static let calibrated: [ScoredExample] = (0..<1_000).map { i in
        let score = (i % 100) * 10
        let rate = Double(score) / 1_000
        // Within each score, the first ⌊rate × 10⌋ of every ten payments are fraud: observed rate = rate (±0.1).
        return example(score, fraud: Double((i / 100) % 10) < rate * 10, probability: rate)
    }

    /// 1,000 genuine payments on 100 scores from 0 to 891, with probabilities under 1%.
    static let quiet: [ScoredExample] = (0..<1_000).map { i in
        example((i % 100) * 9, fraud: false, probability: Double(i % 100) * 0.0001)
    }

    @Test func flatScoresAreNearlyConstant() throws {
        let report = EvaluationReport(examples: Self.flat, modelVersion: "m", period: "p")
        let warning = try #require(report.warnings.first { $0.code == EvaluationWarning.nearlyConstantScores })
        #expect(warning.message.contains("1 distinct score between 0 and 0 over 500 payments"))
        #expect(warning.message.contains("--label-maturity"))
    }

    @Test func scoresWithinFiftyPointsAreNearlyConstant() {
        let narrow = (0..<200).map { i in example(600 + i % 40, fraud: i % 10 == 0, probability: 0.1) }
        #expect(self.codes(narrow).contains(EvaluationWarning.nearlyConstantScores))
    }

    @Test func spreadAndCalibratedScoresRaiseNothing() {
        #expect(self.codes(Self.calibrated).isEmpty)
    }

    @Test func fewPaymentsRaiseNothing() {
        #expect(self.codes(Array(Self.flat.prefix(99))).isEmpty)
    }

    /// The README recipe's model without --label-maturity: a predicted 12% was fraud 83% of the time.
    @Test func underConfidentCalibrationIsFarOff() throws {
        let examples = Self.quiet + (0..<135).map { i in example(770, fraud: i < 112, probability: 0.12) }
        let report = EvaluationReport(examples: examples, modelVersion: "m", period: "p")
        let warning = try #require(report.warnings.first { $0.code == EvaluationWarning.calibrationFarOff })
        #expect(warning.message.contains("135 payments predicted 12.0% fraud"))
        #expect(warning.message.contains("fraud 83.0% of the time"))
        #expect(warning.message.contains("understate") && warning.message.contains("--label-maturity"))
        #expect(!report.warnings.contains { $0.code == EvaluationWarning.nearlyConstantScores })
    }

    @Test func overConfidentCalibrationIsFarOff() throws {
        let examples = Self.quiet + (0..<100).map { i in example(980, fraud: i < 10, probability: 0.9) }
        let warning = try #require(
            EvaluationReport(examples: examples, modelVersion: "m", period: "p").warnings.first {
                $0.code == EvaluationWarning.calibrationFarOff
            }
        )
        #expect(warning.message.contains("overstate"))
    }

    /// One fraud among 16,514 payments predicted 3.5 in a million is a ratio of 17, but not material.
    @Test func immaterialDifferencesAreNotFarOff() {
        let bin = (0..<16_514).map { i in example(100, fraud: i == 0, probability: 3.5e-6) }
        #expect(!self.codes(Self.calibrated + bin).contains(EvaluationWarning.calibrationFarOff))
    }

    /// 40 payments predicted 55% without a fraud among them, alone in their decile bin: too few to judge.
    @Test func smallBinsAreNotFarOff() {
        let bin = (0..<40).map { _ in example(900, fraud: false, probability: 0.55) }
        let report = EvaluationReport(examples: Self.quiet + bin, modelVersion: "m", period: "p")
        #expect(report.calibration[5].count == 40)
        #expect(!report.warnings.contains { $0.message.contains("40 payments") })
    }

    @Test func warningsAreInTheMarkdownAndTheJSON() throws {
        let report = EvaluationReport(examples: Self.flat, modelVersion: "m", period: "p")
        #expect(report.markdown().contains("## Warnings\n\n- **nearlyConstantScores**: the scores are nearly constant"))
        let json = String(decoding: report.json(), as: UTF8.self)
        #expect(json.contains("\"code\" : \"nearlyConstantScores\""))
        let clean = EvaluationReport(examples: Self.calibrated, modelVersion: "m", period: "p")
        #expect(clean.markdown().contains("## Warnings\n\nNone. "))
        #expect(String(decoding: clean.json(), as: UTF8.self).contains("\"warnings\" : [\n\n  ]"))
    }
}
