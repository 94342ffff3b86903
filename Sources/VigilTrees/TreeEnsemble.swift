/// A validated, frozen ensemble of gradient-boosted regression trees for binary classification.
///
/// All trees live in flat arrays indexed by node. What a walk reads at each step (threshold, feature,
/// default direction and children) is packed into one 12-byte ``Node``; leaf values and expected values,
/// read once per tree or only for contributions, have arrays of their own.
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
    /// Every node of every tree, each tree breadth-first from its root so that siblings are adjacent.
    @usableFromInline let nodes: [Node]
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
        self.nodes = builder.nodes
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
        self.nodes.count
    }

    /// The raw score: `baseMargin` plus the value of the leaf each tree routes `features` to.
    ///
    /// - Parameter features: At least ``featureCount`` values, indexed as in training; NaN means missing.
    /// - Performance: No allocation for up to 128 features (the walk's row of 8 bytes per feature is on the
    ///   stack; a wider one may be on the heap). About 1.8 µs per row for a 300-tree depth-6 model (15,294
    ///   nodes, 35 features; `vigil train --rounds 300 --depth 6 --early-stopping 0` on simulated data) and
    ///   1.0 µs for the bundled 169-tree model, on a shared 2-core EPYC, release build (`swift build -c release
    ///   --product vigil-microbench && .build/release/vigil-microbench [--model PATH]`, stage 4b).
    @inlinable
    public func margin(_ features: UnsafeBufferPointer<Float>) -> Double {
        precondition(features.count >= self.featureCount, "a row needs \(self.featureCount) features")
        return self.withNodes(features) { nodes in
            var sum = self.baseMargin
            nodes.route { sum += nodes.leafValue[$0] }
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

    /// Runs `body` with unchecked views of the node arrays and of `features` laid out for ``NodeView/walk``.
    ///
    /// Unchecked access is sound because ``TreeEnsembleBuilder`` proved every child index in range and
    /// every split feature below `featureCount`, and callers check that a row has `featureCount` values.
    ///
    /// The walk reads a row of `2 × featureCount` values: slot `2f` holds feature `f` with NaN replaced by
    /// +infinity, slot `2f + 1` the same with NaN replaced by -infinity. Thresholds are finite, so
    /// `x < threshold` is false for +infinity and true for -infinity: a split whose missing values go left
    /// reads slot `2f + 1`, one whose missing values go right reads slot `2f`, and a step is one comparison
    /// with no test for NaN. Every other value, infinities and signed zeros included, is copied unchanged.
    @inlinable @inline(__always)
    func withNodes<Result>(_ features: UnsafeBufferPointer<Float>, _ body: (NodeView) -> Result) -> Result {
        self.treeRoots.withUnsafeBufferPointer { treeRoots in
            self.treeDepth.withUnsafeBufferPointer { treeDepth in
                self.nodes.withUnsafeBufferPointer { nodes in
                    self.leafValue.withUnsafeBufferPointer { leafValue in
                        self.expectedValue.withUnsafeBufferPointer { expectedValue in
                            Self.withRow(features, featureCount: self.featureCount) { row in
                                body(
                                    NodeView(
                                        row: row,
                                        treeRoots: treeRoots,
                                        treeDepth: treeDepth,
                                        nodes: nodes,
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

    /// Runs `body` with `features` laid out as two slots per feature (see ``withNodes(_:_:)``).
    @inlinable @inline(__always)
    static func withRow<Result>(
        _ features: UnsafeBufferPointer<Float>,
        featureCount: Int,
        _ body: (UnsafePointer<Float>) -> Result
    ) -> Result {
        // At least one pair of slots, so the row has an address even for a model without features.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * max(1, featureCount)) { row in
            let row = row.baseAddress.unsafelyUnwrapped
            row[0] = 0
            row[1] = 0
            for feature in 0..<featureCount {
                let value = features[feature]
                row[2 * feature] = value.isNaN ? .infinity : value
                row[2 * feature + 1] = value.isNaN ? -.infinity : value
            }
            return body(UnsafePointer(row))
        }
    }
}

/// One node as a walk reads it: everything a step needs in 12 bytes, so a step touches one cache line.
@usableFromInline
struct Node: Sendable {
    /// A split sends `x` left when `x < threshold`. A leaf's threshold is -infinity, which no value of the
    /// walk's row is below, so a walk at a leaf always steps right.
    @usableFromInline let threshold: Float
    /// Where the walk's row holds this split's feature: `2 × feature + 1` when missing values go left,
    /// `2 × feature` when they go right (see ``TreeEnsemble/withNodes(_:_:)``). 0 for a leaf.
    @usableFromInline let slot: UInt32
    /// The right child; the left child is the node before it. A leaf is its own right child, so a walk
    /// that steps past a leaf stays on it.
    @usableFromInline let right: Int32

    init(threshold: Float, slot: UInt32, right: Int32) {
        self.threshold = threshold
        self.slot = slot
        self.right = right
    }

    /// The split's feature; 0 for a leaf.
    @inlinable
    var feature: Int {
        Int(self.slot >> 1)
    }
}

/// Borrowed views of a ``TreeEnsemble``'s node arrays and of one row, valid only inside `withNodes`.
@usableFromInline
struct NodeView {
    /// The row as ``TreeEnsemble/withNodes(_:_:)`` lays it out: two slots per feature.
    @usableFromInline let row: UnsafePointer<Float>
    @usableFromInline let treeRoots: UnsafeBufferPointer<Int32>
    @usableFromInline let treeDepth: UnsafeBufferPointer<Int32>
    @usableFromInline let nodes: UnsafeBufferPointer<Node>
    @usableFromInline let leafValue: UnsafeBufferPointer<Double>
    @usableFromInline let expectedValue: UnsafeBufferPointer<Double>

    @inlinable
    init(
        row: UnsafePointer<Float>,
        treeRoots: UnsafeBufferPointer<Int32>,
        treeDepth: UnsafeBufferPointer<Int32>,
        nodes: UnsafeBufferPointer<Node>,
        leafValue: UnsafeBufferPointer<Double>,
        expectedValue: UnsafeBufferPointer<Double>
    ) {
        self.row = row
        self.treeRoots = treeRoots
        self.treeDepth = treeDepth
        self.nodes = nodes
        self.leafValue = leafValue
        self.expectedValue = expectedValue
    }

    /// Routes the row down every tree, calling `step` for each move from a node to the child it goes to
    /// and then `leaf` with the leaf each tree ends at, trees in order.
    ///
    /// Eight trees are walked in lockstep: one walk waits on each load in turn, eight overlap theirs.
    /// Every tree takes as many steps as the deepest of its eight; a leaf's child is itself, so `step`
    /// also sees moves from a leaf to itself once that tree has arrived. With a `step` that does real work,
    /// as contributions' does, sixteen lanes run out of registers and are slower than eight.
    @inlinable @inline(__always)
    func walk(
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
                let child0 = self.child(of: node0)
                let child1 = self.child(of: node1)
                let child2 = self.child(of: node2)
                let child3 = self.child(of: node3)
                let child4 = self.child(of: node4)
                let child5 = self.child(of: node5)
                let child6 = self.child(of: node6)
                let child7 = self.child(of: node7)
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
                let child = self.child(of: node)
                step(node, child)
                node = child
            }
            leaf(node)
            tree += 1
        }
    }

    /// Calls `leaf` with the leaf each tree routes the row to, trees in order: ``walk(step:leaf:)`` without
    /// the steps, for ``TreeEnsemble/margin(_:)``.
    ///
    /// Sixteen trees go in lockstep rather than eight: with no per-step work a lane holds only its node,
    /// and the extra overlap of node loads takes about a tenth off a 300-tree margin (twelve, twenty and
    /// twenty-four lanes measured slower than sixteen). A last group of fewer than sixteen trees fills its
    /// spare lanes with its last tree and reports only the real ones.
    @inlinable @inline(__always)
    func route(leaf: (_ leaf: Int) -> Void) {
        var tree = 0
        while tree < self.treeRoots.count {
            let live = min(16, self.treeRoots.count - tree)
            let last = tree + live - 1
            func root(_ lane: Int) -> Int {
                Int(self.treeRoots[min(tree &+ lane, last)])
            }
            var (n0, n1, n2, n3) = (root(0), root(1), root(2), root(3))
            var (n4, n5, n6, n7) = (root(4), root(5), root(6), root(7))
            var (n8, n9, n10, n11) = (root(8), root(9), root(10), root(11))
            var (n12, n13, n14, n15) = (root(12), root(13), root(14), root(15))
            var depth: Int32 = 0
            for lane in tree...last {
                depth = max(depth, self.treeDepth[lane])
            }
            for _ in 0..<depth {
                (n0, n1, n2, n3) = (self.child(of: n0), self.child(of: n1), self.child(of: n2), self.child(of: n3))
                (n4, n5, n6, n7) = (self.child(of: n4), self.child(of: n5), self.child(of: n6), self.child(of: n7))
                (n8, n9, n10, n11) = (self.child(of: n8), self.child(of: n9), self.child(of: n10), self.child(of: n11))
                (n12, n13, n14, n15) = (
                    self.child(of: n12), self.child(of: n13), self.child(of: n14), self.child(of: n15)
                )
            }
            leaf(n0)
            if live > 1 { leaf(n1) }
            if live > 2 { leaf(n2) }
            if live > 3 { leaf(n3) }
            if live > 4 { leaf(n4) }
            if live > 5 { leaf(n5) }
            if live > 6 { leaf(n6) }
            if live > 7 { leaf(n7) }
            if live > 8 { leaf(n8) }
            if live > 9 { leaf(n9) }
            if live > 10 { leaf(n10) }
            if live > 11 { leaf(n11) }
            if live > 12 { leaf(n12) }
            if live > 13 { leaf(n13) }
            if live > 14 { leaf(n14) }
            if live > 15 { leaf(n15) }
            tree += live
        }
    }

    /// The child of `node` that the row goes to: left when `x < threshold` at float32, and for a NaN the
    /// split's default side, through the slot the split reads.
    @inlinable @inline(__always)
    func child(of node: Int) -> Int {
        let split = self.nodes[node]
        // The row holds no NaN and no threshold is NaN, so this is `x < threshold`; in this form it is one
        // carry flag, which the subtraction consumes without a separate set-and-add.
        let goesLeft = !(self.row[Int(split.slot)] >= split.threshold)
        return Int(split.right) &- (goesLeft ? 1 : 0)
    }
}
