import Foundation
public import VigilJSON

/// What the model saw at training, kept with it so that serving can be compared with it: the validation rows' served
/// scores and, per model feature, how its values fell into bins. Stored by `vigil train` as the model attribute
/// ``attributeName`` (compact JSON, ``encoded``) and read by `vigil model monitor`, `vigil model compare` and the
/// server's drift gauges on `/metrics`.
///
/// Drift is measured with the population stability index (``PopulationStability``) between these proportions and
/// the proportions of the payments scored since.
public struct TrainingProfile: Sendable, Equatable {
    /// The model attribute that holds ``encoded``.
    public static let attributeName = "vigil_training_profile"
    /// The version of ``encoded``'s layout, its `v` member.
    public static let formatVersion = 1
    /// Score bins are this many points wide over 0–999: 20 bins, the last one 950–999.
    public static let scoreBinWidth = 50

    /// How many validation rows the proportions were counted on.
    public var rows: Int
    /// The served score (0–999) of the validation rows, in ``scoreBinWidth``-point bins.
    public var score: BinnedDistribution
    /// One distribution per model feature, in the model's feature order.
    public var features: [FeatureDistribution]

    public struct FeatureDistribution: Sendable, Equatable {
        /// The feature's name, as `vigil features list` prints it and the model file names it.
        public var name: String
        public var distribution: BinnedDistribution

        public init(name: String, distribution: BinnedDistribution) {
            self.name = name
            self.distribution = distribution
        }
    }

    public init(rows: Int, score: BinnedDistribution, features: [FeatureDistribution]) {
        self.rows = rows
        self.score = score
        self.features = features
    }

    /// Profiles validation rows.
    /// - Parameters:
    ///   - featureNames: the model's features, in the order of each row's values.
    ///   - values: the rows' feature values, row after row (`featureNames.count` each); NaN is missing.
    ///   - scores: each row's served score (0–999), as the engine maps the calibrated probability.
    ///   - bins: at most this many value bins per feature, at its quantiles (fewer when values repeat).
    public init(featureNames: [String], values: [Float], scores: [Int], bins: Int = 10) {
        let width = featureNames.count
        precondition(width == 0 || values.count == scores.count * width, "one row of values per score")
        var features: [FeatureDistribution] = []
        var column: [Float] = []
        column.reserveCapacity(scores.count)
        for (index, name) in featureNames.enumerated() {
            column.removeAll(keepingCapacity: true)
            for row in 0..<scores.count { column.append(values[row * width + index]) }
            features.append(FeatureDistribution(name: name, distribution: .quantiles(of: column, bins: bins)))
        }
        self.init(rows: scores.count, score: .scores(scores), features: features)
    }
}

/// A value's distribution as proportions over bins: `edges.count + 1` value bins, then one bin for missing values.
///
/// A value `v` falls into bin `i`, the number of edges at or below it (compared at `Float`, as the trees compare), so
/// the bins are `(-∞, e₀)`, `[e₀, e₁)`, …, `[eₙ₋₁, ∞)`; NaN falls into the missing bin, the last.
public struct BinnedDistribution: Sendable, Equatable {
    /// Strictly increasing bin edges.
    public var edges: [Float]
    /// One proportion per bin (`edges.count + 2`, the missing-value bin last), summing to 1 (or all 0 for no rows).
    public var proportions: [Double]

    public init(edges: [Float], proportions: [Double]) {
        self.edges = edges
        self.proportions = proportions
    }

    /// How many bins a count needs: the value bins and the missing-value bin.
    public var binCount: Int { edges.count + 2 }

