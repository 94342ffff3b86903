extension EvaluationReport {
    /// One line per metric saying exactly how it is computed, keyed like the JSON; the Markdown and the JSON both
    /// carry them so a number is never read without its definition.
    public static let definitions: [String: String] = [
        "fraudRate": "Frauds ÷ scored payments.",
        "rocAuc":
            "Area under the ROC curve (false-positive rate against recall as the score threshold falls), by the trapezoid rule over the distinct scores: the chance that a random fraud scores above a random genuine payment, a tie counting one half. 0.5 is chance, 1 is perfect.",
        "prAuc":
            "Average precision: Σ (Rₖ − Rₖ₋₁) · Pₖ over the distinct score thresholds from the highest, with R₀ = 0 (scikit-learn's average_precision_score, a step sum without interpolation). Chance level is the fraud rate.",
        "recallAtFpr":
            "For a false-positive-rate limit f: the highest recall over the thresholds t where flagging score ≥ t flags at most the share f of genuine payments; the highest such t among equal recalls.",
        "thresholds.recallAtFpr":
            "The score threshold t chosen for each limit (score ≥ t flags; one above the highest score flags nothing), with the false-positive rate, recall, precision and alerts it gives.",
        "valueDetectionRate":
            "Fraud value the configured decisions flagged (decision is review or block, thresholds and rules together) ÷ all fraud value, value being the sum of payment amounts: the money the bank would actually have stopped or looked at.",
        "valueDetectionRateAtFpr":
            "Fraud value with score ≥ the threshold chosen for that false-positive-rate limit ÷ all fraud value: what a pure score threshold at that limit would have caught.",
        "decisions":
            "What the configured decisions flagged: recall = flagged frauds ÷ frauds, false-positive rate = flagged genuine ÷ genuine, precision = flagged frauds ÷ flagged payments.",
        "recallByFraudType":
            "Per fraud type: frauds of that type the decisions flagged (review or block) ÷ frauds of that type; frauds without a type count as unspecified.",
        "recallByPerspective":
            "Per perspective (sending, receiving): frauds scored from that perspective the decisions flagged ÷ frauds scored from it.",
        "alertsPerDay":
            "Payments the decisions flagged (review or block) per UTC day; the mean is over the days with at least one scored payment.",
        "scoreBands": "Fraud and genuine payments per band of 100 score points (0–99 … 900–999).",
        "calibration":
            "Payments grouped by predicted probability in bins of width 0.1 ([0, 0.1), …, [0.9, 1]): mean predicted probability against the observed fraud rate; a calibrated model has them equal.",
        "calibrationByQuantile":
            "The same comparison over ten groups of (near) equal size by predicted probability, which resolves the low-probability region where most payments fall; payments with the same probability stay in one group, so a group can be larger and there can be fewer than ten.",
        "rules":
            "Per rule: hits = payments it fired on, fraud hits = frauds among them, precision = fraud hits ÷ hits, share of frauds = fraud hits ÷ all frauds. A rule can fire on a payment the score flags anyway.",
        "topFlagged":
            "The flagged payments (review or block) with the highest scores, with the engine's reason codes and the rules that fired: what the fraud team would look at first.",
        "missedFrauds":
            "Frauds the decisions allowed, largest amount first, with their score and the reason codes the engine gave.",
        "warnings":
            "Signs that the scores cannot be trusted: nearlyConstantScores (fewer than 10 distinct scores, or all within 50 points, over at least 100 payments) and calibrationFarOff (a calibration bin of at least 50 payments whose fraud rate differs from its mean prediction by a factor over 3, by at least 5 percentage points and by more than 3 standard errors).",
        "brierScore":
            "Mean of (predicted probability − outcome)², outcome 1 for fraud and 0 for genuine: lower is better; always predicting the fraud rate r scores r(1 − r).",
    ]
}
