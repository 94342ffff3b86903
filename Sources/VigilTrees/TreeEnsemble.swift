/// A validated, frozen ensemble of gradient-boosted regression trees for binary classification.
///
/// All trees live in one structure of arrays indexed by node: child indices, split feature, float32
/// threshold, default direction for missing values and leaf value. Prediction only walks these arrays.
/// A split sends a feature value `x` left when `x < threshold`, compared as `Float`; a NaN (missing) value
/// follows the split's default direction.
public struct TreeEnsemble: Sendable {
    /// How many features a row must supply (`num_feature`).
    public let featureCount: Int
    /// The model's feature names, or empty when it was trained without names.
    public let featureNames: [String]
    /// The margin before any tree: `logit(base_score)`.
    public let baseMargin: Double
    /// The model's string attributes (`learner.attributes`), such as a calibration stored next to the trees;
    /// empty when the model has none.
    public let attributes: [String: String]

    /// The index of each tree's root node.
    @usableFromInline let treeRoots: [Int32]
    /// The number of splits on each tree's longest path.
    @usableFromInline let treeDepth: [Int32]
    /// The left child of a split. A leaf is its own left and right child and splits on feature 0, which
    /// exists whenever any tree has a split, so a walk that steps past a leaf stays on it.
    @usableFromInline let leftChild: [Int32]
    @usableFromInline let rightChild: [Int32]
    @usableFromInline let splitFeature: [Int32]
    @usableFromInline let splitThreshold: [Float]
    @usableFromInline let defaultsLeft: [Bool]
    /// The value a leaf adds to the margin; 0 for splits.
    @usableFromInline let leafValue: [Double]
    /// The cover-weighted mean of the leaf values below each node, for contributions.
    @usableFromInline let expectedValue: [Double]
    @usableFromInline let rootExpectedValueSum: Double

    init(
        builder: TreeEnsembleBuilder,
        featureNames: [String],
        baseMargin: Double,
        attributes: [String: String] = [:]
    ) {
        self.featureCount = builder.featureCount
        self.featureNames = featureNames
        self.baseMargin = baseMargin
        self.attributes = attributes
        self.treeRoots = builder.treeRoots
        self.treeDepth = builder.treeDepth
        self.leftChild = builder.leftChild
        self.rightChild = builder.rightChild
        self.splitFeature = builder.splitFeature
        self.splitThreshold = builder.splitThreshold
        self.defaultsLeft = builder.defaultsLeft
        self.leafValue = builder.leafValue
        self.expectedValue = builder.expectedValue
        self.rootExpectedValueSum = builder.rootExpectedValueSum
    }

    /// The number of trees.
    public var treeCount: Int {
        self.treeRoots.count
    }

    /// The number of nodes in all trees, splits and leaves.
    public var nodeCount: Int {
        self.leftChild.count
    }

    /// The raw score: `baseMargin` plus the value of the leaf each tree routes `features` to.
    ///
    /// - Parameter features: At least ``featureCount`` values, indexed as in training; NaN means missing.
    /// - Performance: No allocation. About 4 µs per row for the 300-tree, 22 794-node test fixture on a
    ///   shared 2-core EPYC, release build (`swift run -c release --package-path Benchmarks VigilTreesBenchmark`).
    @inlinable
    public func margin(_ features: UnsafeBufferPointer<Float>) -> Double {
        precondition(features.count >= self.featureCount, "a row needs \(self.featureCount) features")
        return self.withNodes { nodes in
            var sum = self.baseMargin
            nodes.walk(features, step: { _, _ in }, leaf: { sum += nodes.leafValue[$0] })
            return sum
        }
    }

    /// The probability of the positive class: `sigmoid(margin(features))`.
    ///
    /// - Parameter features: At least ``featureCount`` values, indexed as in training; NaN means missing.
    /// - Performance: No allocation; the cost of ``margin(_:)`` plus one `exp`, which is too small to measure.
    @inlinable
    public func probability(_ features: UnsafeBufferPointer<Float>) -> Double {
        Logistic.sigmoid(self.margin(features))
    }