    /// The bin `value` falls into.
    /// - Performance: a binary search over at most a few dozen edges; no allocation.
    @inlinable
    public func bin(_ value: Double) -> Int {
        guard !value.isNaN else { return edges.count + 1 }
        let v = Float(value)
        var low = 0
        var high = edges.count
        while low < high {
            let middle = (low + high) / 2
            if edges[middle] <= v { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Proportions of `counts` (one per bin), all 0 when there are none.
    public static func proportions(_ counts: [Int]) -> [Double] {
        let total = counts.reduce(0, +)
        return counts.map { total == 0 ? 0 : Double($0) / Double(total) }
    }

    /// Served scores in ``TrainingProfile/scoreBinWidth``-point bins over 0–999.
    public static func scores(_ scores: [Int]) -> BinnedDistribution {
        let edges = stride(from: TrainingProfile.scoreBinWidth, to: 1000, by: TrainingProfile.scoreBinWidth).map { Float($0) }
        var distribution = BinnedDistribution(edges: edges, proportions: [])
        var counts = [Int](repeating: 0, count: distribution.binCount)
        for score in scores { counts[distribution.bin(Double(score))] += 1 }
        distribution.proportions = proportions(counts)
        return distribution
    }

    /// Bins at the `bins`-quantiles of the present values (an edge at each `k/bins` quantile, repeats dropped, none
    /// at or below the smallest value, whose bin would stay empty), with the missing values in their own bin. A feature
    /// with at most `bins` distinct values (a flag, a code) gets one bin per value instead, so that a shift between
    /// rare values still shows.
    public static func quantiles(of values: [Float], bins: Int) -> BinnedDistribution {
        let present = values.filter { !$0.isNaN }.sorted()
        var distinct: [Float] = []
        for value in present where value != distinct.last { distinct.append(value) }
        var edges: [Float] = []
        if distinct.count <= bins {
            edges = Array(distinct.dropFirst())
        } else if let smallest = present.first {
            for k in 1..<bins {
                let edge = present[k * present.count / bins]
                if edge > smallest, edge > (edges.last ?? -.infinity) { edges.append(edge) }
            }
        }
        var distribution = BinnedDistribution(edges: edges, proportions: [])
        var counts = [Int](repeating: 0, count: distribution.binCount)
        for value in values { counts[distribution.bin(Double(value))] += 1 }
        distribution.proportions = proportions(counts)
        return distribution
    }
}

/// The population stability index: how far an observed distribution has moved from an expected one over the same bins,
/// `PSI = Σᵢ (aᵢ − eᵢ) · ln(aᵢ / eᵢ)` over the bins' proportions, expected `e` (training) and actual `a` (serving).
///
/// A bin empty on one side would make the term infinite, so every proportion below ``epsilon`` counts as ``epsilon``
/// (1e-4, one payment in ten thousand): a bin empty on both sides adds nothing, and one empty on one side adds a large
/// but finite term. The usual reading (``Band``): below 0.1 stable, 0.1 to 0.25 a moderate shift worth a look, 0.25 and
/// above a significant shift (retrain or investigate).
public enum PopulationStability {
    /// The proportion an empty bin counts as.
    public static let epsilon = 1e-4

    /// PSI of `actual` against `expected`, equally many proportions each.
    public static func index(expected: [Double], actual: [Double]) -> Double {
        precondition(expected.count == actual.count, "the same bins on both sides")
        var sum = 0.0
        for (e, a) in zip(expected, actual) {
            let (e, a) = (max(e, epsilon), max(a, epsilon))
            sum += (a - e) * log(a / e)
        }
        return sum
    }

    /// PSI of observed `counts` (one per bin) against `expected` proportions; nil when nothing was counted.
    public static func index(expected: [Double], counts: [Int]) -> Double? {
        guard counts.contains(where: { $0 > 0 }) else { return nil }
        return index(expected: expected, actual: BinnedDistribution.proportions(counts))
    }

    /// The usual reading of a PSI value.
    public enum Band: String, Sendable, Comparable {
        /// Below 0.1.
        case stable
        /// 0.1 up to 0.25.
        case moderate
        /// 0.25 or more.
        case significant

        public init(_ psi: Double) {
            self = psi < 0.1 ? .stable : psi < 0.25 ? .moderate : .significant
        }

        public static func < (lhs: Band, rhs: Band) -> Bool {
            let order: [Band] = [.stable, .moderate, .significant]
            return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
        }
    }
}

// MARK: - The attribute's text

extension TrainingProfile {
    /// Why an attribute text is not a training profile.
    public struct FormatError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }

        init(_ message: String) {
            self.message = message
        }
    }

    /// Compact JSON: `{"features":[{"edges":[…],"name":…,"p":[…]},…],"rows":N,"score":{"edges":[…],"p":[…]},"v":1}`.
    /// Edges are written as `Float`s (shortest form), proportions rounded to 6 decimals.
    public var encoded: String {
        func write(_ distribution: BinnedDistribution, into writer: inout VigilJSON.JSONWriter) {
            writer.key("edges")
            writer.beginArray()
            for edge in distribution.edges { writer.double(Double(edge.description)!) }
            writer.endArray()
            writer.key("p")
            writer.beginArray()
            for proportion in distribution.proportions { writer.double((proportion * 1e6).rounded() / 1e6) }
            writer.endArray()
        }
        var writer = VigilJSON.JSONWriter(capacity: 256 + 160 * features.count)
        writer.beginObject()
        writer.key("features")
        writer.beginArray()
        for feature in features {
            writer.beginObject()
            write(feature.distribution, into: &writer)
            writer.key("name")
            writer.string(feature.name)
            writer.endObject()
        }
        writer.endArray()
        writer.key("rows")
        writer.int(rows)
        writer.key("score")
        writer.beginObject()
        write(score, into: &writer)
        writer.endObject()
        writer.key("v")
        writer.int(Self.formatVersion)
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Reads an ``encoded`` text.
    /// - Throws: ``FormatError`` naming the member at fault: not JSON, another `v`, a missing member, edges not
    ///   strictly increasing, proportions not one per bin or not in [0, 1].
    public init(encoded: String) throws(FormatError) {
        let document: JSONValue
        do {
            document = try JSONParser.parse(Array(encoded.utf8))
        } catch {
            throw FormatError("not JSON: \(error)")
        }
        guard case .number(let version)? = document["v"], Int(version) == Self.formatVersion else {
            throw FormatError("'v' must be \(Self.formatVersion)")
        }
        guard case .number(let rowsText)? = document["rows"], let rows = Int(rowsText), rows >= 0 else {
            throw FormatError("'rows' must be a count")
        }
        guard let score = document["score"] else { throw FormatError("'score' is missing") }
        guard case .array(let items)? = document["features"] else { throw FormatError("'features' must be an array") }
        var features: [FeatureDistribution] = []
        for (index, item) in items.enumerated() {
            guard case .string(let name)? = item["name"] else { throw FormatError("'features[\(index)].name' must be a string") }
            features.append(FeatureDistribution(name: name, distribution: try Self.distribution(item, at: "features[\(index)]")))
        }
        self.init(rows: rows, score: try Self.distribution(score, at: "score"), features: features)
    }

    static func distribution(_ value: JSONValue, at path: String) throws(FormatError) -> BinnedDistribution {
        func numbers(_ key: String) throws(FormatError) -> [String] {
            guard case .array(let items)? = value[key] else { throw FormatError("'\(path).\(key)' must be an array") }
            var texts: [String] = []
            for item in items {
                guard case .number(let text) = item else { throw FormatError("'\(path).\(key)' must hold numbers") }
                texts.append(text)
            }
            return texts
        }
        var edges: [Float] = []
        for text in try numbers("edges") {
            guard let edge = Float(text), edge.isFinite, edge > (edges.last ?? -.infinity) else {
                throw FormatError("'\(path).edges' must be finite and strictly increasing")
            }
            edges.append(edge)
        }
        var proportions: [Double] = []
        for text in try numbers("p") {
            guard let proportion = Double(text), proportion >= 0, proportion <= 1 else {
                throw FormatError("'\(path).p' must hold proportions in [0, 1]")
            }
            proportions.append(proportion)
        }
        guard proportions.count == edges.count + 2 else {
            throw FormatError("'\(path).p' must hold \(edges.count + 2) proportions (one per bin and one for missing values)")
        }
        return BinnedDistribution(edges: edges, proportions: proportions)
    }
}
