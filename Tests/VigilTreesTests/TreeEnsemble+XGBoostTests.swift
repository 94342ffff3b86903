import Foundation
import Testing
import VigilTrees

@Suite struct TreeEnsembleXGBoostTests {
    /// A model that must fail to load with `code`, and a message that names the place at fault.
    struct BrokenModel: Sendable, CustomTestStringConvertible {
        var name: String
        var json: String
        var code: ModelError.Code
        var messageFragments: [String]

        init(_ name: String, _ model: TestModel, _ code: ModelError.Code, _ messageFragments: String...) {
            self.init(name, model.json, code, messageFragments)
        }

        init(_ name: String, _ json: String, _ code: ModelError.Code, _ messageFragments: [String]) {
            self.name = name
            self.json = json
            self.code = code
            self.messageFragments = messageFragments
        }

        var testDescription: String {
            self.name
        }
    }

    static func loadError(_ bytes: [UInt8]) -> ModelError? {
        do {
            _ = try TreeEnsemble(xgboostJSON: bytes)
            return nil
        } catch {
            return error
        }
    }

    static let valid = TestModel(trees: [.stump(), .twoLevel()])

    static func secondTree(_ change: (TestTree) -> TestTree) -> TestModel {
        TestModel(trees: [.stump(), change(.twoLevel())])
    }

