/// A small XGBoost JSON model written by hand, so that tests know every answer and can break one field.
///
/// Scalar fields hold raw JSON text, so a test can put a value of the wrong type anywhere.
struct TestModel: Sendable {
    var objective = "\"binary:logistic\""
    var baseScore = "\"[5E-1]\""
    var numFeature = "\"2\""
    var numClass = "\"0\""
    var featureNames: String?
    /// The raw JSON of `learner.attributes`, or `nil` to leave the member out.
    var attributes: String? = "{}"
    /// Defaults to the number of trees.
    var numTrees: String?
    var boosterName = "\"gbtree\""
    var trees: [TestTree]

    init(trees: [TestTree]) {
        self.trees = trees
    }

    var json: String {
        let names = self.featureNames.map { "\"feature_names\":\($0)," } ?? ""
        let attributes = self.attributes.map { "\"attributes\":\($0)," } ?? ""
        return """
            {"learner":{\(attributes)\(names)"feature_types":[],
            "gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1",
            "num_trees":\(self.numTrees ?? "\"\(self.trees.count)\"")},
            "iteration_indptr":[],"tree_info":[\(self.trees.map { _ in "0" }.joined(separator: ","))],
            "trees":[\(self.trees.map(\.json).joined(separator: ","))]},"name":\(self.boosterName)},
            "learner_model_param":{"base_score":\(self.baseScore),"boost_from_average":"1",
            "num_class":\(self.numClass),"num_feature":\(self.numFeature),"num_target":"1"},
            "objective":{"name":\(self.objective),"reg_loss_param":{"scale_pos_weight":"1"}}},
            "version":[3,1,0]}
            """
    }

    var bytes: [UInt8] {
        Array(self.json.utf8)
    }
}

/// One tree of a ``TestModel``, as ordered raw JSON fields.
struct TestTree: Sendable {
    private(set) var fields: [(key: String, json: String)]

    init(
        left: [Int],
        right: [Int],
        parents: [Int],
        splitIndices: [Int],
        splitConditions: [String],
        defaultLeft: [Int],
        sumHessian: [Double],
        splitType: [Int]? = nil
    ) {
        func list(_ values: [some CustomStringConvertible]) -> String {
            "[" + values.map(\.description).joined(separator: ",") + "]"
        }
        let zeros = [Int](repeating: 0, count: left.count)
        self.fields = [
            ("base_weights", "[" + splitConditions.joined(separator: ",") + "]"),
            ("categories", "[]"),
            ("default_left", list(defaultLeft)),
            ("id", "0"),
            ("left_children", list(left)),
            ("loss_changes", list(zeros)),
            ("parents", list(parents)),
            ("right_children", list(right)),
            ("split_conditions", "[" + splitConditions.joined(separator: ",") + "]"),
            ("split_indices", list(splitIndices)),
            ("split_type", list(splitType ?? zeros)),
            ("sum_hessian", list(sumHessian)),
            (
                "tree_param",
                "{\"num_deleted\":\"0\",\"num_feature\":\"2\",\"num_nodes\":\"\(left.count)\",\"size_leaf_vector\":\"1\"}"
            ),
        ]
    }

    /// One split on feature 0 at `threshold`: leaf -1 (cover 1) on the left, leaf 2 (cover 3) on the right.
    static func stump(threshold: String = "7E-1", defaultLeft: Bool = true) -> TestTree {
        TestTree(
            left: [1, -1, -1],
            right: [2, -1, -1],
            parents: [2_147_483_647, 0, 0],
            splitIndices: [0, 0, 0],
            splitConditions: [threshold, "-1E0", "2E0"],
            defaultLeft: [defaultLeft ? 1 : 0, 0, 0],
            sumHessian: [4, 1, 3]
        )
    }

    /// Node 0 splits feature 0 at 0.5 into node 1 and leaf 2 (1.5, cover 2); node 1 splits feature 1 at
    /// 0.25 into leaf 3 (-2, cover 1) and leaf 4 (0.5, cover 3). Missing values go right at both splits.
    static func twoLevel(rootCover: Double = 6) -> TestTree {
        TestTree(
            left: [1, 3, -1, -1, -1],
            right: [2, 4, -1, -1, -1],
            parents: [2_147_483_647, 0, 0, 1, 1],
            splitIndices: [0, 1, 0, 0, 0],
            splitConditions: ["5E-1", "2.5E-1", "1.5E0", "-2E0", "5E-1"],
            defaultLeft: [0, 0, 0, 0, 0],
            sumHessian: [rootCover, 4, 2, 1, 3]
        )
    }

    /// A tree that is a single leaf: every row gets `value`.
    static func leaf(_ value: String = "3E0") -> TestTree {
        TestTree(
            left: [-1],
            right: [-1],
            parents: [2_147_483_647],
            splitIndices: [0],
            splitConditions: [value],
            defaultLeft: [0],
            sumHessian: [1]
        )
    }

    /// An unbalanced tree whose node ids are not in breadth-first order, and whose root's left child has a
    /// higher id than its right. Node 0 splits feature 0 at 0 (missing right) into leaf 4 (-3) and node 1;
    /// node 1 splits feature 1 at 0.5 (missing left) into node 2 and leaf 3 (4); node 2 splits feature 0
    /// at 1 (missing right) into leaf 5 (1) and leaf 6 (2).
    static func chain() -> TestTree {
        TestTree(
            left: [4, 2, 5, -1, -1, -1, -1],
            right: [1, 3, 6, -1, -1, -1, -1],
            parents: [2_147_483_647, 0, 1, 1, 0, 2, 2],
            splitIndices: [0, 1, 0, 0, 0, 0, 0],
            splitConditions: ["0E0", "5E-1", "1E0", "4E0", "-3E0", "1E0", "2E0"],
            defaultLeft: [0, 1, 0, 0, 0, 0, 0],
            sumHessian: [10, 9, 5, 4, 1, 2, 3]
        )
    }

    var json: String {
        "{" + self.fields.map { "\"\($0.key)\":\($0.json)" }.joined(separator: ",") + "}"
    }

    /// Sets a field's raw JSON, adding the field if it is absent.
    mutating func set(_ key: String, _ json: String) {
        if let index = self.fields.firstIndex(where: { $0.key == key }) {
            self.fields[index].json = json
        } else {
            self.fields.append((key: key, json: json))
        }
    }

    mutating func remove(_ key: String) {
        self.fields.removeAll { $0.key == key }
    }

    func setting(_ key: String, _ json: String) -> TestTree {
        var tree = self
        tree.set(key, json)
        return tree
    }

    func removing(_ key: String) -> TestTree {
        var tree = self
        tree.remove(key)
        return tree
    }
}

extension TestModel {
    func with(_ change: (inout TestModel) -> Void) -> TestModel {
        var model = self
        change(&model)
        return model
    }
}
