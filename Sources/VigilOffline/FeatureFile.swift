public import VigilDomain
public import VigilFeatures
public import VigilGateway

/// The `vigil features` file: one row per payment with its features as known before it and its label as known
/// at the cut-off. Data scientists take Vigil's features into their own tools through this file.
///
/// Columns: `paymentId, createdAt, perspective, amount, currency, fraudType, label`, then every feature by name.
/// A missing value is an empty cell; numbers are written in their shortest exact form.
public struct FeatureFileWriter {
    public static let metaColumns = ["paymentId", "createdAt", "perspective", "amount", "currency", "fraudType", "label"]
    public private(set) var text: [UInt8] = []

    public init() {
        text.append(contentsOf: (Self.metaColumns + Feature.allCases.map(\.name)).joined(separator: ",").utf8)
        text.append(10)
    }

    /// Appends one payment; `label` is the report known at the cut-off, if any.
    public mutating func append(_ request: PaymentRequest, features: [Double], label: FraudLabel?) {
        append(
            paymentId: request.paymentId, createdAt: request.createdAt, perspective: request.perspective, amount: request.amount,
            features: features.map { $0.isNaN ? nil : $0 }, fraudType: label?.fraudType, isFraud: label != nil
        )
    }

    /// Appends one payment from its parts (`vigil training-set export` has the scored event, not the request).
    /// Features beyond `features.count` are written missing (an event logged before they existed).
    public mutating func append(
        paymentId: String, createdAt: Instant, perspective: Perspective, amount: Money, features: [Double?], fraudType: FraudType?, isFraud: Bool
    ) {
        var cells = [
            csvField(paymentId), createdAt.rfc3339UTC, perspective.rawValue, amount.decimalString, amount.currency.code,
            fraudType?.rawValue ?? "", isFraud ? "1" : "0",
        ]
        for index in 0..<Feature.allCases.count {
            let value = index < features.count ? features[index] : nil
            cells.append(value.map { $0.isNaN ? "" : "\($0)" } ?? "")
        }
        text.append(contentsOf: cells.joined(separator: ",").utf8)
        text.append(10)
    }
}

/// A feature file read back for training: the feature columns are every column that is not a meta column.
public struct FeatureTable: Sendable {
    public var featureNames: [String]
    public var paymentIds: [String]
    public var createdAt: [Instant]
    public var labels: [Float]
    /// Row-major, NaN = missing.
    public var values: [Float]

    public var rows: Int { paymentIds.count }

    public static func read(_ bytes: [UInt8]) throws(FileError) -> (table: FeatureTable, summary: ReadSummary) {
        var records = CSVReader(bytes: bytes).makeIterator()
        guard let header = records.next() else { throw FileError("the feature file is empty: it needs a header row") }
        let names = header.fields
        guard let id = names.firstIndex(of: "paymentId"), let created = names.firstIndex(of: "createdAt"),
              let labelColumn = names.firstIndex(of: "label")
        else { throw FileError("the feature file needs the columns paymentId, createdAt and label") }
        let featureColumns = names.indices.filter { !FeatureFileWriter.metaColumns.contains(names[$0]) }
        guard !featureColumns.isEmpty else { throw FileError("the feature file has no feature columns") }
        var table = FeatureTable(featureNames: featureColumns.map { names[$0] }, paymentIds: [], createdAt: [], labels: [], values: [])
        var summary = ReadSummary()
        var row = [Float](repeating: .nan, count: featureColumns.count)
        rows: while let record = records.next() {
            if record.fields.count == 1, record.fields[0].isEmpty { continue }
            summary.read += 1
            guard record.fields.count == names.count else {
                summary.reject(line: record.line, reason: "expected \(names.count) cells, found \(record.fields.count)")
                continue
            }
            guard let at = Instant(rfc3339: record.fields[created]) else {
                summary.reject(line: record.line, reason: "createdAt: not an RFC 3339 time")
                continue
            }
            guard let label = Float(record.fields[labelColumn]), label == 0 || label == 1 else {
                summary.reject(line: record.line, reason: "label: must be 0 or 1")
                continue
            }
            for (slot, column) in featureColumns.enumerated() {
                let cell = record.fields[column]
                if cell.isEmpty {
                    row[slot] = .nan
                } else if let value = Float(cell), value.isFinite {
                    row[slot] = value
                } else {
                    summary.reject(line: record.line, reason: "\(names[column]): not a number")
                    continue rows
                }
            }
            table.paymentIds.append(record.fields[id])
            table.createdAt.append(at)
            table.labels.append(label)
            table.values.append(contentsOf: row)
            summary.accepted += 1
        }
        if let malformed = records.malformed {
            summary.reject(line: malformed.line, reason: "a quoted field is not closed before the end of the file")
        }
        return (table, summary)
    }
}

extension FeatureTable {
    /// Splits by time: rows created in the last `validationFraction` of the table's time span are validation.
    /// Training on the past and validating on the future is how the model will be used.
    public func splitByTime(validationFraction: Double) -> (train: FeatureTable, validation: FeatureTable) {
        guard let first = createdAt.min(), let last = createdAt.max() else { return (self, self.subset([])) }
        let boundary = first.epochMillis + Int64(Double(last.epochMillis - first.epochMillis) * (1 - validationFraction))
        let train = createdAt.indices.filter { createdAt[$0].epochMillis < boundary }
        let validation = createdAt.indices.filter { createdAt[$0].epochMillis >= boundary }
        return (subset(train), subset(validation))
    }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: [Int]) -> FeatureTable {
        let width = featureNames.count
        var values: [Float] = []
        values.reserveCapacity(indices.count * width)
        for i in indices { values.append(contentsOf: self.values[(i * width)..<((i + 1) * width)]) }
        return FeatureTable(
            featureNames: featureNames, paymentIds: indices.map { paymentIds[$0] }, createdAt: indices.map { createdAt[$0] },
            labels: indices.map { labels[$0] }, values: values
        )
    }

    /// Builds a table from a replayed history (rows created before `until`, labels known at `labelCutoff`).
    public static func replaying(
        _ rows: [HistoryRow], labels: [String: FraudLabel], until: Instant?, labelCutoff: Instant?, replay: HistoryReplay,
        reference: any ReferenceStore = InMemoryReferenceStore(), tenantOf: (HistoryRow) -> String = { _ in "" }
    ) async throws -> (table: FeatureTable, summary: HistoryReplay.Summary) {
        var table = FeatureTable(featureNames: Feature.allCases.map(\.name), paymentIds: [], createdAt: [], labels: [], values: [])
        let kept = until.map { limit in rows.filter { $0.request.createdAt < limit } } ?? rows
        let summary = try await replay.replay(kept, store: InMemoryFeatureStore(), reference: reference, tenantOf: tenantOf) { row, _, features in
            let label = labels[row.request.paymentId].map { labelCutoff == nil || $0.reportedAt <= labelCutoff! } ?? false
            table.paymentIds.append(row.request.paymentId)
            table.createdAt.append(row.request.createdAt)
            table.labels.append(label ? 1 : 0)
            table.values.append(contentsOf: features.map(Float.init))
        }
        return (table, summary)
    }
}
