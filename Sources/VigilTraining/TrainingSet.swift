/// Labelled rows to train or validate on: a row-major matrix of float32 features and a 0/1 label per row.
public struct TrainingSet: Sendable {
    /// One name per column, written into the model so that callers can match columns by name.
    public let featureNames: [String]
    /// The number of rows.
    public let rows: Int
    /// `rows × featureNames.count` values, row after row; NaN is a missing value.
    public let values: [Float]
    /// One label per row, 0 or 1.
    public let labels: [Float]

    /// The number of features (columns).
    public var featureCount: Int {
        self.featureNames.count
    }

    /// - Throws: ``TrainingError/Code/invalidData`` when the counts disagree, a label is not 0 or 1, or a value
    ///   is infinite (a model's thresholds must be finite, so an infinite value could not be split on).
    public init(featureNames: [String], rows: Int, values: [Float], labels: [Float]) throws(TrainingError) {
        guard !featureNames.isEmpty else {
            throw TrainingError(code: .invalidData, message: "a training set needs at least one feature")
        }
        guard rows >= 0, values.count == rows * featureNames.count else {
            throw TrainingError(
                code: .invalidData,
                message: "\(values.count) values for \(rows) rows of \(featureNames.count) features; "
                    + "expected \(max(rows, 0) * featureNames.count)"
            )
        }
        guard labels.count == rows else {
            throw TrainingError(code: .invalidData, message: "\(labels.count) labels for \(rows) rows")
        }
        if let row = labels.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw TrainingError(code: .invalidData, message: "row \(row): the label is \(labels[row]); expected 0 or 1")
        }
        if let index = values.firstIndex(where: { $0.isInfinite }) {
            throw TrainingError(
                code: .invalidData,
                message: "row \(index / featureNames.count), feature '\(featureNames[index % featureNames.count])': "
                    + "the value is infinite; use NaN for a missing value"
            )
        }
        self.featureNames = featureNames
        self.rows = rows
        self.values = values
        self.labels = labels
    }
}
