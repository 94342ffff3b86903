import Testing
@testable import VigilEvaluation

@Suite struct RankingCurveTests {
    private func curve(_ examples: [ScoredExample]) -> RankingCurve {
        RankingCurve(scores: examples.map(\.score), isPositive: examples.map(\.isFraud))
    }

    @Test func groupsTiedScoresIntoOnePoint() {
        let points = self.curve(tiedExamples).points
        #expect(points.map(\.threshold) == [900, 700, 500, 300, 100])
        #expect(points.map(\.truePositives) == [1, 3, 3, 4, 4])
        #expect(points.map(\.falsePositives) == [0, 1, 2, 4, 6])
    }

    /// By pairs: the 900 fraud beats all 6 genuine; each 700 fraud beats 5 and ties 1 (5.5); the 300 fraud beats 2
    /// and ties 2 (3). (6 + 5.5 + 5.5 + 3) / (4 × 6) = 20/24.
    @Test func rocAUCCountsTiesAsHalf() throws {
        let auc = try #require(self.curve(tiedExamples).rocAUC)
        #expect(abs(auc - 20.0 / 24.0) < 1e-12)
    }

    /// Recall steps 0 → 1/4 at precision 1, → 3/4 at 3/4, → 1 at 4/8: 0.25 + 0.375 + 0.125.
    @Test func averagePrecisionIsTheStepSum() throws {
        let averagePrecision = try #require(self.curve(tiedExamples).averagePrecision)
        #expect(abs(averagePrecision - 0.75) < 1e-12)
    }

    @Test func matchesScikitLearnOnManyTies() throws {
        let curve = self.curve(patternedExamples)
        #expect(curve.positives == 63 && curve.negatives == 137)
        #expect(abs(try #require(curve.rocAUC) - 0.5780906036380489) < 1e-12)
        #expect(abs(try #require(curve.averagePrecision) - 0.4442997765862211) < 1e-12)
    }

    /// At 0.1% (one false positive in 1,000) the 900 threshold reaches 5 frauds; at 1% (ten) the 700 threshold
    /// reaches 8. The 950 threshold has the same recall as 990 but a false positive, so 990 is not passed over
    /// for it, and at 0.1% 900 beats 950.
    @Test func bestPointIsTheHighestRecallWithinTheLimit() throws {
        let curve = self.curve(thresholdExamples)
        let strict = try #require(curve.bestPoint(maxFalsePositiveRate: 0.001))
        #expect(strict == .init(threshold: 900, truePositives: 5, falsePositives: 1))
        let loose = try #require(curve.bestPoint(maxFalsePositiveRate: 0.01))
        #expect(loose == .init(threshold: 700, truePositives: 8, falsePositives: 10))
        let none = try #require(curve.bestPoint(maxFalsePositiveRate: 0))
        #expect(none == .init(threshold: 990, truePositives: 2, falsePositives: 0))
    }

    @Test func flagsNothingWhenTheTopScoreIsGenuine() throws {
        let curve = self.curve([example(800, fraud: false), example(700, fraud: true), example(100, fraud: false)])
        let point = try #require(curve.bestPoint(maxFalsePositiveRate: 0.01))
        #expect(point == .init(threshold: 801, truePositives: 0, falsePositives: 0))
    }

    @Test(arguments: [[ScoredExample](), [example(500, fraud: true)], [example(500, fraud: false)]])
    func needsBothClasses(examples: [ScoredExample]) {
        let curve = self.curve(examples)
        #expect(curve.rocAUC == nil)
        #expect(curve.averagePrecision == nil)
        #expect(curve.bestPoint(maxFalsePositiveRate: 0.01) == nil)
    }

    @Test func perfectAndInvertedRankings() {
        let perfect = self.curve([example(900, fraud: true), example(100, fraud: false)])
        #expect(perfect.rocAUC == 1)
        #expect(perfect.averagePrecision == 1)
        let inverted = self.curve([example(100, fraud: true), example(900, fraud: false)])
        #expect(inverted.rocAUC == 0)
        #expect(inverted.averagePrecision == 0.5)
    }
}
