import Testing
import VigilTraining

@Suite struct MetricsTests {
    @Test func aucCountsPairsAndHalfTies() {
        #expect(Metrics.rocAUC(scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1]) == 0.75)
        #expect(Metrics.rocAUC(scores: [0.5, 0.5], labels: [0, 1]) == 0.5)
        #expect(Metrics.rocAUC(scores: [0.1, 0.2], labels: [1, 1]).isNaN)
    }

    @Test func logLossOfKnownProbabilities() {
        let loss = Metrics.logLoss(probabilities: [0.5, 0.5], labels: [0, 1])
        #expect(abs(loss - 0.6931471805599453) < 1e-12)
        #expect(Metrics.logLoss(probabilities: [0, 1], labels: [1, 0]) < 35)
    }
}
