import Testing
import VigilTraining
import VigilTrees

struct TrainingProfileTests {
    @Test func psiMatchesAHandComputedValue() {
        // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5)
        let psi = PopulationStability.index(expected: [0.5, 0.5], actual: [0.25, 0.75])
        #expect(abs(psi - 0.274_653_072_167) < 1e-9)
        #expect(PopulationStability.index(expected: [0.2, 0.3, 0.5], actual: [0.2, 0.3, 0.5]) == 0)
    }

    @Test func anEmptyBinCountsAsEpsilon() {
        // The second bin is empty in training: it counts as 1e-4, so the term is (0.5 − 1e-4)·ln(0.5 / 1e-4).
        let psi = PopulationStability.index(expected: [1, 0], actual: [0.5, 0.5])
        #expect(abs(psi - 4.604_318_466_669) < 1e-9)
        // Empty on both sides adds nothing.
        #expect(PopulationStability.index(expected: [1, 0], actual: [1, 0]) == 0)
        #expect(PopulationStability.epsilon == 1e-4)
    }

    @Test func countsBecomeProportionsAndNothingCountedIsNoFigure() {
        #expect(PopulationStability.index(expected: [0.5, 0.5], counts: [0, 0]) == nil)
        let psi = PopulationStability.index(expected: [0.5, 0.5], counts: [1, 3])!
        #expect(abs(psi - 0.274_653_072_167) < 1e-9)
    }

    @Test(arguments: [(0.0, PopulationStability.Band.stable), (0.0999, .stable), (0.1, .moderate), (0.2499, .moderate), (0.25, .significant), (3, .significant)])
    func bandsAreTheUsualOnes(psi: Double, band: PopulationStability.Band) {
        #expect(PopulationStability.Band(psi) == band)
    }

    @Test func valuesFallIntoBinsByTheEdgesAtFloat() {
        let distribution = BinnedDistribution(edges: [1, 2, 3], proportions: [0.25, 0.25, 0.25, 0.25, 0])
        #expect([0.5, 1, 1.5, 2.5, 3, 100, -.infinity].map { distribution.bin($0) } == [0, 1, 1, 2, 3, 3, 0])
        #expect(distribution.bin(.nan) == 4)
        // 0.1 as a Double is below Float(0.1) as a Double; compared at Float, as the trees compare, it is the edge.
        #expect(BinnedDistribution(edges: [Float(0.1)], proportions: [0, 1, 0]).bin(0.1) == 1)
    }

    @Test func featureBinsSitAtQuantilesWithMissingValuesApart() {
        let values: [Float] = [5, 1, 2, 3, 4, .nan, 6, 7, 8, 9, 10, .nan]
        let distribution = BinnedDistribution.quantiles(of: values, bins: 5)
        #expect(distribution.edges == [3, 5, 7, 9])
        #expect(distribution.proportions == [Double](repeating: 2.0 / 12, count: 6))
    }

    @Test func aFeatureWithFewValuesGetsABinPerValue() {
        let distribution = BinnedDistribution.quantiles(of: [0, 0, 0, 0, 0, 0, 0, 1, 1, 2], bins: 5)
        #expect(distribution.edges == [1, 2])
        #expect(distribution.proportions == [0.7, 0.2, 0.1, 0])
        #expect(BinnedDistribution.quantiles(of: [.nan, .nan], bins: 10) == BinnedDistribution(edges: [], proportions: [0, 1]))
    }

    @Test func scoresFallIntoFiftyPointBins() {
        let distribution = BinnedDistribution.scores([0, 49, 50, 999])
        #expect(distribution.edges.count == 19)
        #expect(distribution.proportions[0] == 0.5)
        #expect(distribution.proportions[1] == 0.25)
        #expect(distribution.proportions[19] == 0.25)
        #expect(distribution.proportions[20] == 0)
    }

    static let profile = TrainingProfile(
        featureNames: ["request.amount_log10", "pair.new_payee"], values: [1.5, 0, 2.25, 1, 3.125, .nan, 0.1, 1], scores: [10, 600, 999, 0]
    )

    @Test func theEncodedProfileReadsBack() throws {
        #expect(try TrainingProfile(encoded: Self.profile.encoded) == Self.profile)
        #expect(Self.profile.features.map(\.name) == ["request.amount_log10", "pair.new_payee"])
        #expect(Self.profile.rows == 4)
    }

    @Test func theProfileSurvivesTheModelFile() throws {
        let set = try TrainingSet(featureNames: ["x"], rows: 4, values: [0, 1, 2, 3], labels: [0, 0, 1, 1])
        let (model, _) = try TrainedModel.train(set, parameters: TrainingParameters(maxDepth: 1, rounds: 2, earlyStoppingRounds: nil))
        let bytes = model.xgboostJSON(attributes: [TrainingProfile.attributeName: Self.profile.encoded])
        let ensemble = try TreeEnsemble(xgboostJSON: bytes)
        #expect(try TrainingProfile(encoded: try #require(ensemble.attributes[TrainingProfile.attributeName])) == Self.profile)
    }

    @Test(arguments: [
        (#"{"v":2,"rows":1,"score":{"edges":[],"p":[1,0]},"features":[]}"#, "'v' must be 1"),
        (#"{"v":1,"rows":1,"score":{"edges":[2,1],"p":[1,0,0,0]},"features":[]}"#, "'score.edges' must be finite and strictly increasing"),
        (#"{"v":1,"rows":1,"score":{"edges":[1],"p":[1,0]},"features":[]}"#, "'score.p' must hold 3 proportions (one per bin and one for missing values)"),
        (#"{"v":1,"rows":1,"score":{"edges":[],"p":[1,0]},"features":[{"edges":[],"p":[2,0]}]}"#, "'features[0].name' must be a string"),
        (#"{"v":1,"rows":1,"score":{"edges":[],"p":[1,0]},"features":[{"name":"x","edges":[],"p":[2,0]}]}"#, "'features[0].p' must hold proportions in [0, 1]"),
        ("[", nil),
    ])
    func aDamagedProfileIsRefusedNamingTheMember(text: String, message: String?) {
        #expect {
            _ = try TrainingProfile(encoded: text)
        } throws: { error in
            guard let error = error as? TrainingProfile.FormatError else { return false }
            return message.map { error.message == $0 } ?? error.message.hasPrefix("not JSON")
        }
    }
}
