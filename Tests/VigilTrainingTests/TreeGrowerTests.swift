import Testing
import VigilTrees

@testable import VigilTraining

/// The trainer's internals that exist for speed: the column-major codes, the leaf ranges that replace a tree
/// walk, the fused gradient and loss pass, and thread counts that must not change a model.
@Suite struct TreeGrowerTests {
    /// ``SyntheticData`` with a fifth column (`x0 · x2`), so that the four-at-a-time histogram loop has a remainder.
    static func fiveFeatures(rows: Int, seed: UInt64) -> TrainingSet {
        let base = SyntheticData.make(rows: rows, seed: seed)
        var values: [Float] = []
        values.reserveCapacity(rows * 5)
        for row in 0..<rows {
            let four = SyntheticData.row(base, row)
            values += four + [four[0] * four[2]]
        }
        return try! TrainingSet(
            featureNames: SyntheticData.featureNames + ["x0x2"], rows: rows, values: values, labels: base.labels
        )
    }

    @Test func columnsHoldTheCodesColumnMajor() {
        let set = Self.fiveFeatures(rows: 3_000, seed: 5)
        let matrix = BinnedMatrix(set, maxBins: 32)
        #expect(matrix.columns.count == matrix.codes.count)
        for row in 0..<set.rows {
            for feature in 0..<set.featureCount {
                #expect(matrix.columns[feature * set.rows + row] == matrix.codes[row * set.featureCount + feature])
            }
        }
    }

    /// The margins move by the leaf ranges that partitioning leaves behind; they must be exactly the leaves a
    /// walk of the tree reaches.
    @Test(arguments: [[0, 1, 2, 3, 4], [0, 2, 4]])
    func leafRangesHoldTheRowsThatReachEachLeaf(features: [Int]) {
        let set = Self.fiveFeatures(rows: 40_000, seed: 6)
        let matrix = BinnedMatrix(set, maxBins: 64)
        let grower = TreeGrower(
            matrix: matrix, parameters: TrainingParameters(maxDepth: 5, minChildWeight: 0), parallel: Parallel()
        )
        let gradients: [SIMD2<Double>] = set.labels.map { SIMD2(0.5 - Double($0), 0.25) }
        var rows = (0..<Int32(set.rows)).map { $0 }
        var scratch = [Int32](repeating: 0, count: set.rows)
        let (tree, leaves) = matrix.codes.withUnsafeBufferPointer { codes in
            matrix.columns.withUnsafeBufferPointer { columns in
                gradients.withUnsafeBufferPointer { gradients in
                    rows.withUnsafeMutableBufferPointer { rows in
                        scratch.withUnsafeMutableBufferPointer { scratch in
                            grower.grow(
                                codes: codes.baseAddress!, columns: columns.baseAddress!,
                                gradients: gradients.baseAddress!, rows: rows, scratch: scratch,
                                features: features
                            )
                        }
                    }
                }
            }
        }
        #expect(tree.nodeCount > 7, "the tree should split several times")
        #expect(leaves.count == (0..<tree.nodeCount).filter { tree.leftChild[$0] < 0 }.count)
        var seen = [Bool](repeating: false, count: set.rows)
        matrix.codes.withUnsafeBufferPointer { codes in
            for leaf in leaves {
                for index in leaf.rows {
                    let row = Int(rows[index])
                    #expect(!seen[row])
                    seen[row] = true
                    #expect(tree.leaf(codes: codes.baseAddress! + row * set.featureCount) == leaf.node)
                }
            }
        }
        #expect(!seen.contains(false))
    }

    /// The histogram of rows, by the four-a-step loop over every feature (rows loaded in groups) or by the loop
    /// over a subset, is exactly the sum of their gradients per slot, in row order.
    @Test(arguments: [[0, 1, 2, 3, 4], [1, 3]])
    func histogramsAreThePerSlotSums(features: [Int]) {
        let set = Self.fiveFeatures(rows: 2_000, seed: 10)
        let matrix = BinnedMatrix(set, maxBins: 40)
        let grower = TreeGrower(matrix: matrix, parameters: TrainingParameters(), parallel: Parallel())
        let gradients: [SIMD2<Double>] = (0..<set.rows).map { SIMD2(Double($0 % 7) - 3.3, 0.1 + Double($0 % 5)) }
        // Every third row, from an offset that leaves a partial group of loads at either end.
        var rows = stride(from: 5, to: set.rows, by: 3).map { Int32($0) }
        let ranges = [3..<(rows.count - 2), 0..<1]
        let built = matrix.codes.withUnsafeBufferPointer { codes in
            gradients.withUnsafeBufferPointer { gradients in
                rows.withUnsafeMutableBufferPointer { rows in
                    grower.histograms(
                        for: ranges, codes: codes.baseAddress!, gradients: gradients.baseAddress!, rows: rows,
                        features: features
                    )
                }
            }
        }
        for (range, histogram) in zip(ranges, built) {
            var expected = [SIMD2<Double>](repeating: .zero, count: matrix.slotCount)
            for index in range {
                let row = Int(rows[index])
                for feature in features {
                    expected[matrix.slotOffset[feature] + Int(matrix.codes[row * set.featureCount + feature])] +=
                        gradients[row]
                }
            }
            #expect(histogram == expected)
        }
    }

