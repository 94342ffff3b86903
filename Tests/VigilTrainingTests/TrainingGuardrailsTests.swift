import Testing
import VigilTraining

@Suite struct TrainingGuardrailsTests {
    @Test func enoughPositivesOnBothSidesPass() throws {
        try TrainingGuardrails.checkSplit(trainingRows: 800, trainingPositives: 20, validationRows: 200, validationPositives: 10)
    }

    @Test(arguments: [(19, 10), (20, 9), (0, 0), (41, 1), (5, 500)])
    func tooFewPositivesOnEitherSideAreRefused(training: Int, validation: Int) {
        do {
            try TrainingGuardrails.checkSplit(
                trainingRows: 8_000, trainingPositives: training, validationRows: 2_000, validationPositives: validation
            )
            Issue.record("\(training) training and \(validation) validation positives passed")
        } catch {
            #expect(error.code == .tooFewPositives)
            #expect(error.message.contains("the training period has \(training) in 8000 payments (at least 20 needed)"))
            #expect(error.message.contains("the validation period \(validation) in 2000 (at least 10 needed)"))
        }
    }

    @Test func constantPredictionsAreRefused() {
        for probabilities in [[0.25, 0.25, 0.25], [], [0.5]] {
            #expect(throws: TrainingError(
                code: .constantPredictions,
                message: "the trained model gives all \(probabilities.count) validation payments the same probability "
                    + "(\(probabilities.first.map { "\($0)" } ?? "none")), so it would score every payment alike"
            )) {
                try TrainingGuardrails.checkPredictions(probabilities)
            }
        }
    }

    @Test func varyingPredictionsPass() throws {
        try TrainingGuardrails.checkPredictions([0.25, 0.25, 0.250001])
    }
}
