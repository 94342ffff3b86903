import Testing
import VigilTrees

@Suite struct TreeEnsembleTests {
    // MARK: Parity with XGBoost

    @Test func fixtureModelShape() throws {
        let model = try Fixtures.model.get()
        #expect(model.featureCount == 50)
        #expect(model.treeCount == 300)
        #expect(model.nodeCount == 22_794)
        #expect(model.featureNames.isEmpty)
        // base_score "[2.26E-2]" is a probability; the margin starts at its logit.
        #expect(abs(model.baseMargin - (-3.766_946_078_557_814_4)) < 1e-12)
    }

    @Test func probabilityMatchesXGBoostOnEveryParityRow() throws {
        let model = try Fixtures.model.get()
        let rows = try Fixtures.parityRows.get()
        #expect(rows.count == 602)
        for row in rows {
            let probability = model.probability(row.features)
            #expect(abs(probability - row.probability) <= 1e-6, "parity.csv line \(row.line)")
        }
    }

    @Test func marginMatchesXGBoostOnEveryParityRow() throws {
        let model = try Fixtures.model.get()
        for row in try Fixtures.parityRows.get() {
            // XGBoost adds 300 float32 leaves in float32; this sums in Double, so allow float32 rounding.
            let tolerance = 2e-5 * max(1, abs(row.margin))
            #expect(abs(model.margin(row.features) - row.margin) <= tolerance, "parity.csv line \(row.line)")
        }
    }

    @Test func parityRowsIncludeMissingValuesAndAnAllMissingRow() throws {
        let rows = try Fixtures.parityRows.get()
        #expect(rows.contains { row in row.features.allSatisfy(\.isNaN) })
        #expect(rows.filter { row in row.features.contains(where: \.isNaN) }.count > 10)
    }

    // MARK: Routing on a hand-written stump

    @Test(arguments: [
        // x, default_left, leaf reached
        (Float(0.25), true, -1.0),
        (Float(-3), true, -1.0),
        (Float(0.7), true, 2.0),  // on the threshold: not less, so right
        (Float(0.7).nextDown, true, -1.0),
        (Float(9), true, 2.0),
        (Float.nan, true, -1.0),
        (Float.nan, false, 2.0),
        (Float.infinity, true, 2.0),
        (-Float.infinity, false, -1.0),
    ])
    func stumpRouting(x: Float, defaultLeft: Bool, leaf: Double) throws {
        let model = try TreeEnsemble(
            xgboostJSON: TestModel(trees: [.stump(defaultLeft: defaultLeft)]).with { $0.baseScore = "\"5E-1\"" }.bytes
        )
        #expect(model.baseMargin == 0)
        #expect(model.margin([x, 0]) == leaf)
    }

