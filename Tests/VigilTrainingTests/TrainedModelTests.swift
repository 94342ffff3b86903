import Testing
import VigilTraining
import VigilTrees

@Suite struct TrainedModelTests {
    static let train = SyntheticData.make(rows: 4_000, seed: 1)
    static let validation = SyntheticData.make(rows: 1_500, seed: 2)
    static let quick = TrainingParameters(maxDepth: 4, learningRate: 0.3, rounds: 30, earlyStoppingRounds: nil)

    static let trained = Result { () throws -> (TrainedModel, TrainingReport) in
        try TrainedModel.train(Self.train, validation: Self.validation, parameters: Self.quick)
    }

    @Test func trainingLossFallsAndHeldOutAUCIsHigh() throws {
        let (model, report) = try Self.trained.get()
        #expect(report.rounds == 30)
        #expect(report.trainLogLoss.count == 30 && report.validationLogLoss.count == 30)
        #expect(report.trainLogLoss.last! < report.trainLogLoss.first! * 0.6)
        for (earlier, later) in zip(report.trainLogLoss, report.trainLogLoss.dropFirst()) {
            #expect(later <= earlier + 1e-9)
        }
        let auc = Metrics.rocAUC(scores: model.probabilities(Self.validation), labels: Self.validation.labels)
        // With 5% of labels flipped, a perfect model's AUC is about 0.883 (ties within each region count half).
        #expect(auc > 0.86, "AUC \(auc)")
        #expect(model.treeCount == 30)
    }

    @Test func theSameSeedGivesIdenticalBytes() throws {
        var parameters = Self.quick
        parameters.subsample = 0.7
        parameters.colsampleByTree = 0.75
        parameters.seed = 7
        let first = try TrainedModel.train(Self.train, parameters: parameters).0.xgboostJSON()
        let second = try TrainedModel.train(Self.train, parameters: parameters).0.xgboostJSON()
        #expect(first == second)
        parameters.seed = 8
        let other = try TrainedModel.train(Self.train, parameters: parameters).0.xgboostJSON()
        #expect(first != other)
    }

    @Test func withoutSamplingTheSeedDoesNotMatter() throws {
        var parameters = Self.quick
        parameters.rounds = 5
        let first = try TrainedModel.train(Self.train, parameters: parameters).0
        parameters.seed = 99
        #expect(try TrainedModel.train(Self.train, parameters: parameters).0 == first)
    }

    @Test func earlyStoppingStopsAndKeepsTheBestRound() throws {
        // Deep trees and a high learning rate on noisy labels overfit within a few rounds.
        let noisy = SyntheticData.make(rows: 1_000, seed: 3, noise: 0.3)
        let noisyValidation = SyntheticData.make(rows: 1_000, seed: 4, noise: 0.3)
        let parameters = TrainingParameters(
            maxDepth: 8, learningRate: 0.8, rounds: 200, minChildWeight: 0, earlyStoppingRounds: 5
        )
        let (model, report) = try TrainedModel.train(noisy, validation: noisyValidation, parameters: parameters)
        #expect(report.rounds < 200)
        #expect(report.rounds == report.bestIteration + 1 + 5)
        #expect(model.treeCount == report.bestIteration + 1)
        let best = report.validationLogLoss[report.bestIteration]
        #expect(report.validationLogLoss.allSatisfy { $0 >= best })
        let loss = Metrics.logLoss(probabilities: model.probabilities(noisyValidation), labels: noisyValidation.labels)
        #expect(abs(loss - best) < 1e-9)
    }

