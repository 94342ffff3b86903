import VigilTrees
/// A gradient-boosted tree model for binary classification trained by Vigil, ready to export as XGBoost JSON.
public struct TrainedModel: Sendable, Equatable {
    /// The training set's feature names, in column order.
    public let featureNames: [String]
    /// The prior probability (`base_score`): the training set's mean label, clamped into (0, 1) at float32.
    public let baseScore: Float
    /// The margin before any tree: `logit(base_score)` as a loader computes it from the written text.
    public let baseMargin: Double
    let trees: [Tree]

    init(featureNames: [String], baseScore: Float, trees: [Tree]) {
        self.featureNames = featureNames
        self.baseScore = baseScore
        self.baseMargin = Logistic.logit(Double(Self.text(baseScore))!)
        self.trees = trees
    }

    /// The number of trees kept.
    public var treeCount: Int {
        self.trees.count
    }

    /// The raw score: ``baseMargin`` plus, tree by tree, the float32 value of the leaf the row reaches.
    ///
    /// The sum runs in the same order and precision as `VigilTrees.TreeEnsemble.margin`, so the two agree
    /// exactly on the exported model.
    /// - Parameter row: ``featureNames``.count values; NaN is missing.
    public func margin(_ row: UnsafeBufferPointer<Float>) -> Double {
        precondition(row.count >= self.featureNames.count, "a row needs \(self.featureNames.count) features")
        var sum = self.baseMargin
        for tree in self.trees {
            sum += Double(tree.condition[tree.leaf(row.baseAddress!)])
        }
        return sum
    }

    /// The probability of the positive class, `sigmoid(margin(row))`.
    public func probability(_ row: UnsafeBufferPointer<Float>) -> Double {
        Logistic.sigmoid(self.margin(row))
    }

    /// The probability of every row of `set`, in row order.
    public func probabilities(_ set: TrainingSet) -> [Double] {
        precondition(set.featureCount == self.featureNames.count, "the set has another number of features")
        return set.values.withUnsafeBufferPointer { values in
            (0..<set.rows).map { row in
                self.probability(UnsafeBufferPointer(rebasing: values[(row * set.featureCount)...]))
            }
        }
    }

    /// Float32 text that reads back as the same float32, as the model file stores numbers.
    static func text(_ value: Float) -> String {
        value.description
    }
}

extension TrainedModel {
    /// Trains a model with binary log-loss by histogram-based gradient boosting (XGBoost's `hist` method).
    ///
    /// - Parameters:
    ///   - train: The rows to fit.
    ///   - validation: Rows to measure after every round, with the same features in the same order; with
    ///     ``TrainingParameters/earlyStoppingRounds`` training stops once the validation log-loss has not
    ///     improved for that many rounds, and the model keeps the trees of the best round.
    ///   - parameters: Depth, learning rate, sampling and the rest.
    ///   - progress: Called with one line per round.
    /// - Returns: The model and the log-loss curves.
    /// - Throws: ``TrainingError`` when a parameter is out of range, `train` has no rows, or the validation
    ///   set's features differ.
    /// - Performance: on one thread (``TrainingParameters/threads``), 300 trees of depth 6 on 317,362 rows × 44
    ///   features take at most 1.2× the CPU time of XGBoost `hist` for the same trees, release build
    ///   (`scripts/bench_train.py`, figures in BENCHMARKS.md).
    public static func train(
        _ train: TrainingSet,
        validation: TrainingSet? = nil,
        parameters: TrainingParameters = TrainingParameters(),
        progress: (String) -> Void = { _ in }
    ) throws(TrainingError) -> (TrainedModel, TrainingReport) {
        try parameters.validate()
        guard train.rows > 0 else {
            throw TrainingError(code: .invalidData, message: "the training set has no rows")
        }
        if let validation, validation.featureNames != train.featureNames {
            throw TrainingError(
                code: .featureMismatch,
                message: "the validation set's features \(validation.featureNames) differ from the training set's "
                    + "\(train.featureNames)"
            )
        }
        var booster = Booster(train: train, validation: validation, parameters: parameters)
        return booster.run(progress: progress)
    }
}

/// The state of one training run: margins, gradients and the trees so far.
private struct Booster {
    let train: TrainingSet
    let validation: TrainingSet?
    let parameters: TrainingParameters
    let matrix: BinnedMatrix
    let baseScore: Float
    let parallel: Parallel
    var generator: Xoshiro256

    static let blockRows = 16_384

