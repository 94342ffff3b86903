import Foundation
import VigilEventLog
import VigilFeatures
public import VigilTraining
import VigilTrees

extension ModelBundle {
    /// The profile `vigil train` stored with the model (attribute ``TrainingProfile/attributeName``); nil for a model
    /// trained elsewhere or before profiles, which loads and scores all the same but cannot be monitored for drift.
    /// - Throws: ``TrainingProfile/FormatError`` when the attribute is there but is not a profile.
    public func trainingProfile() throws(TrainingProfile.FormatError) -> TrainingProfile? {
        guard let text = ensemble.attributes[TrainingProfile.attributeName] else { return nil }
        return try TrainingProfile(encoded: text)
    }

    /// The calibrated probability and the served score (0–999) this model gives a feature vector (in
    /// `vigil features list` order, NaN where missing), exactly as the engine computes them: what lets a logged
    /// payment be scored again by another model (`vigil model compare`), since the event keeps its features as scored.
    public func assess(features: [Double]) -> (probability: Double, score: Int) {
        let width = ensemble.featureCount
        let margin = withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { row in
            for (i, source) in inputs.enumerated() { row[i] = Float(features[source]) }
            return ensemble.margin(UnsafeBufferPointer(row))
        }
        let probability = calibrated(1 / (1 + exp(-margin)))
        return (probability, ScoringEngine<InMemoryFeatureStore, InMemoryEventLog, DuplicateIndex>.score(probability: probability))
    }
}
