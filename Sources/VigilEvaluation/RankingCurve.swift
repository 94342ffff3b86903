/// Frauds and genuine payments flagged by "score ≥ t" at every distinct score t, from the highest score down.
///
/// Every threshold-based metric (ROC-AUC, average precision, recall at a false-positive rate) reads this one table, so
/// tied scores are always treated alike: a threshold takes or leaves all the examples with that score together. Public for
/// `vigil model compare` (VigilReporting), which measures models on the event log the same way.
public struct RankingCurve: Sendable {
    public struct Point: Sendable, Hashable {
        /// The score threshold: examples with `score >= threshold` are flagged.
        public var threshold: Int
        public var truePositives: Int
        public var falsePositives: Int
    }

    public let positives: Int
    public let negatives: Int
    /// One point per distinct score, highest threshold first; counts are cumulative.
    public let points: [Point]

    public init(scores: [Int], isPositive: [Bool]) {
        precondition(scores.count == isPositive.count)
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points: [Point] = []
        var truePositives = 0
        var falsePositives = 0
        var cursor = 0
        while cursor < order.count {
            let threshold = scores[order[cursor]]
            while cursor < order.count, scores[order[cursor]] == threshold {
                if isPositive[order[cursor]] { truePositives += 1 } else { falsePositives += 1 }
                cursor += 1
            }
            points.append(Point(threshold: threshold, truePositives: truePositives, falsePositives: falsePositives))
        }
        self.points = points
        self.positives = truePositives
        self.negatives = falsePositives
    }

    public var hasBothClasses: Bool { self.positives > 0 && self.negatives > 0 }

    /// Area under the ROC curve by the trapezoid rule over the distinct thresholds, which equals the probability that
    /// a random fraud outscores a random genuine payment, counting a tie as one half.
    public var rocAUC: Double? {
        guard self.hasBothClasses else { return nil }
        // Twice the area in units of one fraud × one genuine payment, in integers so ties add exactly one half each.
        var doubledArea = 0
        var previous = Point(threshold: 0, truePositives: 0, falsePositives: 0)
        for point in self.points {
            let newFalse = point.falsePositives - previous.falsePositives
            doubledArea += newFalse * (previous.truePositives + point.truePositives)
            previous = point
        }
        return Double(doubledArea) / (2 * Double(self.positives) * Double(self.negatives))
    }

    /// Average precision (scikit-learn's `average_precision_score`): Σ (Rₖ − Rₖ₋₁) · Pₖ over the distinct thresholds
    /// from the highest, with R₀ = 0; a step function, not the trapezoid, so it is never optimistic.
    public var averagePrecision: Double? {
        guard self.hasBothClasses else { return nil }
        var sum = 0.0
        var previousTruePositives = 0
        for point in self.points where point.truePositives > previousTruePositives {
            let precision = Double(point.truePositives) / Double(point.truePositives + point.falsePositives)
            sum += Double(point.truePositives - previousTruePositives) * precision
            previousTruePositives = point.truePositives
        }
        return sum / Double(self.positives)
    }

    /// The threshold with the highest recall among those whose false-positive rate is at most `maxFalsePositiveRate`;
    /// among equal recalls, the highest threshold (fewest false positives). "Flag nothing" (one above the highest
    /// score) is always a candidate, so the answer exists whenever both classes do.
    public func bestPoint(maxFalsePositiveRate: Double) -> Point? {
        guard self.hasBothClasses else { return nil }
        // A relative tolerance so that, say, 1 false positive in 1,000 counts as a rate of exactly 0.1%.
        let allowed = maxFalsePositiveRate * Double(self.negatives) * (1 + 1e-9)
        var best = Point(threshold: (self.points.first?.threshold ?? 0) + 1, truePositives: 0, falsePositives: 0)
        for point in self.points {
            guard Double(point.falsePositives) <= allowed else { break }
            if point.truePositives > best.truePositives { best = point }
        }
        return best
    }
}
