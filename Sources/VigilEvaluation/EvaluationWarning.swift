import Foundation

/// A sign that the scores being evaluated cannot be trusted, in words a person can act on.
public struct EvaluationWarning: Sendable, Hashable {
    /// Stable key: ``nearlyConstantScores`` or ``calibrationFarOff``.
    public let code: String
    public let message: String

    public static let nearlyConstantScores = "nearlyConstantScores"
    public static let calibrationFarOff = "calibrationFarOff"

    /// Below this many payments neither check says anything: too few to tell a flat model from a small sample.
    static let minimumExamples = 100
    /// Scores are nearly constant with fewer distinct values than this, or a range narrower than ``minimumSpread``.
    static let minimumDistinctScores = 10
    static let minimumSpread = 50
    /// A calibration bin is far off when it holds at least ``minimumBinSize`` payments and its observed fraud rate
    /// differs from the mean prediction by a factor over ``maximumRatio``, by at least ``minimumDifference``, and by
    /// more than ``minimumStandardErrors`` binomial standard errors: large, material and not chance.
    static let minimumBinSize = 50
    static let maximumRatio = 3.0
    static let minimumDifference = 0.05
    static let minimumStandardErrors = 3.0

    /// The warnings for `examples`, whose calibration (deciles and quantiles) is `calibration`.
    static func check(examples: [ScoredExample], calibration: [CalibrationBin]) -> [EvaluationWarning] {
        guard examples.count >= minimumExamples else { return [] }
        var warnings: [EvaluationWarning] = []
        let scores = Set(examples.map(\.score))
        if let lowest = scores.min(), let highest = scores.max(),
            scores.count < minimumDistinctScores || highest - lowest < minimumSpread
        {
            warnings.append(
                EvaluationWarning(
                    code: nearlyConstantScores,
                    message: "the scores are nearly constant: \(Formatting.count(scores.count)) distinct "
                        + "score\(scores.count == 1 ? "" : "s") between \(lowest) and \(highest) over "
                        + "\(Formatting.count(examples.count)) payments, so the model cannot rank them. A model "
                        + "whose validation period held few or no reported frauds calibrates to a flat score: train "
                        + "it with an earlier --until, a longer --label-maturity or a larger --validation-fraction."
                )
            )
        }
        let worst = calibration.compactMap { bin -> (bin: CalibrationBin, difference: Double)? in
            guard bin.count >= minimumBinSize, let predicted = bin.meanPredicted, let observed = bin.observedFraudRate,
                predicted.isFinite
            else { return nil }
            let difference = observed - predicted
            let p = Swift.min(Swift.max(predicted, 1e-9), 1 - 1e-9)
            let standardError = (p * (1 - p) / Double(bin.count)).squareRoot()
            let ratio = predicted > 0 ? observed / predicted : .infinity
            guard abs(difference) >= minimumDifference, abs(difference) > minimumStandardErrors * standardError,
                ratio > maximumRatio || ratio < 1 / maximumRatio
            else { return nil }
            return (bin, difference)
        }
        .max { abs($0.difference) < abs($1.difference) }
        if let (bin, difference) = worst {
            let direction =
                difference > 0
                ? "the scores understate the risk. A model trained on recent payments whose fraud had not been "
                    + "reported yet learns that fraud looks genuine: train with --label-maturity (days of reports "
                    + "to wait for before --until)."
                : "the scores overstate the risk: the period evaluated may have less fraud than the one the model "
                    + "was calibrated on, or its fraud may not be reported yet."
            warnings.append(
                EvaluationWarning(
                    code: calibrationFarOff,
                    message: "the calibration is far off: \(Formatting.count(bin.count)) payments predicted "
                        + "\(Formatting.percent(bin.meanPredicted)) fraud on average (probabilities "
                        + "\(Formatting.probability(bin.lower))–\(Formatting.probability(bin.upper))) were fraud "
                        + "\(Formatting.percent(bin.observedFraudRate)) of the time; " + direction
                )
            )
        }
        return warnings
    }
}
