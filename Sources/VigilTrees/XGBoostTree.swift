import VigilJSON

/// One tree of an XGBoost JSON model as parallel arrays indexed by XGBoost's node id.
///
/// Reading checks types and that every array has `tree_param.num_nodes` entries; the shape of the tree
/// is checked by ``TreeEnsembleBuilder``.
struct XGBoostTree {
    /// The tree's position in the model's `trees` array, used in messages.
    var index: Int
    var nodeCount: Int
    /// `tree_param.num_deleted`: nodes pruned during training that stay in the arrays but are unreachable.
    var deletedNodeCount: Int
    /// A child index, or -1 in both arrays for a leaf.
    var leftChildren: [Int]
    var rightChildren: [Int]
    var parents: [Int]
    var splitIndices: [Int]
    /// The threshold of a split, or the value of a leaf.
    var splitConditions: [Float]
    var defaultLeft: [Bool]
    /// Each node's cover. Read as float32, as XGBoost stores it, which also bounds the weighted sums that
    /// expected values are made of far below `Double` overflow.
    var sumHessian: [Float]
    /// 0 for a numerical split, 1 for a categorical one.
    var splitType: [Int]

    init(_ tree: JSONField, index: Int) throws(ModelError) {
        self.index = index
        let parameters = try tree.member("tree_param")
        let numNodes = try parameters.member("num_nodes")
        self.nodeCount = try numNodes.integerScalar()
        guard (1...Int(Int32.max)).contains(self.nodeCount) else {
            throw ModelError(
                code: .invalidValue,
                message: "tree \(index): '\(numNodes.path)' is \(self.nodeCount); a tree needs at least one node"
            )
        }
        if let numDeleted = try parameters.optionalMember("num_deleted") {
            self.deletedNodeCount = try numDeleted.integerScalar()
            guard (0..<self.nodeCount).contains(self.deletedNodeCount) else {
                throw ModelError(
                    code: .invalidValue,
                    message: "tree \(index): '\(numDeleted.path)' is \(self.deletedNodeCount), "
                        + "but the tree has \(self.nodeCount) nodes"
                )
            }
        } else {
            self.deletedNodeCount = 0
        }
        if let leafVector = try parameters.optionalMember("size_leaf_vector") {
            let size = try leafVector.integerScalar()
            guard size == 0 || size == 1 else {
                throw ModelError(
                    code: .unsupportedModel,
                    message: "tree \(index): '\(leafVector.path)' is \(size); only scalar leaves are supported"
                )
            }
        }

        let nodeCount = self.nodeCount
        func nodeArray(_ key: String) throws(ModelError) -> JSONField {
            try tree.member(key).checkingNodeCount(nodeCount, tree: index)
        }
        self.leftChildren = try nodeArray("left_children").integerArray()
        self.rightChildren = try nodeArray("right_children").integerArray()
        self.parents = try nodeArray("parents").integerArray()
        self.splitIndices = try nodeArray("split_indices").integerArray()
        self.splitConditions = try nodeArray("split_conditions").floatArray()
        self.defaultLeft = try nodeArray("default_left").flagArray()
        self.sumHessian = try nodeArray("sum_hessian").floatArray()
        // Leaf values are read from split_conditions; base_weights is only checked for shape.
        _ = try nodeArray("base_weights").floatArray()
        self.splitType = try nodeArray("split_type").integerArray()
    }
}

extension JSONField {
    /// This array field, after checking that it has one entry per node of tree `tree`.
    fileprivate func checkingNodeCount(_ nodeCount: Int, tree: Int) throws(ModelError) -> JSONField {
        let count = try self.array().count
        guard count == nodeCount else {
            throw ModelError(
                code: .countMismatch,
                message: "tree \(tree): '\(self.path)' has \(count) entries, but tree_param.num_nodes is \(nodeCount)"
            )
        }
        return self
    }
}