    /// Missing x0 behaves like a large x0 (label 1), so every split on x0 must send missing values right.
    @Test(arguments: [false, true])
    func missingValuesLearnTheirDirection(missingLikeHigh: Bool) throws {
        var generator = TestGenerator(seed: 5)
        var values: [Float] = []
        var labels: [Float] = []
        for _ in 0..<2_000 {
            let missing = generator.unit() < 0.3
            let x0 = Float(generator.unit() * 2 - 1)
            values += [missing ? .nan : x0, Float(generator.unit())]
            labels.append(missing ? (missingLikeHigh ? 1 : 0) : (x0 > 0 ? 1 : 0))
        }
        let set = try TrainingSet(featureNames: ["x0", "noise"], rows: 2_000, values: values, labels: labels)
        let (model, _) = try TrainedModel.train(set, parameters: TrainingParameters(maxDepth: 1, rounds: 3))
        let ensemble = try TreeEnsemble(xgboostJSON: model.xgboostJSON())
        let missingRow: [Float] = [.nan, 0.5]
        let expected: Double = missingLikeHigh ? 1 : 0
        let lowRow: [Float] = [-0.5, 0.5]
        let highRow: [Float] = [0.5, 0.5]
        #expect(model.probability(lowRow) < 0.5 && model.probability(highRow) > 0.5)
        #expect(abs(model.probability(missingRow) - expected) < 0.5)
        #expect(missingRow.withUnsafeBufferPointer { ensemble.probability($0) } == model.probability(missingRow))
        // Depth-1 trees: the root splits x0 and its default side is the side missing values belong to.
        let text = String(decoding: model.xgboostJSON(), as: UTF8.self)
        #expect(text.contains(#""default_left":[\#(missingLikeHigh ? 0 : 1),0,0]"#))
    }

    @Test func theExportLoadsInVigilTreesWithTheSameProbabilities() throws {
        let (model, _) = try Self.trained.get()
        let attributes = ["vigil_calibration": #"{"method":"isotonic","x":[0.5],"y":[0.5]}"#, "note": "a \"quoted\"\n"]
        let ensemble = try TreeEnsemble(xgboostJSON: model.xgboostJSON(attributes: attributes))
        #expect(ensemble.attributes == attributes)
        #expect(ensemble.featureNames == SyntheticData.featureNames)
        #expect(ensemble.treeCount == model.treeCount)
        for set in [Self.train, Self.validation] {
            for row in 0..<set.rows {
                let values = SyntheticData.row(set, row)
                let loaded = values.withUnsafeBufferPointer { ensemble.probability($0) }
                #expect(abs(loaded - model.probability(values)) <= 1e-6)
            }
        }
    }

    @Test func theExportHasTheXGBoostFields() throws {
        let (model, _) = try Self.trained.get()
        let text = String(decoding: model.xgboostJSON(), as: UTF8.self)
        for fragment in [
            #""base_score":"[0."#, #""objective":{"name":"binary:logistic","reg_loss_param""#,
            #""feature_types":["float","float","float","float"]"#, #""num_trees":"30""#,
            #""num_deleted":"0""#, #""size_leaf_vector":"1""#, #""parents":[2147483647,"#, #""version":[3,1,0]"#,
        ] {
            #expect(text.contains(fragment), "\(fragment)")
        }
    }

    @Test func aTreeThatCannotSplitIsALeaf() throws {
        let set = try TrainingSet(featureNames: ["x"], rows: 4, values: [1, 1, 1, 1], labels: [0, 1, 0, 0])
        let (model, _) = try TrainedModel.train(set, parameters: TrainingParameters(rounds: 2))
        let ensemble = try TreeEnsemble(xgboostJSON: model.xgboostJSON())
        #expect(ensemble.nodeCount == 2)
        // The pointer must not escape `withUnsafeBufferPointer`: the array is freed once the closure returns.
        let probability = [Float(1)].withUnsafeBufferPointer { ensemble.probability($0) }
        #expect(abs(probability - 0.25) < 1e-6)
    }

    @Test func badInputIsAnError() throws {
        #expect(throws: TrainingError.self) {
            try TrainingSet(featureNames: ["x"], rows: 2, values: [1, 2], labels: [0, 2])
        }
        #expect(throws: TrainingError.self) {
            try TrainingSet(featureNames: ["x"], rows: 2, values: [1], labels: [0, 1])
        }
        #expect(throws: TrainingError.self) {
            try TrainingSet(featureNames: ["x"], rows: 1, values: [.infinity], labels: [0])
        }
        let set = try TrainingSet(featureNames: ["x"], rows: 1, values: [1], labels: [0])
        let other = try TrainingSet(featureNames: ["y"], rows: 1, values: [1], labels: [0])
        #expect(throws: TrainingError.self) { try TrainedModel.train(set, validation: other) }
        #expect(throws: TrainingError.self) {
            try TrainedModel.train(set, parameters: TrainingParameters(subsample: 0))
        }
    }
}