    init(train: TrainingSet, validation: TrainingSet?, parameters: TrainingParameters) {
        self.train = train
        self.validation = validation
        self.parameters = parameters
        self.parallel = Parallel(threads: parameters.threads)
        self.matrix = BinnedMatrix(train, maxBins: parameters.maxBins, parallel: self.parallel)
        var positives = 0.0
        for label in train.labels {
            positives += Double(label)
        }
        let mean = Float(positives / Double(train.rows))
        self.baseScore = min(max(mean, 1e-6), 1 - 1e-6)
        self.generator = Xoshiro256(seed: parameters.seed)
    }

    mutating func run(progress: (String) -> Void) -> (TrainedModel, TrainingReport) {
        let rowCount = self.train.rows
        let baseMargin = TrainedModel(featureNames: [], baseScore: self.baseScore, trees: []).baseMargin
        var margins = [Double](repeating: baseMargin, count: rowCount)
        var validationMargins = [Double](repeating: baseMargin, count: self.validation?.rows ?? 0)
        var gradients = [SIMD2<Double>](repeating: .zero, count: rowCount)
        var rows = [Int32](repeating: 0, count: rowCount)
        var scratch = [Int32](repeating: 0, count: rowCount)
        let grower = TreeGrower(matrix: self.matrix, parameters: self.parameters, parallel: self.parallel)
        self.computeGradients(margins: margins, into: &gradients)

        var trees: [Tree] = []
        var trainLoss: [Double] = []
        var validationLoss: [Double] = []
        var best = 0
        for round in 0..<self.parameters.rounds {
            let features = self.sampleFeatures()
            let sampled = self.sampleRows(into: &rows)
            let (tree, leaves) = self.matrix.codes.withUnsafeBufferPointer { codes in
                self.matrix.columns.withUnsafeBufferPointer { columns in
                    gradients.withUnsafeBufferPointer { gradients in
                        rows.withUnsafeMutableBufferPointer { rows in
                            scratch.withUnsafeMutableBufferPointer { scratch in
                                grower.grow(
                                    codes: codes.baseAddress!,
                                    columns: columns.baseAddress!,
                                    gradients: gradients.baseAddress!,
                                    rows: UnsafeMutableBufferPointer(rebasing: rows[..<sampled]),
                                    scratch: scratch,
                                    features: features
                                )
                            }
                        }
                    }
                }
            }
            trees.append(tree)
            if sampled == rowCount {
                Self.addLeafValues(of: tree, leaves: leaves, rows: rows, to: &margins)
            } else {
                self.addTree(tree, to: &margins)
            }
            trainLoss.append(self.computeGradients(margins: margins, into: &gradients))
            var line = "round \(round + 1): train log-loss \(Self.format(trainLoss.last!))"
            if let validation = self.validation {
                let loss = self.update(&validationMargins, of: validation, tree: tree)
                validationLoss.append(loss)
                line += ", validation log-loss \(Self.format(loss))"
                progress(line)
                if let patience = self.parameters.earlyStoppingRounds {
                    if loss < validationLoss[best] {
                        best = round
                    } else if round - best >= patience {
                        progress("stopping: no improvement for \(patience) rounds; keeping round \(best + 1)")
                        break
                    }
                    continue
                }
            } else {
                progress(line)
            }
            best = round
        }
        let model = TrainedModel(
            featureNames: self.train.featureNames,
            baseScore: self.baseScore,
            trees: Array(trees[...best])
        )
        let report = TrainingReport(
            rounds: trees.count,
            bestIteration: best,
            trainLogLoss: trainLoss,
            validationLogLoss: validationLoss
        )
        return (model, report)
    }

    /// The features this tree may use, ascending: all, or a fresh random `colsampleByTree` share of them.
    private mutating func sampleFeatures() -> [Int] {
        let count = self.train.featureCount
        guard self.parameters.colsampleByTree < 1 else {
            return Array(0..<count)
        }
        let keep = max(1, Int((self.parameters.colsampleByTree * Double(count)).rounded(.down)))
        var features = Array(0..<count)
        for index in 0..<keep {
            let other = index + Int(self.generator.next() % UInt64(count - index))
            features.swapAt(index, other)
        }
        return features[..<keep].sorted()
    }

    /// Fills the front of `rows` with this tree's rows, ascending (each kept with probability `subsample`),
    /// and returns how many.
    private mutating func sampleRows(into rows: inout [Int32]) -> Int {
        var count = 0
        let rate = self.parameters.subsample
        for row in 0..<self.train.rows where rate >= 1 || self.generator.nextUnit() < rate {
            rows[count] = Int32(row)
            count += 1
        }
        return count
    }

