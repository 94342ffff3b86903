import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilOffline
import VigilTraining

extension TrainCommand {
    /// The training profile stored with the model: the validation rows' features and the scores the engine will serve
    /// for them (the calibrated probability mapped to 0–999), for drift monitoring (docs/monitoring.md).
    static func profile(_ validation: FeatureTable, probabilities: [Double], calibration: Calibration) -> TrainingProfile {
        TrainingProfile(
            featureNames: validation.featureNames, values: validation.values,
            scores: probabilities.map {
                ScoringEngine<InMemoryFeatureStore, InMemoryEventLog, DuplicateIndex>.score(probability: calibration.apply($0))
            }
        )
    }
}
