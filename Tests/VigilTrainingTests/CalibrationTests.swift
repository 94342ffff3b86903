import Testing
import VigilTraining
import VigilTrees

@Suite struct CalibrationTests {
    /// Scores whose true probability is `p²`: an overconfident model.
    static func miscalibrated(rows: Int, seed: UInt64 = 11) -> (scores: [Double], labels: [Float]) {
        var generator = TestGenerator(seed: seed)
        var scores: [Double] = []
        var labels: [Float] = []
        for _ in 0..<rows {
            let p = generator.unit()
            scores.append(p)
            labels.append(generator.unit() < p * p ? 1 : 0)
        }
        return (scores, labels)
    }

    /// Margins uniform in [-8, 2] whose true fraud probability is `sigmoid(0.7 × margin - 1)`.
    static func logistic(rows: Int, seed: UInt64) -> (scores: [Double], labels: [Float]) {
        var generator = TestGenerator(seed: seed)
        var scores: [Double] = []
        var labels: [Float] = []
        for _ in 0..<rows {
            let margin = generator.unit() * 10 - 8
            scores.append(Logistic.sigmoid(margin))
            labels.append(generator.unit() < Logistic.sigmoid(0.7 * margin - 1) ? 1 : 0)
        }
        return (scores, labels)
    }

    /// Probabilities from 1e-6 to 1 - 1e-6, evenly spaced in margin.
    static let grid = stride(from: -13.8, through: 13.8, by: 0.001).map(Logistic.sigmoid)

    @Test func itFitsAKnownMiscalibration() throws {
        let (scores, labels) = Self.miscalibrated(rows: 20_000)
        let calibration = try Calibration.isotonic(probabilities: scores, labels: labels)
        for p in stride(from: 0.1, through: 0.9, by: 0.1) {
            #expect(abs(calibration.apply(p) - p * p) < 0.05, "p \(p) -> \(calibration.apply(p))")
        }
        let before = Metrics.logLoss(probabilities: scores, labels: labels)
        let after = Metrics.logLoss(probabilities: scores.map(calibration.apply), labels: labels)
        #expect(after < before)
    }

    /// On rows it was not fitted on, each tenth of the calibrated probabilities averages the positive rate it
    /// holds, to within three standard errors.
    @Test func isotonicOnPlentyOfDataIsCalibratedByDecile() throws {
        let (scores, labels) = Self.miscalibrated(rows: 20_000)
        let calibration = try Calibration.fit(probabilities: scores, labels: labels)
        #expect(calibration.method == .isotonic)
        let (heldOut, outcomes) = Self.miscalibrated(rows: 20_000, seed: 12)
        let calibrated = heldOut.map(calibration.apply)
        let order = calibrated.indices.sorted { calibrated[$0] < calibrated[$1] }
        for decile in 0..<10 {
            let rows = order[(decile * order.count / 10)..<((decile + 1) * order.count / 10)]
            let predicted = rows.map { calibrated[$0] }.reduce(0, +) / Double(rows.count)
            let rate = rows.map { Double(outcomes[$0]) }.reduce(0, +) / Double(rows.count)
            let standardError = (max(predicted * (1 - predicted), 1e-4) / Double(rows.count)).squareRoot()
            #expect(abs(predicted - rate) < 3 * standardError, "decile \(decile): predicted \(predicted), rate \(rate)")
        }
    }

    @Test func plattRecoversAKnownLogisticMap() throws {
        let (scores, labels) = Self.logistic(rows: 50_000, seed: 5)
        let calibration = try Calibration.platt(probabilities: scores, labels: labels)
        guard case .platt(let slope, let intercept) = calibration.form else {
            Issue.record("expected a Platt form, got \(calibration.form)")
            return
        }
        #expect(abs(slope - 0.7) < 0.05, "slope \(slope)")
        #expect(abs(intercept + 1) < 0.15, "intercept \(intercept)")
    }