    /// Sets every row's gradient and hessian of the log-loss at its margin, and returns the mean log-loss.
    ///
    /// One `e^-|margin|` serves both the probability (as `Logistic.sigmoid` computes it) and the row's loss
    /// (as `Logistic.softplus` does), so the values are those of the two functions, at one exponential a row.
    @discardableResult
    private func computeGradients(margins: [Double], into gradients: inout [SIMD2<Double>]) -> Double {
        let blocks = (margins.count + Self.blockRows - 1) / Self.blockRows
        var losses = [Double](repeating: 0, count: blocks)
        margins.withUnsafeBufferPointer { margins in
            self.train.labels.withUnsafeBufferPointer { labels in
                gradients.withUnsafeMutableBufferPointer { gradients in
                    losses.withUnsafeMutableBufferPointer { losses in
                        let (gradients, losses) = (gradients, losses)
                        self.parallel.forEachBlock(margins.count, blockSize: Self.blockRows) { block, rows in
                            var loss = 0.0
                            for row in rows {
                                let margin = margins[row]
                                let power = Logistic.exp(-abs(margin))
                                let p = margin >= 0 ? 1 / (1 + power) : power / (1 + power)
                                let positive = labels[row] > 0.5
                                gradients[row] = SIMD2(p - Double(labels[row]), max(p * (1 - p), 1e-16))
                                loss += max(positive ? -margin : margin, 0) + Logistic.log(1 + power)
                            }
                            losses[block] = loss
                        }
                    }
                }
            }
        }
        return losses.reduce(0, +) / Double(margins.count)
    }

    /// Adds each leaf's value to the margins of the rows that reached it in growing: every training row, when
    /// the tree saw them all.
    private static func addLeafValues(
        of tree: Tree,
        leaves: [(node: Int, rows: Range<Int>)],
        rows: [Int32],
        to margins: inout [Double]
    ) {
        rows.withUnsafeBufferPointer { rows in
            margins.withUnsafeMutableBufferPointer { margins in
                for leaf in leaves {
                    let value = Double(tree.condition[leaf.node])
                    for index in leaf.rows {
                        margins[Int(rows[index])] += value
                    }
                }
            }
        }
    }

    /// Adds the tree to every training row's margin, walking the binned rows.
    private func addTree(_ tree: Tree, to margins: inout [Double]) {
        let featureCount = self.train.featureCount
        self.matrix.codes.withUnsafeBufferPointer { codes in
            margins.withUnsafeMutableBufferPointer { margins in
                let margins = margins
                self.parallel.forEachBlock(margins.count, blockSize: Self.blockRows) { _, rows in
                    for row in rows {
                        let leaf = tree.leaf(codes: codes.baseAddress! + row * featureCount)
                        margins[row] += Double(tree.condition[leaf])
                    }
                }
            }
        }
    }

    /// Adds the tree to the margins of `set`'s rows (walking their values) and returns the new log-loss.
    private func update(_ margins: inout [Double], of set: TrainingSet, tree: Tree) -> Double {
        guard set.rows > 0 else {
            return 0
        }
        let blocks = (set.rows + Self.blockRows - 1) / Self.blockRows
        var losses = [Double](repeating: 0, count: blocks)
        set.values.withUnsafeBufferPointer { values in
            margins.withUnsafeMutableBufferPointer { margins in
                losses.withUnsafeMutableBufferPointer { losses in
                    let (margins, losses) = (margins, losses)
                    self.parallel.forEachBlock(set.rows, blockSize: Self.blockRows) { block, rows in
                        var loss = 0.0
                        for row in rows {
                            let leaf = tree.leaf(values.baseAddress! + row * set.featureCount)
                            margins[row] += Double(tree.condition[leaf])
                            loss += Self.rowLoss(margin: margins[row], label: set.labels[row])
                        }
                        losses[block] = loss
                    }
                }
            }
        }
        return losses.reduce(0, +) / Double(set.rows)
    }

    @inline(__always)
    static func rowLoss(margin: Double, label: Float) -> Double {
        Logistic.softplus(label > 0.5 ? -margin : margin)
    }

    /// `value` with six decimals, for progress lines (the standard library has no number formatting).
    static func format(_ value: Double) -> String {
        guard value.isFinite else {
            return "\(value)"
        }
        let scaled = Int((abs(value) * 1_000_000).rounded())
        let fraction = String(scaled % 1_000_000)
        return (value < 0 ? "-" : "") + "\(scaled / 1_000_000)."
            + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}
