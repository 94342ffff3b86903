/// The checks `vigil train` makes before it trains and before it writes a model, so that it never writes a model
/// whose scores mean nothing.
public enum TrainingGuardrails {
    /// Fewer frauds than this in the training rows and the trees learn a handful of cases by heart: a depth-6
    /// tree can isolate each of them, and early stopping (on the validation rows) cannot tell which splits hold.
    public static let minimumTrainingPositives = 20
    /// Fewer frauds than this in the validation rows and early stopping and the calibration rest on a few
    /// payments: one fraud more or less moves the chosen tree count and the fitted slope, and the validation
    /// ROC-AUC that train reports is noise (with 10 frauds, an ROC-AUC of 0.9 has a standard error near 0.07 by
    /// Hanley and McNeil's formula; with 3 frauds, near 0.12).
    public static let minimumValidationPositives = 10

    /// Refuses a time split whose training or validation rows hold too few positives.
    /// - Throws: ``TrainingError/Code/tooFewPositives``, naming both sets' positives and rows and both minimums.
    public static func checkSplit(
        trainingRows: Int, trainingPositives: Int, validationRows: Int, validationPositives: Int
    ) throws(TrainingError) {
        guard trainingPositives < Self.minimumTrainingPositives || validationPositives < Self.minimumValidationPositives
        else {
            return
        }
        throw TrainingError(
            code: .tooFewPositives,
            message: "too few frauds to train on: the training period has \(trainingPositives) in \(trainingRows) "
                + "payments (at least \(Self.minimumTrainingPositives) needed) and the validation period "
                + "\(validationPositives) in \(validationRows) (at least \(Self.minimumValidationPositives) needed)"
        )
    }

    /// Refuses a model that gives every validation row the same probability: it would score every payment alike.
    /// - Throws: ``TrainingError/Code/constantPredictions`` when all `probabilities` are equal (or there are none).
    public static func checkPredictions(_ probabilities: [Double]) throws(TrainingError) {
        guard let first = probabilities.first, probabilities.contains(where: { $0 != first }) else {
            throw TrainingError(
                code: .constantPredictions,
                message: "the trained model gives all \(probabilities.count) validation payments the same probability "
                    + "(\(probabilities.first.map { "\($0)" } ?? "none")), so it would score every payment alike"
            )
        }
    }
}
