@testable import VigilEvaluation

/// A scored payment with defaults for everything a test does not look at.
func example(
    _ score: Int, fraud: Bool, probability: Double? = nil, decision: String? = nil, type: String? = nil,
    perspective: String = "sending", amount: Double = 100, day: String = "2026-03-14", id: String = "",
    reasons: [String] = [], rules: [String] = []
) -> ScoredExample {
    ScoredExample(
        score: score, probability: probability ?? Double(score) / 1000,
        decision: decision ?? (score >= 600 ? "review" : "allow"), isFraud: fraud, fraudType: fraud ? type : nil,
        perspective: perspective, amount: amount, day: day, paymentId: id, reasons: reasons, rules: rules
    )
}

/// Frauds scored 900, 700, 700, 300 and genuine payments scored 700, 500, 300, 300, 100, 100: ties within and
/// across the classes.
let tiedExamples =
    [900, 700, 700, 300].map { example($0, fraud: true) }
    + [700, 500, 300, 300, 100, 100].map { example($0, fraud: false) }

/// 200 payments on 50 distinct scores with many ties, labelled by a fixed pattern; the expected values are
/// scikit-learn's (`roc_auc_score` 0.5780906036380489, `average_precision_score` 0.4442997765862211), reproduced with
/// numpy and checked against scipy's Mann–Whitney U.
let patternedExamples: [ScoredExample] = (0..<200).map { i in
    let score = ((i * 37) % 50) * 20
    return example(score, fraud: (i * 7) % 11 < 3 || (score > 800 && i % 3 == 0))
}

/// 1,000 genuine payments (one at 950, nine at 800, the rest at 100) and ten frauds (two at 990, three at 900,
/// three at 700, two at 50).
let thresholdExamples: [ScoredExample] =
    [example(950, fraud: false)] + Array(repeating: example(800, fraud: false), count: 9)
    + Array(repeating: example(100, fraud: false), count: 990)
    + [990, 990, 900, 900, 900, 700, 700, 700, 50, 50].map { example($0, fraud: true) }
