/// Validates trees one at a time and lays them out as flat arrays for ``TreeEnsemble``.
///
/// Each tree is walked from its root. The walk rejects anything that would let prediction read out of
/// bounds or loop: child and feature indices out of range, a node reached twice (a cycle or a shared
/// child), half-leaves, non-finite thresholds and leaf values, and nodes the root cannot reach beyond
/// the `num_deleted` that XGBoost's pruner leaves behind. Reachable nodes are renumbered breadth-first,
/// so a split's right child is the node after its left child, and unreachable nodes are dropped.
///
/// In the frozen layout a leaf is its own right child (see ``Node``), so a walk can take a fixed number of
/// steps, the tree's depth, without testing for leaves: once at a leaf it stays there.
struct TreeEnsembleBuilder {
    let featureCount: Int
    private(set) var treeRoots: [Int32] = []
    private(set) var treeDepth: [Int32] = []
    private(set) var nodes: [Node] = []
    private(set) var leafValue: [Double] = []
    private(set) var expectedValue: [Double] = []
    private(set) var rootExpectedValueSum = 0.0

    init(featureCount: Int) {
        self.featureCount = featureCount
    }

    mutating func append(_ tree: XGBoostTree) throws(ModelError) {
        try self.validate(tree)
        let order = Self.breadthFirst(tree)
        let base = self.nodes.count
        guard base + order.count <= Int(Int32.max) else {
            throw ModelError(code: .invalidValue, message: "tree \(tree.index): the model has more than 2^31 nodes")
        }
        var frozenIndex = [Int32](repeating: -1, count: tree.nodeCount)
        for (position, node) in order.enumerated() {
            frozenIndex[node] = Int32(base + position)
        }

        self.treeRoots.append(Int32(base))
        for node in order {
            if tree.leftChildren[node] == -1 {
                // No row value is below -infinity, so every step from a leaf goes right, to itself.
                self.nodes.append(Node(threshold: -.infinity, slot: 0, right: frozenIndex[node]))
                self.leafValue.append(Double(tree.splitConditions[node]))
            } else {
                let right = frozenIndex[tree.rightChildren[node]]
                // Validated children are distinct and breadth-first order appends them as a pair.
                precondition(frozenIndex[tree.leftChildren[node]] == right - 1, "siblings must be adjacent")
                let slot = 2 * UInt32(tree.splitIndices[node]) + (tree.defaultLeft[node] ? 1 : 0)
                self.nodes.append(Node(threshold: tree.splitConditions[node], slot: slot, right: right))
                self.leafValue.append(0)
            }
        }

        // Children follow their parent in breadth-first order, so a reverse pass sees both children before
        // the parent.
        var coverSum = [Double](repeating: 0, count: order.count)
        var coverWeightedSum = [Double](repeating: 0, count: order.count)
        var leafCount = [Int](repeating: 0, count: order.count)
        var leafValueSum = [Double](repeating: 0, count: order.count)
        var expected = [Double](repeating: 0, count: order.count)
        var depth = [Int32](repeating: 0, count: order.count)
        for position in order.indices.reversed() {
            let node = order[position]
            if tree.leftChildren[node] == -1 {
                let value = Double(tree.splitConditions[node])
                coverSum[position] = Double(tree.sumHessian[node])
                coverWeightedSum[position] = Double(tree.sumHessian[node]) * value
                leafCount[position] = 1
                leafValueSum[position] = value
            } else {
                let left = Int(frozenIndex[tree.leftChildren[node]]) - base
                let right = Int(frozenIndex[tree.rightChildren[node]]) - base
                coverSum[position] = coverSum[left] + coverSum[right]
                coverWeightedSum[position] = coverWeightedSum[left] + coverWeightedSum[right]
                leafCount[position] = leafCount[left] + leafCount[right]
                leafValueSum[position] = leafValueSum[left] + leafValueSum[right]
                depth[position] = 1 + max(depth[left], depth[right])
            }
            // A subtree whose leaves carry no cover has no weighting to apply; fall back to the plain mean.
            expected[position] =
                coverSum[position] > 0
                ? coverWeightedSum[position] / coverSum[position]
                : leafValueSum[position] / Double(leafCount[position])
        }
        self.expectedValue.append(contentsOf: expected)
        self.rootExpectedValueSum += expected[0]
        self.treeDepth.append(depth[0])
    }

    /// The XGBoost node ids of a validated tree's reachable nodes, breadth-first from the root, each
    /// split's children appended together, left then right.
    private static func breadthFirst(_ tree: XGBoostTree) -> [Int] {
        var order = [0]
        order.reserveCapacity(tree.nodeCount)
        var next = 0
        while next < order.count {
            let node = order[next]
            next += 1
            if tree.leftChildren[node] != -1 {
                order.append(tree.leftChildren[node])
                order.append(tree.rightChildren[node])
            }
        }
        return order
    }

