import VigilJSON

/// The parts of an XGBoost JSON model that prediction needs, read and type-checked but not yet checked as trees.
///
/// The format is what `Booster.save_model("m.json")` writes for a `gbtree` booster. Only the
/// `binary:logistic` objective with a single output is accepted.
struct XGBoostModel {
    /// `learner.learner_model_param.num_feature`.
    var featureCount: Int
    /// `learner.feature_names`, empty when the model was trained without names.
    var featureNames: [String]
    /// The prior probability from `base_score`, in either of its encodings.
    var baseScore: Double
    /// `learner.attributes`: the string key-value pairs `Booster.set_attr` stores; empty when absent.
    var attributes: [String: String]
    var trees: [XGBoostTree]

    init(document: JSONValue) throws(ModelError) {
        let learner = try JSONField(root: document).member("learner")

        let objective = try learner.member("objective").member("name")
        let objectiveName = try objective.string()
        guard objectiveName == "binary:logistic" else {
            throw ModelError(
                code: .unsupportedObjective,
                message: "'\(objective.path)' is \"\(objectiveName)\"; only \"binary:logistic\" is supported"
            )
        }

        let parameters = try learner.member("learner_model_param")
        let numFeature = try parameters.member("num_feature")
        self.featureCount = try numFeature.integerScalar()
        guard (0...Int(Int32.max)).contains(self.featureCount) else {
            throw ModelError(code: .invalidValue, message: "'\(numFeature.path)' is \(self.featureCount), out of range")
        }
        if let numClass = try parameters.optionalMember("num_class") {
            let classes = try numClass.integerScalar()
            guard classes == 0 || classes == 1 else {
                throw ModelError(
                    code: .unsupportedModel,
                    message: "'\(numClass.path)' is \(classes); only single-output models (0 or 1) are supported"
                )
            }
        }
        if let numTarget = try parameters.optionalMember("num_target") {
            let targets = try numTarget.integerScalar()
            guard targets == 1 else {
                throw ModelError(
                    code: .unsupportedModel,
                    message: "'\(numTarget.path)' is \(targets); only single-target models are supported"
                )
            }
        }
        self.baseScore = try Self.baseScore(try parameters.member("base_score"))

        self.featureNames = try learner.optionalMember("feature_names")?.stringArray() ?? []
        guard self.featureNames.isEmpty || self.featureNames.count == self.featureCount else {
            throw ModelError(
                code: .countMismatch,
                message: "'learner.feature_names' has \(self.featureNames.count) names, "
                    + "but num_feature is \(self.featureCount)"
            )
        }

        self.attributes = try Self.attributes(try learner.optionalMember("attributes"))

        let booster = try learner.member("gradient_booster")
        let boosterName = try booster.member("name")
        let boosterKind = try boosterName.string()
        guard boosterKind == "gbtree" else {
            throw ModelError(
                code: .unsupportedModel,
                message: "'\(boosterName.path)' is \"\(boosterKind)\"; only \"gbtree\" is supported"
            )
        }
        let model = try booster.member("model")
        let numTrees = try model.member("gbtree_model_param").member("num_trees")
        let declaredTreeCount = try numTrees.integerScalar()
        let trees = try model.member("trees")
        let treeValues = try trees.array()
        guard treeValues.count == declaredTreeCount else {
            throw ModelError(
                code: .countMismatch,
                message: "'\(numTrees.path)' is \(declaredTreeCount), but '\(trees.path)' holds \(treeValues.count) trees"
            )
        }
        if let treeInfo = try model.optionalMember("tree_info") {
            let groups = try treeInfo.integerArray()
            if let tree = groups.firstIndex(where: { $0 != 0 }) {
                throw ModelError(
                    code: .unsupportedModel,
                    message: "'\(treeInfo.path)[\(tree)]' is \(groups[tree]): tree \(tree) belongs to another output "
                        + "group, but binary:logistic has a single output"
                )
            }
        }

        var parsedTrees: [XGBoostTree] = []
        parsedTrees.reserveCapacity(treeValues.count)
        for index in treeValues.indices {
            let tree = JSONField(value: treeValues[index], path: "\(trees.path)[\(index)]")
            parsedTrees.append(try XGBoostTree(tree, index: index))
        }
        self.trees = parsedTrees
    }

    /// Reads `learner.attributes`, an object whose values XGBoost keeps as strings (the parser has already
    /// refused a key that appears twice).
    static func attributes(_ field: JSONField?) throws(ModelError) -> [String: String] {
        guard let field else {
            return [:]
        }
        guard case .object(let members) = field.value else {
            throw ModelError(
                code: .wrongType,
                message: "'\(field.path)' is \(field.value.kindDescription), expected an object"
            )
        }
        var attributes: [String: String] = [:]
        for member in members {
            let value = JSONField(value: member.value, path: "\(field.path).\(member.key)")
            attributes[member.key] = try value.string()
        }
        return attributes
    }

    /// Decodes `base_score`: `"5E-1"` before XGBoost 3.1, `"[5E-1]"` (one value per target) from 3.1 on.
    static func baseScore(_ field: JSONField) throws(ModelError) -> Double {
        let text = try field.scalarText()
        var body = Substring(text).trimmingSpaces()
        if body.first == "[" && body.last == "]" {
            body = body.dropFirst().dropLast()
            let values = body.split(separator: ",", omittingEmptySubsequences: false)
            guard values.count == 1 else {
                throw ModelError(
                    code: .unsupportedModel,
                    message: "'\(field.path)' is \"\(text)\" with \(values.count) values; "
                        + "only single-target models are supported"
                )
            }
            body = values[0].trimmingSpaces()
        }
        guard let score = Double(body), score > 0, score < 1 else {
            throw ModelError(
                code: .invalidValue,
                message: "'\(field.path)' is \"\(text)\"; binary:logistic needs a probability strictly between 0 and 1"
            )
        }
        return score
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = self.firstIndex(where: { !isSpace($0) }) else {
            return self[self.endIndex...]
        }
        let last = self.lastIndex(where: { !isSpace($0) })!
        return self[first...last]
    }
}
