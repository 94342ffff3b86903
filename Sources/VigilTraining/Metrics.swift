import VigilTrees
/// The two measures training needs: ranking quality and log-loss.
public enum Metrics {
    /// The area under the ROC curve: the chance that a random positive scores above a random negative,
    /// ties counting half. NaN when either class is absent.
    public static func rocAUC(scores: [Double], labels: [Float]) -> Double {
        precondition(scores.count == labels.count, "one label per score")
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var positives = 0.0
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] {
                end += 1
            }
            // Tied scores share the mean of their ranks (1-based).
            let rank = Double(start + end + 2) / 2
            for index in order[start...end] where labels[index] > 0.5 {
                positives += 1
                rankSum += rank
            }
            start = end + 1
        }
        let negatives = Double(scores.count) - positives
        guard positives > 0, negatives > 0 else {
            return .nan
        }
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
    }

    /// The mean negative log-likelihood of the labels, with probabilities clipped to [1e-15, 1 - 1e-15].
    public static func logLoss(probabilities: [Double], labels: [Float]) -> Double {
        precondition(probabilities.count == labels.count, "one label per probability")
        guard !probabilities.isEmpty else {
            return .nan
        }
        var sum = 0.0
        for (p, label) in zip(probabilities, labels) {
            let clipped = min(max(p, 1e-15), 1 - 1e-15)
            sum -= Logistic.log(label > 0.5 ? clipped : 1 - clipped)
        }
        return sum / Double(probabilities.count)
    }
}
