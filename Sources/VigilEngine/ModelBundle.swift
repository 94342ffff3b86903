import Foundation
import VigilDomain
import VigilFeatures
public import VigilTraining
public import VigilTrees

/// A loaded tree model plus how its inputs map onto Vigil's feature vector.
public struct ModelBundle: Sendable {
    public let ensemble: TreeEnsemble
    /// A stable name for this exact model file, reported with every score.
    public let version: String
    /// For each model input, the index of the Vigil feature that feeds it.
    let inputs: [Int]
    /// Maps the model's probability to a calibrated one (from the file's `vigil_calibration` attribute), if any.
    public let calibration: Calibration?

    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Loads an XGBoost JSON model. A model with feature names is matched by name; one without must
    /// take exactly Vigil's feature vector in order.
    public init(xgboostJSON bytes: [UInt8], version: String? = nil) throws(LoadError) {
        let ensemble: TreeEnsemble
        do {
            ensemble = try TreeEnsemble(xgboostJSON: bytes)
        } catch {
            throw LoadError(message: "invalid model: \(error)")
        }
        var inputs: [Int] = []
        if ensemble.featureNames.isEmpty {
            guard ensemble.featureCount == Feature.count else {
                throw LoadError(
                    message: "the model has \(ensemble.featureCount) unnamed features but Vigil computes \(Feature.count); save the model with Vigil's feature names"
                )
            }
            inputs = Array(0..<Feature.count)
        } else {
            for name in ensemble.featureNames {
                guard let feature = Feature(name: name) else {
                    throw LoadError(message: "the model uses feature '\(name)', which Vigil does not compute (see `vigil features list`)")
                }
                inputs.append(feature.rawValue)
            }
        }
        if let text = ensemble.attributes["vigil_calibration"] {
            do {
                calibration = try Calibration(encoded: text)
            } catch {
                throw LoadError(message: "the model's vigil_calibration attribute is invalid: \(error)")
            }
        } else {
            calibration = nil
        }
        self.ensemble = ensemble
        self.inputs = inputs
        self.version = version ?? "xgb-" + Hex.encode(FNV1a.hash(bytes))
    }

    /// The probability the score is made from: calibrated when the model carries a calibration.
    public func calibrated(_ probability: Double) -> Double { calibration?.apply(probability) ?? probability }

    /// The model's string attributes (the ensemble's `learner.attributes`): `vigil_calibration`,
    /// `vigil_training_profile`, and whatever else the file carries.
    public var attributes: [String: String] { ensemble.attributes }

    /// Whether the model answers the same for every payment: every tree a single leaf. `vigil model deploy` and a
    /// server loading a deployed model refuse it (issue 14: a model trained on no positives came out so).
    public var isConstant: Bool { ensemble.nodeCount == ensemble.treeCount }

    /// The calibrated probability for a Vigil feature vector (``Feature`` order), without explanations: what a
    /// challenger computes in the shadow.
    /// - Performance: No allocation for up to 128 model inputs; the cost of ``TreeEnsemble/margin(_:)``.
    public func probability(_ features: [Double]) -> Double {
        let margin = withUnsafeTemporaryAllocation(of: Float.self, capacity: ensemble.featureCount) { row in
            for (i, source) in inputs.enumerated() { row[i] = Float(features[source]) }
            return ensemble.margin(UnsafeBufferPointer(row))
        }
        return calibrated(1 / (1 + exp(-margin)))
    }

    /// Maps a (calibrated) probability to 0–999, monotone non-decreasing, on a log scale: from 0.1% up, 250 points per
    /// factor of ten (0.1% → 250, 1% → 500, 10% → 750, 100% → 999), where thresholds and rules live; below it, 50
    /// points per factor of ten down to 0.000001% → 0 (0.01% → 200, 0.001% → 150). Fraud is rare; a linear scale would
    /// crowd almost every payment into the first few points and lose the ranking that matters. The lower range keeps
    /// the order among the many payments a well-calibrated model puts far below 0.1%: a floor at 0.01% (the scale
    /// before issue 14) gave most of them score 0, a flat block that erased their ranking.
    public static func score(probability: Double) -> Int {
        guard !probability.isNaN else { return 999 }
        guard probability > 0 else { return 0 }
        let decades = log10(probability)
        let points = (decades >= -3 ? 250 * (decades + 4) : 250 + 50 * (decades + 3)).rounded(.down)
        return Int(min(999, max(0, points)))
    }

    /// The model shipped inside the binary (see `scripts/train_bundled_model.py`).
    public static func bundled() throws(LoadError) -> ModelBundle {
        try ModelBundle(xgboostJSON: try bundledBytes())
    }

    /// The bundled model's XGBoost JSON, as shipped.
    public static func bundledBytes() throws(LoadError) -> [UInt8] {
        guard let url = Bundle.module.url(forResource: "model", withExtension: "json"),
              let data = try? Data(contentsOf: url)
        else { throw LoadError(message: "the bundled model is missing from the build") }
        return Array(data)
    }

    /// Loads a model file from disk.
    public static func load(path: String) throws(LoadError) -> ModelBundle {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(message: "cannot read model file \(path)")
        }
        return try ModelBundle(xgboostJSON: Array(data))
    }
}
