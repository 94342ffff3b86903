extension TrainedModel {
    /// The model as XGBoost JSON: what `Booster.save_model("m.json")` writes for a `gbtree` booster with the
    /// `binary:logistic` objective in XGBoost 3.x, loadable by Python's `xgboost.Booster(model_file=…)` and by
    /// `VigilTrees.TreeEnsemble(xgboostJSON:)`, which give the same predictions as ``probability(_:)``.
    ///
    /// `base_score` is written the XGBoost 3.1+ way (`"[0.0226]"`), every tree field that loaders check is
    /// present, keys are sorted as XGBoost sorts them, and every number is a float32 or an integer.
    /// - Parameter attributes: Stored under `learner.attributes`, where XGBoost keeps string attributes (for
    ///   example `vigil_calibration`, a ``Calibration/encoded`` text).
    public func xgboostJSON(attributes: [String: String] = [:]) -> [UInt8] {
        var out = JSONWriter()
        let featureCount = self.featureNames.count
        out.raw(#"{"learner":{"attributes":{"#)
        for (index, key) in attributes.keys.sorted().enumerated() {
            out.raw(index == 0 ? "" : ",")
            out.string(key)
            out.raw(":")
            out.string(attributes[key]!)
        }
        out.raw(#"},"feature_names":["#)
        for (index, name) in self.featureNames.enumerated() {
            out.raw(index == 0 ? "" : ",")
            out.string(name)
        }
        out.raw(#"],"feature_types":["#)
        out.raw(Array(repeating: #""float""#, count: featureCount).joined(separator: ","))
        out.raw(#"],"gradient_booster":{"model":{"cats":{"enc":[],"feature_segments":[],"sorted_idx":[]},"#)
        out.raw(#""gbtree_model_param":{"num_parallel_tree":"1","num_trees":"\#(self.trees.count)"},"#)
        out.raw(#""iteration_indptr":["#)
        out.raw((0...self.trees.count).map(String.init).joined(separator: ","))
        out.raw(#"],"tree_info":["#)
        out.raw(Array(repeating: "0", count: self.trees.count).joined(separator: ","))
        out.raw(#"],"trees":["#)
        for (index, tree) in self.trees.enumerated() {
            out.raw(index == 0 ? "" : ",")
            Self.write(tree, id: index, featureCount: featureCount, to: &out)
        }
        out.raw(#"]},"name":"gbtree"},"learner_model_param":{"base_score":"[\#(Self.text(self.baseScore))]","#)
        out.raw(#""boost_from_average":"1","num_class":"0","num_feature":"\#(featureCount)","num_target":"1"},"#)
        out.raw(#""objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"1"}}},"#)
        out.raw(#""version":[3,1,0]}"#)
        return out.bytes
    }

    private static func write(_ tree: Tree, id: Int, featureCount: Int, to out: inout JSONWriter) {
        let isLeaf = tree.leftChild.map { $0 < 0 }
        out.raw(#"{"base_weights":"#)
        out.floats(tree.baseWeight)
        out.raw(#","categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"#)
        out.raw(#""default_left":"#)
        out.integers(tree.defaultLeft.map { $0 ? 1 : 0 })
        out.raw(#","id":\#(id),"left_children":"#)
        out.integers(tree.leftChild.map(Int.init))
        out.raw(#","loss_changes":"#)
        out.floats(tree.lossChange)
        out.raw(#","parents":"#)
        // XGBoost marks the root's parent with INT32_MAX.
        out.integers(tree.parent.map { $0 < 0 ? Int(Int32.max) : Int($0) })
        out.raw(#","right_children":"#)
        out.integers(tree.rightChild.map(Int.init))
        out.raw(#","split_conditions":"#)
        out.floats(tree.condition)
        out.raw(#","split_indices":"#)
        out.integers(tree.nodeCount == 0 ? [] : (0..<tree.nodeCount).map { isLeaf[$0] ? 0 : Int(tree.feature[$0]) })
        out.raw(#","split_type":"#)
        out.integers([Int](repeating: 0, count: tree.nodeCount))
        out.raw(#","sum_hessian":"#)
        out.floats(tree.sumHessian)
        out.raw(#","tree_param":{"num_deleted":"0","num_feature":"\#(featureCount)","#)
        out.raw(#""num_nodes":"\#(tree.nodeCount)","size_leaf_vector":"1"}}"#)
    }
}

/// Appends JSON text to a byte buffer.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    mutating func raw(_ text: String) {
        self.bytes.append(contentsOf: text.utf8)
    }

    /// A JSON string literal, escaping quotes, backslashes and control characters.
    mutating func string(_ text: String) {
        self.bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.raw("\\\"")
            case UInt8(ascii: "\\"): self.raw("\\\\")
            case UInt8(ascii: "\n"): self.raw("\\n")
            case UInt8(ascii: "\r"): self.raw("\\r")
            case UInt8(ascii: "\t"): self.raw("\\t")
            case 0..<0x20:
                let hex = String(byte, radix: 16)
                self.raw("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    mutating func integers(_ values: [Int]) {
        self.raw("[" + values.map(String.init).joined(separator: ",") + "]")
    }

    /// Finite float32 values in their shortest round-trip form, which is valid JSON (`0.1`, `1e-05`).
    mutating func floats(_ values: [Float]) {
        self.raw("[" + values.map { TrainedModel.text($0) }.joined(separator: ",") + "]")
    }
}