    /// The threshold "7E-1" is the float32 0.699999988; compared as Double, x = 0.7f would go left.
    @Test func comparisonIsAtFloat32() throws {
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: [.stump(threshold: "7E-1")]).bytes)
        #expect(model.margin([0.7, 0]) == 2)
        #expect(Double(Float(0.7)) < 0.7)
    }

    // MARK: base_score encodings

    @Test(arguments: [
        ("\"5E-1\"", 0.0),
        ("\"[5E-1]\"", 0.0),
        ("\"2.5E-1\"", -1.098_612_288_668_109_8),  // logit(1/4) = -ln 3
        ("\"[2.5E-1]\"", -1.098_612_288_668_109_8),
        ("\"[8E-1]\"", 1.386_294_361_119_890_6),  // logit(4/5) = ln 4
        ("\" [ 8E-1 ] \"", 1.386_294_361_119_890_6),
    ])
    func baseScoreEncodings(json: String, expectedBaseMargin: Double) throws {
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: [.stump()]).with { $0.baseScore = json }.bytes)
        #expect(abs(model.baseMargin - expectedBaseMargin) <= 1e-15)
        #expect(abs(model.margin([0, 0]) - (expectedBaseMargin - 1)) <= 1e-15)
        #expect(abs(model.margin([1, 0]) - (expectedBaseMargin + 2)) <= 1e-15)
    }

    @Test func oldAndNewBaseScoreEncodingsGiveTheSameProbability() throws {
        let old = try TreeEnsemble(xgboostJSON: TestModel(trees: [.stump()]).with { $0.baseScore = "\"1.3E-2\"" }.bytes)
        let new = try TreeEnsemble(xgboostJSON: TestModel(trees: [.stump()]).with { $0.baseScore = "\"[1.3E-2]\"" }.bytes)
        #expect(old.baseMargin == new.baseMargin)
        // sigmoid(logit(0.013) + 2) = 0.013 e^2 / (0.987 + 0.013 e^2)
        let expected = 0.013 * 7.389_056_098_930_65 / (0.987 + 0.013 * 7.389_056_098_930_65)
        #expect(abs(new.probability([1, 0]) - expected) <= 1e-15)
        #expect(abs(new.probability([0, 0]) - 0.013 / (0.013 + 0.987 * 2.718_281_828_459_045)) <= 1e-15)
    }

    // MARK: Several trees

    @Test func marginSumsEveryTree() throws {
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: [.stump(), .twoLevel(), .stump()]).bytes)
        #expect(model.treeCount == 3)
        #expect(model.nodeCount == 11)
        #expect(model.margin([0, 0]) == -1 + -2 + -1)
        #expect(model.margin([0, 0.25]) == -1 + 0.5 + -1)
        #expect(model.margin([0.6, 0]) == -1 + 1.5 + -1)
        #expect(model.margin([0.8, .nan]) == 2 + 1.5 + 2)
        #expect(model.margin([.nan, .nan]) == -1 + 1.5 + -1)
        #expect(model.margin([0.1, .nan]) == -1 + 0.5 + -1)
    }

    @Test(arguments: [
        // x0, x1, leaf reached
        (Float(-1), Float(0), -3.0),
        (-Float.leastNonzeroMagnitude, Float(9), -3.0),
        (Float(-0.0), Float(0), 1.0),  // -0 is not below 0
        (Float(0.5), Float(1), 4.0),
        (Float(0.25), Float.nan, 1.0),
        (Float(5), Float.nan, 2.0),
        (Float.nan, Float(0), 2.0),
        (Float.nan, Float.nan, 2.0),
        (Float.infinity, Float(0), 2.0),
    ])
    func unbalancedTreeWithUnorderedIdsRoutesEveryPath(x0: Float, x1: Float, leaf: Double) throws {
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: [.chain()]).bytes)
        #expect(model.nodeCount == 7)
        #expect(model.margin([x0, x1]) == leaf)
    }

    /// Prediction walks sixteen trees in lockstep and contributions eight; these counts leave full groups,
    /// partial last groups and groups of one. Lone leaves (the first tree) and trees of depth 1 to 3 share
    /// lanes, so shallow trees wait at their leaves.
    @Test(arguments: [1, 2, 7, 8, 9, 11, 15, 16, 17, 24, 33])
    func treesOfEveryDepthInLockstepGroupsAddUpTreeByTree(treeCount: Int) throws {
        let pattern: [TestTree] = [
            .leaf("3E0"), .chain(), .stump(), .leaf("-5E-1"), .twoLevel(), .chain(), .stump(defaultLeft: false),
            .leaf("2.5E-1"), .stump(), .chain(), .twoLevel(),
        ]
        let trees = (0..<treeCount).map { pattern[$0 % pattern.count] }
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: trees).bytes)
        let alone = try trees.map { tree in try TreeEnsemble(xgboostJSON: TestModel(trees: [tree]).bytes) }
        #expect(model.treeCount == treeCount)
        let rows: [[Float]] = [
            [-1, 0], [0.25, .nan], [.nan, .nan], [0.8, 0.1], [.infinity, -.infinity], [-.infinity, .infinity],
            [-0.0, 0.5],
        ]
        for row in rows {
            let treeByTree = alone.reduce(0) { sum, tree in sum + tree.margin(row) }
            #expect(model.margin(row) == treeByTree, "row \(row)")
            let (bias, contributions) = model.contributions(row)
            let byTree = alone.map { $0.contributions(row) }
            #expect(bias == byTree.reduce(0) { $0 + $1.bias }, "row \(row)")
            for feature in 0..<2 {
                let expected = byTree.reduce(0) { $0 + $1.contributions[feature] }
                #expect(abs(contributions[feature] - expected) <= 1e-12, "row \(row), feature \(feature)")
            }
        }
    }

    @Test func rowsMayBeLongerThanFeatureCount() throws {
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: [.twoLevel()]).bytes)
        #expect(model.margin([0, 0, 99, 99]) == -2)
    }

    @Test func probabilityIsTheSigmoidOfTheMargin() throws {
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: [.twoLevel()]).bytes)
        // margin -2: 1 / (1 + e^2)
        #expect(abs(model.probability([0, 0]) - 0.119_202_922_022_117_57) <= 1e-15)
        // margin 1.5: 1 / (1 + e^-1.5)
        #expect(abs(model.probability([1, 0]) - 0.817_574_476_193_643_7) <= 1e-15)
    }

    // MARK: Feature names

    @Test func featureNamesAreReadWhenPresent() throws {
        let model = try TreeEnsemble(
            xgboostJSON: TestModel(trees: [.stump()]).with { $0.featureNames = #"["amount","velocity_1h"]"# }.bytes
        )
        #expect(model.featureNames == ["amount", "velocity_1h"])
    }

    @Test func featureNamesAreEmptyWhenAbsentOrEmpty() throws {
        let absent = try TreeEnsemble(xgboostJSON: TestModel(trees: [.stump()]).bytes)
        #expect(absent.featureNames == [])
        let empty = try TreeEnsemble(xgboostJSON: TestModel(trees: [.stump()]).with { $0.featureNames = "[]" }.bytes)
        #expect(empty.featureNames == [])
    }

    @Test func featureNamesDecodeEscapes() throws {
        let model = try TreeEnsemble(
            xgboostJSON: TestModel(trees: [.stump()]).with { $0.featureNames = #"["caf\u00e9","a\"b"]"# }.bytes
        )
        #expect(model.featureNames == ["café", "a\"b"])
    }

    // MARK: Loader leniency that real files need

    @Test func boolDefaultLeftAndNumericParametersAreAccepted() throws {
        let tree = TestTree.stump().setting("default_left", "[true,false,false]")
        let model = try TreeEnsemble(
            xgboostJSON: TestModel(trees: [tree]).with {
                $0.numFeature = "2"
                $0.numTrees = "1"
            }.bytes
        )
        #expect(model.margin([.nan, 0]) == -1)
    }

    /// XGBoost's pruner leaves deleted nodes in the arrays; they are unreachable and counted in num_deleted.
    @Test func deletedNodesAreDropped() throws {
        let tree = TestTree.twoLevel()
            .setting("left_children", "[1,-1,-1,-1,-1]")
            .setting("right_children", "[2,-1,-1,-1,-1]")
            .setting(
                "tree_param",
                #"{"num_deleted":"2","num_feature":"2","num_nodes":"5","size_leaf_vector":"1"}"#
            )
            .setting("split_conditions", "[5E-1,3E0,1.5E0,-2E0,5E-1]")
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: [tree]).bytes)
        #expect(model.nodeCount == 3)
        #expect(model.margin([0, 0]) == 3)
        #expect(model.margin([1, 0]) == 1.5)

        let overcounted = tree.setting(
            "tree_param",
            #"{"num_deleted":"3","num_feature":"2","num_nodes":"5","size_leaf_vector":"1"}"#
        )
        #expect(throws: ModelError.self) { try TreeEnsemble(xgboostJSON: TestModel(trees: [overcounted]).bytes) }
    }

    @Test func emptyEnsembleGivesTheBaseMargin() throws {
        let model = try TreeEnsemble(xgboostJSON: TestModel(trees: []).with { $0.baseScore = "\"[2.5E-1]\"" }.bytes)
        #expect(model.treeCount == 0)
        #expect(abs(model.probability([0, 0]) - 0.25) <= 1e-15)
    }
}