    /// The larger child's histogram is its parent's minus the smaller child's: the same, up to rounding, as
    /// building it from its rows.
    @Test func theParentMinusOneChildIsTheOther() {
        let set = Self.fiveFeatures(rows: 5_000, seed: 11)
        let matrix = BinnedMatrix(set, maxBins: 64)
        let grower = TreeGrower(matrix: matrix, parameters: TrainingParameters(), parallel: Parallel())
        let gradients: [SIMD2<Double>] = set.labels.map { SIMD2(0.3 - Double($0), 0.21) }
        var rows = (0..<Int32(set.rows)).map { $0 }
        let middle = 1_700
        let built = matrix.codes.withUnsafeBufferPointer { codes in
            gradients.withUnsafeBufferPointer { gradients in
                rows.withUnsafeMutableBufferPointer { rows in
                    grower.histograms(
                        for: [0..<set.rows, 0..<middle, middle..<set.rows], codes: codes.baseAddress!,
                        gradients: gradients.baseAddress!, rows: rows, features: [0, 1, 2, 3, 4]
                    )
                }
            }
        }
        for slot in 0..<matrix.slotCount {
            let derived = built[0][slot] - built[1][slot]
            let difference = derived - built[2][slot]
            #expect(abs(difference.x) <= 1e-9 && abs(difference.y) <= 1e-9, "slot \(slot)")
        }
    }

    /// Blocks of rows, features and nodes run on however many threads there are; the model must not change.
    @Test func theModelDoesNotDependOnTheThreadCount() throws {
        // More rows than a histogram block and a gradient block, so that there are several of each.
        let set = Self.fiveFeatures(rows: 70_000, seed: 7)
        var parameters = TrainingParameters(maxDepth: 4, learningRate: 0.3, rounds: 4, earlyStoppingRounds: nil)
        let everyCore = try TrainedModel.train(set, parameters: parameters)
        parameters.threads = 1
        let one = try TrainedModel.train(set, parameters: parameters)
        parameters.threads = 3
        let three = try TrainedModel.train(set, parameters: parameters)
        #expect(one.0.xgboostJSON() == everyCore.0.xgboostJSON())
        #expect(three.0.xgboostJSON() == everyCore.0.xgboostJSON())
        #expect(one.1 == everyCore.1 && three.1 == everyCore.1)
    }

    @Test func zeroThreadsIsAnError() {
        #expect(throws: TrainingError.self) {
            try TrainedModel.train(Self.fiveFeatures(rows: 100, seed: 8), parameters: TrainingParameters(threads: 0))
        }
    }

    /// The gradient pass shares one exponential between the probability and the loss; the training log-loss it
    /// reports must be exactly the mean of `Logistic.softplus` at the model's margins.
    @Test func theReportedTrainingLossIsTheSoftplusOfTheMargins() throws {
        // Fewer rows than one gradient block, so the loss is summed in row order, as here.
        let set = Self.fiveFeatures(rows: 5_000, seed: 9)
        let (model, report) = try TrainedModel.train(
            set, parameters: TrainingParameters(maxDepth: 3, learningRate: 0.3, rounds: 6, earlyStoppingRounds: nil)
        )
        var sum = 0.0
        set.values.withUnsafeBufferPointer { values in
            for row in 0..<set.rows {
                let margin = model.margin(UnsafeBufferPointer(rebasing: values[(row * 5)..<(row * 5 + 5)]))
                sum += Logistic.softplus(set.labels[row] > 0.5 ? -margin : margin)
            }
        }
        #expect(report.trainLogLoss.last! == sum / Double(set.rows))
    }
}
