import Testing
import VigilTrees

@Suite struct TreeEnsembleContributionsTests {
    @Test func contributionsSumToTheMarginOnEveryParityRow() throws {
        let model = try Fixtures.model.get()
        var nonZeroRows = 0
        for row in try Fixtures.parityRows.get() {
            let (bias, contributions) = model.contributions(row.features)
            #expect(contributions.count == 50)
            #expect(contributions.allSatisfy { $0.isFinite }, "parity.csv line \(row.line)")
            let total = bias + contributions.reduce(0, +)
            #expect(abs(total - model.margin(row.features)) <= 1e-6, "parity.csv line \(row.line)")
            #expect(abs(total - row.margin) <= 2e-5 * max(1, abs(row.margin)), "parity.csv line \(row.line)")
            if contributions.contains(where: { $0 != 0 }) {
                nonZeroRows += 1
            }
        }
        #expect(nonZeroRows > 500)
    }

    @Test func explainedMarginIsExactlyTheMarginWithTheSameContributions() throws {
        let model = try Fixtures.model.get()
        var contributions = [Double](repeating: 0, count: 50)
        for row in try Fixtures.parityRows.get() {
            let explained = row.features.withUnsafeBufferPointer { features in
                contributions.withUnsafeMutableBufferPointer { model.explainedMargin(features, into: $0) }
            }
            let alone = model.contributions(row.features)
            #expect(explained.margin == model.margin(row.features), "parity.csv line \(row.line)")
            #expect(explained.bias == alone.bias)
            #expect(contributions == alone.contributions, "parity.csv line \(row.line)")
        }
    }

    @Test func biasIsTheSameForEveryRow() throws {
        let model = try Fixtures.model.get()
        let rows = try Fixtures.parityRows.get()
        let bias = model.contributions(rows[0].features).bias
        #expect(rows.allSatisfy { model.contributions($0.features).bias == bias })
        #expect(bias != model.baseMargin)
    }

    /// An all-missing row still follows default directions, so contributions are not all zero.
    @Test func allMissingRowStillGetsContributions() throws {
        let model = try Fixtures.model.get()
        let missing = [Float](repeating: .nan, count: 50)
        let (bias, contributions) = model.contributions(missing)
        #expect(contributions.contains { $0 != 0 })
        let total = bias + contributions.reduce(0, +)
        #expect(abs(total - model.margin(missing)) <= 1e-9)
    }

    /// Stump: leaf -1 with cover 1, leaf 2 with cover 3, so the root expects (-1 + 6) / 4 = 1.25.
    @Test(arguments: [(Float(0), -2.25), (Float(1), 0.75)])
    func stumpContributionIsTheChangeInExpectedValue(x: Float, contribution: Double) throws {
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: [.stump()]).with { $0.baseScore = "\"[2.5E-1]\"" }.bytes)
        let (bias, contributions) = model.contributions([x, 5])
        #expect(bias == model.baseMargin + 1.25)
        #expect(contributions == [contribution, 0])
    }

    /// twoLevel: node 1 expects (-2·1 + 0.5·3) / 4 = -0.125; the root expects (1.5·2 - 2·1 + 0.5·3) / 6 = 2.5 / 6.
    @Test func twoLevelContributionsFollowThePath() throws {
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: [.twoLevel()]).bytes)
        let root = 2.5 / 6
        let (bias, contributions) = model.contributions([0, 0])
        #expect(abs(bias - root) <= 1e-15)
        #expect(abs(contributions[0] - (-0.125 - root)) <= 1e-15)
        #expect(abs(contributions[1] - (-2 - -0.125)) <= 1e-15)

        let right = model.contributions([1, 0])
        #expect(abs(right.contributions[0] - (1.5 - root)) <= 1e-15)
        #expect(right.contributions[1] == 0)
    }

    /// Expected values weight leaves by their own cover, whatever sum_hessian an inner node claims.
    @Test func expectedValuesComeFromLeafCovers() throws {
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: [.twoLevel(rootCover: 100)]).bytes)
        #expect(abs(model.contributions([0, 0]).bias - 2.5 / 6) <= 1e-15)
    }

    @Test func contributionsOverwriteTheBufferAndLeaveExtraSlots() throws {
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: [.stump(), .stump()]).bytes)
        var buffer = [Double](repeating: 42, count: 3)
        let features: [Float] = [0, 0]
        let bias = features.withUnsafeBufferPointer { features in
            buffer.withUnsafeMutableBufferPointer { model.contributions(features, into: $0) }
        }
        #expect(bias == 2.5)
        #expect(buffer == [-4.5, 0, 42])
    }
}