    static let brokenModels: [BrokenModel] = [
        // Types and presence.
        BrokenModel(
            "left_children is a string",
            secondTree { $0.setting("left_children", #""1,3""#) },
            .wrongType,
            "trees[1].left_children",
            "a string"
        ),
        BrokenModel(
            "num_nodes is an array",
            secondTree { $0.setting("tree_param", #"{"num_nodes":[5]}"#) },
            .wrongType,
            "trees[1].tree_param.num_nodes",
            "an array"
        ),
        BrokenModel(
            "a threshold is a string",
            secondTree { $0.setting("split_conditions", #"[5E-1,"x",1.5E0,-2E0,5E-1]"#) },
            .wrongType,
            "trees[1].split_conditions[1]"
        ),
        BrokenModel(
            "a child index is fractional",
            secondTree { $0.setting("left_children", "[1,3.5,-1,-1,-1]") },
            .wrongType,
            "trees[1].left_children[1]",
            "3.5"
        ),
        BrokenModel(
            "trees is an object",
            valid.json.replacingOccurrences(of: #""trees":["#, with: #""trees":{"a":["#)
                .replacingOccurrences(of: #"]},"name""#, with: #"]}},"name""#),
            .wrongType,
            ["learner.gradient_booster.model.trees", "an object"]
        ),
        BrokenModel(
            "split_conditions is missing",
            secondTree { $0.removing("split_conditions") },
            .missingField,
            "trees[1].split_conditions"
        ),
        BrokenModel(
            "split_type is missing",
            secondTree { $0.removing("split_type") },
            .missingField,
            "trees[1].split_type"
        ),
        BrokenModel(
            "base_score is missing",
            valid.json.replacingOccurrences(of: #""base_score":"[5E-1]","#, with: ""),
            .missingField,
            ["learner.learner_model_param.base_score"]
        ),
        BrokenModel(
            "objective is missing",
            valid.json.replacingOccurrences(of: #""objective":{"name":"binary:logistic","#, with: #""x":{"#),
            .missingField,
            ["learner.objective"]
        ),

        // Counts.
        BrokenModel(
            "sum_hessian is short",
            secondTree { $0.setting("sum_hessian", "[6,4,2,1]") },
            .countMismatch,
            "tree 1",
            "sum_hessian",
            "4 entries",
            "num_nodes is 5"
        ),
        BrokenModel(
            "base_weights is long",
            secondTree { $0.setting("base_weights", "[0,0,0,0,0,0]") },
            .countMismatch,
            "tree 1",
            "base_weights",
            "6 entries"
        ),
        BrokenModel(
            "parents is short",
            secondTree { $0.setting("parents", "[-1,0,0,1]") },
            .countMismatch,
            "tree 1",
            "parents"
        ),
        BrokenModel(
            "num_trees is too large",
            valid.with { $0.numTrees = #""3""# },
            .countMismatch,
            "num_trees' is 3",
            "holds 2 trees"
        ),
        BrokenModel(
            "num_trees is too small",
            valid.with { $0.numTrees = #""1""# },
            .countMismatch,
            "num_trees' is 1"
        ),
        BrokenModel(
            "feature names do not match num_feature",
            valid.with { $0.featureNames = #"["amount"]"# },
            .countMismatch,
            "feature_names",
            "1 names"
        ),

        // Indices.
        BrokenModel(
            "right child out of range",
            secondTree { $0.setting("right_children", "[2,9,-1,-1,-1]") },
            .indexOutOfRange,
            "tree 1, node 1",
            "right_children is 9"
        ),
        BrokenModel(
            "negative child index",
            secondTree { $0.setting("left_children", "[-7,3,-1,-1,-1]") },
            .indexOutOfRange,
            "tree 1, node 0",
            "left_children is -7"
        ),
        BrokenModel(
            "feature index equals num_feature",
            secondTree { $0.setting("split_indices", "[0,2,0,0,0]") },
            .indexOutOfRange,
            "tree 1, node 1",
            "split_indices is 2",
            "num_feature is 2"
        ),
        BrokenModel(
            "negative feature index",
            secondTree { $0.setting("split_indices", "[-1,1,0,0,0]") },
            .indexOutOfRange,
            "tree 1, node 0",
            "split_indices is -1"
        ),

        // Shape.
        BrokenModel(
            "cycle back to the root",
            secondTree { $0.setting("left_children", "[1,0,-1,-1,-1]") },
            .invalidTree,
            "tree 1, node 1",
            "child 0",
            "cycle"
        ),
        BrokenModel(
            "node is its own child",
            secondTree { $0.setting("right_children", "[2,1,-1,-1,-1]") },
            .invalidTree,
            "tree 1, node 1",
            "cycle"
        ),
        BrokenModel(
            "orphan nodes",
            secondTree { $0.setting("left_children", "[1,-1,-1,-1,-1]").setting("right_children", "[2,-1,-1,-1,-1]") },
            .invalidTree,
            "tree 1",
            "node 3",
            "orphan",
            "num_deleted is 0"
        ),
        BrokenModel(
            "shared child",
            secondTree { $0.setting("left_children", "[1,3,3,-1,-1]").setting("right_children", "[2,4,4,-1,-1]") },
            .invalidTree,
            "tree 1",
            "node 3",
            "shared child"
        ),
        BrokenModel(
            "half leaf",
            secondTree { $0.setting("right_children", "[2,4,-1,-1,3]") },
            .invalidTree,
            "tree 1, node 4",
            "right_children is 3"
        ),
        BrokenModel(
            "parents disagree with children",
            secondTree { $0.setting("parents", "[2147483647,0,0,1,0]") },
            .invalidTree,
            "tree 1, node 4",
            "parents says 0"
        ),

        // Values.
        BrokenModel(
            "NaN threshold",
            secondTree { $0.setting("split_conditions", "[NaN,2.5E-1,1.5E0,-2E0,5E-1]") },
            .invalidValue,
            "tree 1, node 0",
            "threshold"
        ),
        BrokenModel(
            "threshold overflows float32",
            secondTree { $0.setting("split_conditions", "[5E-1,1E39,1.5E0,-2E0,5E-1]") },
            .invalidValue,
            "tree 1, node 1",
            "threshold"
        ),
        BrokenModel(
            "infinite leaf",
            secondTree { $0.setting("split_conditions", "[5E-1,2.5E-1,-Infinity,-2E0,5E-1]") },
            .invalidValue,
            "tree 1, leaf 2"
        ),
        BrokenModel(
            "negative cover",
            secondTree { $0.setting("sum_hessian", "[6,4,2,-1,3]") },
            .invalidValue,
            "tree 1, node 3",
            "sum_hessian"
        ),
        BrokenModel(
            "default_left is 2",
            secondTree { $0.setting("default_left", "[0,2,0,0,0]") },
            .invalidValue,
            "trees[1].default_left[1]"
        ),
        BrokenModel(
            "no nodes",
            secondTree { $0.setting("tree_param", #"{"num_nodes":"0"}"#) },
            .invalidValue,
            "tree 1",
            "num_nodes"
        ),
        BrokenModel(
            "base_score of 1",
            valid.with { $0.baseScore = #""[1E0]""# },
            .invalidValue,
            "base_score",
            "[1E0]"
        ),
        BrokenModel(
            "base_score of 0",
            valid.with { $0.baseScore = #""0E0""# },
            .invalidValue,
            "base_score"
        ),
        BrokenModel(
            "base_score is not a number",
            valid.with { $0.baseScore = #""[half]""# },
            .invalidValue,
            "base_score"
        ),
        BrokenModel(
            "num_feature is not an integer",
            valid.with { $0.numFeature = #""many""# },
            .invalidValue,
            "num_feature"
        ),

        // Unsupported models.
        BrokenModel(
            "multi-class objective",
            valid.with { $0.objective = #""multi:softprob""# },
            .unsupportedObjective,
            "multi:softprob",
            "binary:logistic"
        ),
        BrokenModel(
            "regression objective",
            valid.with { $0.objective = #""reg:squarederror""# },
            .unsupportedObjective,
            "reg:squarederror"
        ),
        BrokenModel(
            "categorical split",
            secondTree { $0.setting("split_type", "[0,1,0,0,0]") },
            .unsupportedSplit,
            "tree 1, node 1",
            "split_type is 1",
            "categorical"
        ),
        BrokenModel(
            "three classes",
            valid.with { $0.numClass = #""3""# },
            .unsupportedModel,
            "num_class",
            "3"
        ),
        BrokenModel(
            "two base scores",
            valid.with { $0.baseScore = #""[5E-1,5E-1]""# },
            .unsupportedModel,
            "base_score",
            "2 values"
        ),
        BrokenModel("dart booster", valid.with { $0.boosterName = #""dart""# }, .unsupportedModel, "dart"),
        BrokenModel(
            "second output group",
            valid.json.replacingOccurrences(of: #""tree_info":[0,0]"#, with: #""tree_info":[0,1]"#),
            .unsupportedModel,
            ["tree_info[1]"]
        ),
    ]

    @Test func theBaseModelOfTheBrokenCasesLoads() throws {
        let model = try TreeEnsemble(xgboostJSON: Self.valid.bytes)
        #expect(model.treeCount == 2)
        #expect(Self.brokenModels.allSatisfy { $0.json != Self.valid.json })
    }

    @Test(arguments: brokenModels)
    func brokenModelIsRejected(_ broken: BrokenModel) throws {
        let error = try #require(Self.loadError(Array(broken.json.utf8)))
        #expect(error.code == broken.code, "\(error)")
        for fragment in broken.messageFragments {
            #expect(error.message.contains(fragment), "\(error.message)")
        }
        #expect(error.byteOffset == nil)
    }

    @Test func truncatedFixtureIsMalformedJSONAtTheEnd() throws {
        let bytes = try Fixtures.bytes("model.json")
        for length in [0, 1, 15, 1000, 4567, bytes.count / 2, bytes.count - 2, bytes.count - 1] {
            let error = try #require(Self.loadError(Array(bytes[..<length])), "length \(length)")
            #expect(error.code == .malformedJSON)
            #expect(error.byteOffset == length)
            #expect(error.message.contains("byte \(length)"))
        }
    }

    /// Every proper prefix of a model is invalid JSON, and the parser notices exactly where the bytes run out.
    @Test func everyPrefixOfASmallModelIsMalformedJSON() throws {
        let bytes = Self.valid.bytes
        #expect(bytes.last == UInt8(ascii: "}"))
        for length in 0..<bytes.count {
            let error = try #require(Self.loadError(Array(bytes[..<length])), "length \(length)")
            #expect(error.code == .malformedJSON, "length \(length)")
            #expect(error.byteOffset == length, "length \(length): \(error.message)")
        }
    }

    @Test(arguments: [
        (#"{"learner": tru}"#, 15),
        (#"{"learner": {}} x"#, 16),
        (#"{"learner": [1,]}"#, 15),
        (#"{"learner" 1}"#, 11),
        (#"{"a": 01}"#, 7),
        (#"{"a": "\q"}"#, 8),
        ("{\"a\": \"\u{01}\"}", 7),
        (#"{"a": -}"#, 7),
    ])
    func invalidJSONReportsTheOffendingByte(json: String, offset: Int) throws {
        let error = try #require(Self.loadError(Array(json.utf8)))
        #expect(error.code == .malformedJSON)
        #expect(error.byteOffset == offset, "\(error.message)")
    }

    @Test func validJSONThatIsNotAModelIsAMissingField() throws {
        let error = try #require(Self.loadError(Array("{}".utf8)))
        #expect(error.code == .missingField)
        #expect(error.message.contains("'learner'"))
        let array = try #require(Self.loadError(Array("[]".utf8)))
        #expect(array.code == .wrongType)
    }
}