    /// Walks the tree from node 0, checking every reachable node.
    private func validate(_ tree: XGBoostTree) throws(ModelError) {
        let notReached = -2
        let root = -1
        let treeIndex = tree.index
        var reachedFrom = [Int](repeating: notReached, count: tree.nodeCount)
        reachedFrom[0] = root
        var order: [Int] = []
        order.reserveCapacity(tree.nodeCount)
        var stack = [0]

        while let node = stack.popLast() {
            order.append(node)
            let left = tree.leftChildren[node]
            let right = tree.rightChildren[node]
            let hessian = tree.sumHessian[node]
            guard hessian.isFinite, hessian >= 0 else {
                throw ModelError(
                    code: .invalidValue,
                    message: "tree \(treeIndex), node \(node): sum_hessian is \(hessian); "
                        + "it must be finite and not negative"
                )
            }
            if left == -1 {
                guard right == -1 else {
                    throw ModelError(
                        code: .invalidTree,
                        message: "tree \(treeIndex), node \(node): left_children is -1 (a leaf) "
                            + "but right_children is \(right)"
                    )
                }
                guard tree.splitConditions[node].isFinite else {
                    throw ModelError(
                        code: .invalidValue,
                        message: "tree \(treeIndex), leaf \(node): the leaf value in split_conditions is "
                            + "\(tree.splitConditions[node]); it must be finite"
                    )
                }
                continue
            }
            try Self.checkChild(left, field: "left_children", of: node, in: tree)
            try Self.checkChild(right, field: "right_children", of: node, in: tree)
            guard tree.splitType[node] == 0 else {
                throw ModelError(
                    code: .unsupportedSplit,
                    message: "tree \(treeIndex), node \(node): split_type is \(tree.splitType[node]) "
                        + "(categorical); only numerical splits (0) are supported"
                )
            }
            let feature = tree.splitIndices[node]
            guard (0..<self.featureCount).contains(feature) else {
                throw ModelError(
                    code: .indexOutOfRange,
                    message: "tree \(treeIndex), node \(node): split_indices is \(feature), "
                        + "but num_feature is \(self.featureCount)"
                )
            }
            guard tree.splitConditions[node].isFinite else {
                throw ModelError(
                    code: .invalidValue,
                    message: "tree \(treeIndex), node \(node): the threshold in split_conditions is "
                        + "\(tree.splitConditions[node]); it must be finite"
                )
            }
            for child in [left, right] {
                guard reachedFrom[child] == notReached else {
                    throw Self.reachedTwice(tree, child: child, from: node, reachedFrom: reachedFrom)
                }
                reachedFrom[child] = node
                guard tree.parents[child] == node else {
                    throw ModelError(
                        code: .invalidTree,
                        message: "tree \(treeIndex), node \(child): parents says \(tree.parents[child]), "
                            + "but node \(node) has it as a child"
                    )
                }
            }
            stack.append(right)
            stack.append(left)
        }

        let unreachable = tree.nodeCount - order.count
        guard unreachable <= tree.deletedNodeCount else {
            let orphan = reachedFrom.firstIndex(of: notReached) ?? 0
            throw ModelError(
                code: .invalidTree,
                message: "tree \(treeIndex): node \(orphan) is unreachable from the root (an orphan); "
                    + "\(unreachable) nodes are unreachable but tree_param.num_deleted is \(tree.deletedNodeCount)"
            )
        }
        guard unreachable == tree.deletedNodeCount else {
            throw ModelError(
                code: .invalidTree,
                message: "tree \(treeIndex): tree_param.num_deleted is \(tree.deletedNodeCount), "
                    + "but only \(unreachable) nodes are unreachable from the root"
            )
        }
    }

    private static func checkChild(
        _ child: Int,
        field: String,
        of node: Int,
        in tree: XGBoostTree
    ) throws(ModelError) {
        guard (0..<tree.nodeCount).contains(child) else {
            throw ModelError(
                code: .indexOutOfRange,
                message: "tree \(tree.index), node \(node): \(field) is \(child), "
                    + "outside the tree's nodes 0..<\(tree.nodeCount)"
            )
        }
    }

    /// Explains why `child` was reached a second time: it is an ancestor of `node` (a cycle) or not.
    private static func reachedTwice(
        _ tree: XGBoostTree,
        child: Int,
        from node: Int,
        reachedFrom: [Int]
    ) -> ModelError {
        var ancestor = node
        while ancestor >= 0 && ancestor != child {
            ancestor = reachedFrom[ancestor]
        }
        if ancestor == child {
            return ModelError(
                code: .invalidTree,
                message: "tree \(tree.index), node \(node): child \(child) is one of its own ancestors (a cycle)"
            )
        }
        return ModelError(
            code: .invalidTree,
            message: "tree \(tree.index), node \(child) is the child of both node \(reachedFrom[child]) "
                + "and node \(node) (a shared child)"
        )
    }
}