    @Test(arguments: [1, 5, 49, 50, 500])
    func fitChoosesPlattBelowTheIsotonicMinimum(positives: Int) throws {
        let scores = (0..<5_000).map { Double($0 + 1) / 5_001 }
        // The positives are spread over the upper half, so isotonic blocks have rates strictly inside (0, 1).
        var labels = [Float](repeating: 0, count: scores.count)
        for index in 0..<positives {
            labels[2_500 + index * 2_500 / positives] = 1
        }
        let calibration = try Calibration.fit(probabilities: scores, labels: labels)
        #expect(calibration.method == (positives >= Calibration.isotonicMinimumPositives ? .isotonic : .platt))
    }

    @Test func bothMethodsAreStrictlyIncreasing() throws {
        let (scores, labels) = Self.miscalibrated(rows: 5_000)
        let thin = Self.logistic(rows: 5_000, seed: 3)
        var labelsWithFew = thin.labels
        for index in labelsWithFew.indices where labelsWithFew[index] == 1 && index % 40 != 0 {
            labelsWithFew[index] = 0
        }
        for calibration in [
            try Calibration.isotonic(probabilities: scores, labels: labels),
            try Calibration.platt(probabilities: scores, labels: labels),
            try Calibration.fit(probabilities: thin.scores, labels: labelsWithFew),
        ] {
            var previous = 0.0
            for p in Self.grid {
                let value = calibration.apply(p)
                #expect(value > previous && value < 1, "\(calibration.method) at \(p): \(value) after \(previous)")
                previous = value
            }
        }
    }

    /// Where the positive rate does not change with the margin (here 12% from margin -2 to 2), isotonic blocks would
    /// give a nearly flat stretch: every segment still rises at least `minimumSegmentSlope` of the Platt slope.
    @Test func isotonicSegmentsKeepAMinimumSlope() throws {
        var generator = TestGenerator(seed: 21)
        var scores: [Double] = []
        var labels: [Float] = []
        for _ in 0..<40_000 {
            let margin = generator.unit() * 12 - 8
            let rate = (-2...2).contains(margin) ? 0.12 : Logistic.sigmoid(margin)
            scores.append(Logistic.sigmoid(margin))
            labels.append(generator.unit() < rate ? 1 : 0)
        }
        let calibration = try Calibration.isotonic(probabilities: scores, labels: labels)
        guard case .isotonic(let margins, let logits, let slope) = calibration.form else {
            Issue.record("expected an isotonic form, got \(calibration.form)")
            return
        }
        for index in margins.indices.dropFirst() {
            let rise = (logits[index] - logits[index - 1]) / (margins[index] - margins[index - 1])
            #expect(rise >= Calibration.minimumSegmentSlope * slope * (1 - 1e-9), "segment \(index): \(rise), slope \(slope)")
        }
        let flat = stride(from: -1.5, through: 1.5, by: 0.5).map { Logistic.logit(calibration.apply(Logistic.sigmoid($0))) }
        #expect(flat.last! - flat.first! >= Calibration.minimumSegmentSlope * slope * 3 * (1 - 1e-9))
    }

    /// Blocks of rate 0 and 1 have no finite logit: the tails cover them, so the lowest and highest rows are still
    /// ranked, where the old form mapped them all to 0 and 1.
    @Test func poolAdjacentViolatorsAveragesViolationsInLogitSpace() throws {
        let calibration = try Calibration.isotonic(probabilities: [0.1, 0.2, 0.3, 0.4], labels: [0, 1, 0, 1])
        guard case .isotonic(let margins, let logits, let slope) = calibration.form else {
            Issue.record("expected an isotonic form, got \(calibration.form)")
            return
        }
        #expect(margins.count == 1 && abs(margins[0] - (Logistic.logit(0.2) + Logistic.logit(0.3)) / 2) < 1e-12)
        #expect(logits == [0])
        #expect(slope > 0)
        #expect(abs(calibration.apply(Logistic.sigmoid(margins[0])) - 0.5) < 1e-12)
        #expect(calibration.apply(0.05) > 0 && calibration.apply(0.05) < calibration.apply(0.1))
        #expect(calibration.apply(0.9) < 1 && calibration.apply(0.9) > calibration.apply(0.4))
    }

