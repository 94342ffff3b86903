/// An error in the data or the parameters handed to the trainer.
///
/// Every error has a broad ``Code`` for programs to switch on and a ``message`` that says what is wrong and
/// where (the row, the feature or the parameter).
public struct TrainingError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A broad classification of what is wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidData
            case invalidParameter
            case featureMismatch
            case invalidCalibration
            case tooFewPositives
            case constantPredictions
        }

        private var wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// The rows are not usable: wrong counts, a label other than 0 or 1, an infinite value, no rows.
        public static let invalidData = Code(.invalidData)
        /// A ``TrainingParameters`` value is out of its range.
        public static let invalidParameter = Code(.invalidParameter)
        /// The validation set's features differ from the training set's.
        public static let featureMismatch = Code(.featureMismatch)
        /// An encoded ``Calibration`` cannot be read.
        public static let invalidCalibration = Code(.invalidCalibration)
        /// The training or validation rows hold fewer positives than ``TrainingGuardrails`` requires.
        public static let tooFewPositives = Code(.tooFewPositives)
        /// A trained model gives every validation row the same probability.
        public static let constantPredictions = Code(.constantPredictions)

        public var description: String {
            switch self.wrapped {
            case .invalidData: "invalid data"
            case .invalidParameter: "invalid parameter"
            case .featureMismatch: "feature mismatch"
            case .invalidCalibration: "invalid calibration"
            case .tooFewPositives: "too few positives"
            case .constantPredictions: "constant predictions"
            }
        }
    }

    /// What kind of problem this is.
    public var code: Code
    /// What is wrong and where.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "\(self.code): \(self.message)"
    }
}
