import Testing
import VigilTraining

@Suite struct CalibrationTests {
    /// Scores whose true probability is `p²`: an overconfident model.
    static func miscalibrated(rows: Int) -> (scores: [Double], labels: [Float]) {
        var generator = TestGenerator(seed: 11)
        var scores: [Double] = []
        var labels: [Float] = []
        for _ in 0..<rows {
            let p = generator.unit()
            scores.append(p)
            labels.append(generator.unit() < p * p ? 1 : 0)
        }
        return (scores, labels)
    }

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

    @Test func itIsMonotone() throws {
        let (scores, labels) = Self.miscalibrated(rows: 5_000)
        let calibration = try Calibration.isotonic(probabilities: scores, labels: labels)
        var previous = -1.0
        for step in 0...10_000 {
            let value = calibration.apply(Double(step) / 10_000)
            #expect(value >= previous)
            #expect((0...1).contains(value))
            previous = value
        }
        for index in calibration.inputs.indices.dropFirst() {
            #expect(calibration.inputs[index] > calibration.inputs[index - 1])
            #expect(calibration.outputs[index] > calibration.outputs[index - 1])
        }
    }

    @Test func poolAdjacentViolatorsAveragesViolations() throws {
        let calibration = try Calibration.isotonic(probabilities: [0.1, 0.2, 0.3, 0.4], labels: [0, 1, 0, 1])
        #expect(calibration.inputs == [0.1, 0.25, 0.4])
        #expect(calibration.outputs == [0, 0.5, 1])
        #expect(calibration.apply(0.05) == 0)
        #expect(abs(calibration.apply(0.175) - 0.25) < 1e-12)
        #expect(calibration.apply(0.9) == 1)
    }

    @Test func itEncodesAndDecodes() throws {
        let (scores, labels) = Self.miscalibrated(rows: 2_000)
        let calibration = try Calibration.isotonic(probabilities: scores, labels: labels)
        let text = calibration.encoded
        #expect(text.hasPrefix(#"{"method":"isotonic","x":["#))
        #expect(try Calibration(encoded: text) == calibration)
        #expect(try Calibration(encoded: #" { "y" : [0.2, 0.9], "method":"isotonic", "x":[1e-2,0.5] } "#)
            == Calibration(inputs: [0.01, 0.5], outputs: [0.2, 0.9]))
    }

    @Test(arguments: [
        "", "{}", #"{"method":"platt","x":[0.5],"y":[0.5]}"#, #"{"method":"isotonic","x":[0.5,0.4],"y":[0.1,0.2]}"#,
        #"{"method":"isotonic","x":[0.5],"y":[1.5]}"#, #"{"method":"isotonic","x":[0.5],"y":[0.5]} x"#,
        #"{"method":"isotonic","x":[],"y":[]}"#, #"{"method":"isotonic","x":[0.1],"y":[0.5],"x":[0.2]}"#,
    ])
    func badTextIsAnError(text: String) {
        #expect(throws: TrainingError.self) { try Calibration(encoded: text) }
    }
}