    @Test func theLegacyFormStillReadsAndMapsAsBefore() throws {
        let calibration = try Calibration(encoded: #"{"method":"isotonic","x":[0.1,0.25,0.4],"y":[0,0.5,1]}"#)
        #expect(calibration.form == .legacyIsotonic(inputs: [0.1, 0.25, 0.4], outputs: [0, 0.5, 1]))
        #expect(calibration.method == .isotonic)
        #expect(calibration.apply(0.05) == 0)
        #expect(abs(calibration.apply(0.175) - 0.25) < 1e-12)
        #expect(calibration.apply(0.9) == 1)
        #expect(calibration.encoded == #"{"method":"isotonic","x":[0.1,0.25,0.4],"y":[0.0,0.5,1.0]}"#)
    }

    @Test func itEncodesAndDecodes() throws {
        let (scores, labels) = Self.miscalibrated(rows: 2_000)
        let isotonic = try Calibration.isotonic(probabilities: scores, labels: labels)
        #expect(isotonic.encoded.hasPrefix(#"{"method":"isotonic","margins":["#))
        let platt = try Calibration.platt(probabilities: scores, labels: labels)
        #expect(platt.encoded.hasPrefix(#"{"method":"platt","slope":"#))
        for calibration in [isotonic, platt, try Calibration(.legacyIsotonic(inputs: [0.01, 0.5], outputs: [0.2, 0.9]))] {
            #expect(try Calibration(encoded: calibration.encoded) == calibration)
        }
        #expect(try Calibration(encoded: #" { "intercept" : -2.5, "method":"platt", "slope":1e0 } "#)
            == Calibration(.platt(slope: 1, intercept: -2.5)))
        #expect(try Calibration(encoded: #"{"slope":0.5,"logits":[-3,-1],"margins":[-4,-2],"method":"isotonic"}"#)
            == Calibration(.isotonic(margins: [-4, -2], logits: [-3, -1], slope: 0.5)))
    }

    @Test(arguments: [
        "", "{}", #"{"method":"beta","x":[0.5],"y":[0.5]}"#, #"{"method":"isotonic","x":[0.5,0.4],"y":[0.1,0.2]}"#,
        #"{"method":"isotonic","x":[0.5],"y":[1.5]}"#, #"{"method":"isotonic","x":[0.5],"y":[0.5]} x"#,
        #"{"method":"isotonic","x":[],"y":[]}"#, #"{"method":"isotonic","x":[0.1],"y":[0.5],"x":[0.2]}"#,
        #"{"method":"platt","slope":0,"intercept":1}"#, #"{"method":"platt","slope":-1,"intercept":1}"#,
        #"{"method":"platt","slope":1}"#, #"{"method":"platt","slope":1,"intercept":1,"x":[0.5]}"#,
        #"{"method":"platt","slope":[1],"intercept":1}"#,
        #"{"method":"isotonic","margins":[1,0],"logits":[0,1],"slope":1}"#,
        #"{"method":"isotonic","margins":[0,1],"logits":[1,1],"slope":1}"#,
        #"{"method":"isotonic","margins":[0],"logits":[1],"slope":0}"#,
        #"{"method":"isotonic","margins":[0],"logits":[1,2],"slope":1}"#,
        #"{"method":"isotonic","margins":[0],"logits":[1]}"#,
    ])
    func badTextIsAnError(text: String) {
        #expect(throws: TrainingError.self) { try Calibration(encoded: text) }
    }

    @Test func aModelRankingAgainstTheLabelsIsRefused() {
        let (scores, labels) = Self.logistic(rows: 5_000, seed: 9)
        let reversed = scores.map { 1 - $0 }
        #expect(throws: TrainingError.self) { try Calibration.fit(probabilities: reversed, labels: labels) }
        #expect(throws: TrainingError.self) { try Calibration.isotonic(probabilities: reversed, labels: labels) }
        #expect(throws: TrainingError.self) { try Calibration.platt(probabilities: reversed, labels: labels) }
    }

    @Test func oneClassIsAnError() {
        #expect(throws: TrainingError.self) { try Calibration.fit(probabilities: [0.1, 0.2], labels: [0, 0]) }
        #expect(throws: TrainingError.self) { try Calibration.fit(probabilities: [0.1, 0.2], labels: [1, 1]) }
    }
}