    /// Runs `body` with unchecked views of the node arrays.
    ///
    /// Unchecked access is sound because ``TreeEnsembleBuilder`` proved every child index in range and
    /// every split feature below `featureCount`, and callers check that a row has `featureCount` values.
    /// In a release build it roughly halves the cost of a walk compared with checked `Array` subscripts.
    @inlinable @inline(__always)
    func withNodes<Result>(_ body: (NodeView) -> Result) -> Result {
        self.treeRoots.withUnsafeBufferPointer { treeRoots in
            self.treeDepth.withUnsafeBufferPointer { treeDepth in
                self.leftChild.withUnsafeBufferPointer { leftChild in
                    self.rightChild.withUnsafeBufferPointer { rightChild in
                        self.splitFeature.withUnsafeBufferPointer { splitFeature in
                            self.splitThreshold.withUnsafeBufferPointer { splitThreshold in
                                self.defaultsLeft.withUnsafeBufferPointer { defaultsLeft in
                                    self.leafValue.withUnsafeBufferPointer { leafValue in
                                        self.expectedValue.withUnsafeBufferPointer { expectedValue in
                                            body(
                                                NodeView(
                                                    treeRoots: treeRoots,
                                                    treeDepth: treeDepth,
                                                    leftChild: leftChild,
                                                    rightChild: rightChild,
                                                    splitFeature: splitFeature,
                                                    splitThreshold: splitThreshold,
                                                    defaultsLeft: defaultsLeft,
                                                    leafValue: leafValue,
                                                    expectedValue: expectedValue
                                                )
                                            )
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Borrowed views of a ``TreeEnsemble``'s node arrays, valid only inside `withNodes`.
@usableFromInline
struct NodeView {
    @usableFromInline let treeRoots: UnsafeBufferPointer<Int32>
    @usableFromInline let treeDepth: UnsafeBufferPointer<Int32>
    @usableFromInline let leftChild: UnsafeBufferPointer<Int32>
    @usableFromInline let rightChild: UnsafeBufferPointer<Int32>
    @usableFromInline let splitFeature: UnsafeBufferPointer<Int32>
    @usableFromInline let splitThreshold: UnsafeBufferPointer<Float>
    @usableFromInline let defaultsLeft: UnsafeBufferPointer<Bool>
    @usableFromInline let leafValue: UnsafeBufferPointer<Double>
    @usableFromInline let expectedValue: UnsafeBufferPointer<Double>

    @inlinable
    init(
        treeRoots: UnsafeBufferPointer<Int32>,
        treeDepth: UnsafeBufferPointer<Int32>,
        leftChild: UnsafeBufferPointer<Int32>,
        rightChild: UnsafeBufferPointer<Int32>,
        splitFeature: UnsafeBufferPointer<Int32>,
        splitThreshold: UnsafeBufferPointer<Float>,
        defaultsLeft: UnsafeBufferPointer<Bool>,
        leafValue: UnsafeBufferPointer<Double>,
        expectedValue: UnsafeBufferPointer<Double>
    ) {
        self.treeRoots = treeRoots
        self.treeDepth = treeDepth
        self.leftChild = leftChild
        self.rightChild = rightChild
        self.splitFeature = splitFeature
        self.splitThreshold = splitThreshold
        self.defaultsLeft = defaultsLeft
        self.leafValue = leafValue
        self.expectedValue = expectedValue
    }

    /// Routes `features` down every tree, calling `step` for each move from a node to the child it goes to
    /// and then `leaf` with the leaf each tree ends at, trees in order.
    ///
    /// Eight trees are walked in lockstep: one walk waits on each load in turn, eight overlap theirs.
    /// Every tree takes as many steps as the deepest of its eight; a leaf's child is itself, so `step`
    /// also sees moves from a leaf to itself once that tree has arrived.
    @inlinable @inline(__always)
    func walk(
        _ features: UnsafeBufferPointer<Float>,
        step: (_ node: Int, _ child: Int) -> Void,
        leaf: (_ leaf: Int) -> Void
    ) {
        var tree = 0
        while tree + 8 <= self.treeRoots.count {
            var node0 = Int(self.treeRoots[tree])
            var node1 = Int(self.treeRoots[tree + 1])
            var node2 = Int(self.treeRoots[tree + 2])
            var node3 = Int(self.treeRoots[tree + 3])
            var node4 = Int(self.treeRoots[tree + 4])
            var node5 = Int(self.treeRoots[tree + 5])
            var node6 = Int(self.treeRoots[tree + 6])
            var node7 = Int(self.treeRoots[tree + 7])
            var depth = self.treeDepth[tree]
            for lane in 1..<8 {
                depth = max(depth, self.treeDepth[tree + lane])
            }
            for _ in 0..<depth {
                let child0 = self.child(of: node0, features)
                let child1 = self.child(of: node1, features)
                let child2 = self.child(of: node2, features)
                let child3 = self.child(of: node3, features)
                let child4 = self.child(of: node4, features)
                let child5 = self.child(of: node5, features)
                let child6 = self.child(of: node6, features)
                let child7 = self.child(of: node7, features)
                step(node0, child0)
                step(node1, child1)
                step(node2, child2)
                step(node3, child3)
                step(node4, child4)
                step(node5, child5)
                step(node6, child6)
                step(node7, child7)
                (node0, node1, node2, node3) = (child0, child1, child2, child3)
                (node4, node5, node6, node7) = (child4, child5, child6, child7)
            }
            leaf(node0)
            leaf(node1)
            leaf(node2)
            leaf(node3)
            leaf(node4)
            leaf(node5)
            leaf(node6)
            leaf(node7)
            tree += 8
        }
        while tree < self.treeRoots.count {
            var node = Int(self.treeRoots[tree])
            for _ in 0..<self.treeDepth[tree] {
                let child = self.child(of: node, features)
                step(node, child)
                node = child
            }
            leaf(node)
            tree += 1
        }
    }

    /// The child of split `node` that `features` goes to: left when `x < threshold` at float32, the
    /// default side when `x` is NaN.
    @inlinable
    func child(of node: Int, _ features: UnsafeBufferPointer<Float>) -> Int {
        let value = features[Int(self.splitFeature[node])]
        let goesLeft = value.isNaN ? self.defaultsLeft[node] : value < self.splitThreshold[node]
        return goesLeft ? Int(self.leftChild[node]) : Int(self.rightChild[node])
    }
}
