/// How well the scoring engine separated fraud from genuine payments over a held-out period, and what its decisions
/// would have caught: the metrics, and their Markdown, JSON and SVG renderings.
///
/// A metric that the data cannot support (no examples, or only one class) is `nil`, and ``unavailable`` says why
/// under the metric's JSON key; the JSON then holds `null`, never NaN.
public struct EvaluationReport: Sendable {
    public let modelVersion: String
    /// The held-out period, as the caller describes it (e.g. `2026-03-01/2026-03-31`).
    public let period: String
    public let policy: DecisionPolicy?

    public let examples: Int
    public let frauds: Int
    public let genuine: Int
    /// frauds ÷ examples.
    public let fraudRate: Double?
    /// Σ amount over the frauds.
    public let fraudValue: Double

    public let rocAUC: Double?
    /// Average precision.
    public let prAUC: Double?
    /// The best score threshold within each false-positive-rate limit in ``FalsePositiveRateLimit/all``.
    public let operatingPoints: [OperatingPoint]
    /// What the configured decisions (thresholds and rules) flagged.
    public let decisions: DecisionOutcome
    /// Share of fraud value in payments the decisions flagged.
    public let valueDetectionRate: Double?
    public let recallByFraudType: [GroupRecall]
    public let recallByPerspective: [GroupRecall]
    public let alertsPerDay: AlertsPerDay
    /// Ten bands of 100 points: 0–99, 100–199, …, 900–999.
    public let scoreBands: [ScoreBand]
    /// Ten bins of width 0.1 in predicted probability.
    public let calibration: [CalibrationBin]
    /// Ten groups of (near) equal size by predicted probability, lowest first; they resolve the low-probability region
    /// where almost every payment falls.
    public let calibrationByQuantile: [CalibrationBin]
    /// Mean of (probability − outcome)², over the examples with a finite probability.
    public let brierScore: Double?
    /// Why a metric is missing, keyed by its JSON path (e.g. `rocAuc`, `recallAtFpr.0.001`).
    public let unavailable: [String: String]
    /// Signs that the served scores cannot be trusted (nearly constant, or far from calibrated); empty when none.
    public let warnings: [EvaluationWarning]

    /// Per rule of the policy (and any other rule that fired): the payments it fired on and how many were fraud.
    public let ruleHits: [RuleHits]
    /// The flagged payments with the highest scores, at most ``listedPayments``: what the fraud team sees first.
    public let topFlagged: [ScoredExample]
    /// The frauds the decisions allowed, largest amount first, at most ``listedPayments``.
    public let missedFrauds: [ScoredExample]
    /// Every fraud the decisions allowed.
    public let missedFraudCount: Int

    /// How many payments ``topFlagged`` and ``missedFrauds`` list.
    public static let listedPayments = 20

    let curve: RankingCurve
    /// Genuine and fraud counts in 20 bins of 50 score points, for the histogram.
    let histogram: [(genuine: Int, fraud: Int)]

    /// Evaluates `examples` as scored by the model `modelVersion` over `period`.
    /// - Parameter policy: the thresholds and rules behind the decisions, when the caller knows them; only reported.
    public init(examples: [ScoredExample], modelVersion: String, period: String, policy: DecisionPolicy? = nil) {
        self.modelVersion = modelVersion
        self.period = period
        self.policy = policy
        var unavailable: [String: String] = [:]

        let frauds = examples.filter(\.isFraud)
        self.examples = examples.count
        self.frauds = frauds.count
        self.genuine = examples.count - frauds.count
        self.fraudRate = examples.isEmpty ? nil : Double(frauds.count) / Double(examples.count)
        if examples.isEmpty { unavailable["fraudRate"] = "no examples" }
        let fraudValue = frauds.reduce(0) { $0 + $1.usableAmount }
        self.fraudValue = fraudValue

        let curve = RankingCurve(scores: examples.map(\.score), isPositive: examples.map(\.isFraud))
        self.curve = curve
        let bothClasses = Self.bothClassesReason(examples: examples.count, frauds: frauds.count)
        self.rocAUC = curve.rocAUC
        self.prAUC = curve.averagePrecision
        if let bothClasses {
            unavailable["rocAuc"] = bothClasses
            unavailable["prAuc"] = bothClasses
        }

        self.operatingPoints = FalsePositiveRateLimit.all.map { limit in
            OperatingPoint(limit: limit, curve: curve, examples: examples, fraudValue: fraudValue)
        }
        for point in self.operatingPoints where point.recall == nil {
            unavailable["recallAtFpr.\(point.limit.key)"] = bothClasses
            unavailable["valueDetectionRateAtFpr.\(point.limit.key)"] = bothClasses
        }
        for point in self.operatingPoints where point.recall != nil {
            if point.valueDetectionRate == nil {
                unavailable["valueDetectionRateAtFpr.\(point.limit.key)"] = "the frauds have no value"
            }
            if point.precision == nil {
                unavailable["thresholds.recallAtFpr.\(point.limit.key).precision"] = "the threshold flags no payment"
            }
        }

        self.decisions = DecisionOutcome(examples: examples)
        if self.decisions.recall == nil {
            unavailable["decisions.recall"] = examples.isEmpty ? "no examples" : "no fraud examples"
        }
        if self.decisions.falsePositiveRate == nil {
            unavailable["decisions.falsePositiveRate"] = examples.isEmpty ? "no examples" : "no genuine examples"
        }
        if self.decisions.precision == nil {
            unavailable["decisions.precision"] = examples.isEmpty ? "no examples" : "no payment was flagged"
        }
        if frauds.isEmpty {
            unavailable["valueDetectionRate"] = examples.isEmpty ? "no examples" : "no fraud examples"
            self.valueDetectionRate = nil
        } else if fraudValue <= 0 {
            unavailable["valueDetectionRate"] = "the frauds have no value"
            self.valueDetectionRate = nil
        } else {
            let detected = frauds.filter(\.isFlagged).reduce(0) { $0 + $1.usableAmount }
            self.valueDetectionRate = detected / fraudValue
        }

        self.recallByFraudType = GroupRecall.groups(
            of: frauds, by: { $0.fraudType ?? GroupRecall.unspecifiedType }
        )
        if frauds.isEmpty {
            unavailable["recallByFraudType"] = examples.isEmpty ? "no examples" : "no fraud examples"
        }
        self.recallByPerspective = GroupRecall.groups(of: examples, by: \.perspective)
        for group in self.recallByPerspective where group.recall == nil {
            unavailable["recallByPerspective.\(group.name)"] = "no fraud examples from this perspective"
        }

        self.alertsPerDay = AlertsPerDay(examples: examples)
        if examples.isEmpty { unavailable["alertsPerDay"] = "no examples" }

        var bands = (0..<10).map { ScoreBand(lower: $0 * 100, upper: $0 * 100 + 99, fraud: 0, genuine: 0) }
        var histogram = Array(repeating: (genuine: 0, fraud: 0), count: 20)
        for example in examples {
            let score = min(max(example.score, 0), 999)
            if example.isFraud {
                bands[score / 100].fraud += 1
                histogram[score / 50].fraud += 1
            } else {
                bands[score / 100].genuine += 1
                histogram[score / 50].genuine += 1
            }
        }
        self.scoreBands = bands
        self.histogram = histogram

        let calibrated = examples.filter(\.probability.isFinite)
        self.calibration = CalibrationBin.deciles(calibrated)
        self.calibrationByQuantile = CalibrationBin.quantiles(calibrated)
        if calibrated.isEmpty {
            self.brierScore = nil
            let reason = examples.isEmpty ? "no examples" : "no example has a finite probability"
            unavailable["brierScore"] = reason
            unavailable["calibration"] = reason
        } else {
            let squaredErrors = calibrated.reduce(0.0) { sum, example in
                let error = example.probability - (example.isFraud ? 1 : 0)
                return sum + error * error
            }
            self.brierScore = squaredErrors / Double(calibrated.count)
        }
        self.unavailable = unavailable

        self.ruleHits = RuleHits.tally(examples, ruleNames: policy?.ruleNames ?? [], frauds: frauds.count)
        self.topFlagged = Array(
            examples.filter(\.isFlagged).sorted { ($1.score, $1.usableAmount, $0.paymentId) < ($0.score, $0.usableAmount, $1.paymentId) }
                .prefix(Self.listedPayments)
        )
        let missed = frauds.filter { !$0.isFlagged }
        self.missedFraudCount = missed.count
        self.missedFrauds = Array(
            missed.sorted { ($1.usableAmount, $1.score, $0.paymentId) < ($0.usableAmount, $0.score, $1.paymentId) }
                .prefix(Self.listedPayments)
        )
        self.warnings = EvaluationWarning.check(
            examples: examples, calibration: self.calibration + self.calibrationByQuantile
        )
    }

    /// Why metrics that compare the two classes cannot be computed, or `nil` when they can.
    static func bothClassesReason(examples: Int, frauds: Int) -> String? {
        if examples == 0 { return "no examples" }
        if frauds == 0 { return "no fraud examples: the metric needs both fraud and genuine payments" }
        if frauds == examples { return "no genuine examples: the metric needs both fraud and genuine payments" }
        return nil
    }

    /// The recall at the false-positive-rate limit with this key (`0.001` or `0.01`).
    public func recall(atFalsePositiveRate key: String) -> Double? {
        self.operatingPoints.first { $0.limit.key == key }?.recall
    }
}

extension ScoredExample {
    /// The amount, or zero when it is not a finite number, so one bad row cannot turn every value metric into NaN.
    var usableAmount: Double { self.amount.isFinite ? self.amount : 0 }
}

/// A limit on the false-positive rate at which the report reads off the recall.
public struct FalsePositiveRateLimit: Sendable, Hashable {
    /// The JSON key: `0.001` or `0.01`.
    public let key: String
    public let rate: Double
    /// For people: `0.1%` or `1%`.
    public let label: String

    public static let all = [
        FalsePositiveRateLimit(key: "0.001", rate: 0.001, label: "0.1%"),
        FalsePositiveRateLimit(key: "0.01", rate: 0.01, label: "1%"),
    ]
}

/// The score threshold chosen for a false-positive-rate limit, and what flagging "score ≥ threshold" would catch.
public struct OperatingPoint: Sendable, Hashable {
    public let limit: FalsePositiveRateLimit
    /// Payments with a score at or above this are flagged; one above the highest score means none is.
    public let scoreThreshold: Int?
    public let falsePositiveRate: Double?
    public let recall: Double?
    /// Frauds among the flagged payments; `nil` when nothing is flagged.
    public let precision: Double?
    /// Share of fraud value with a score at or above the threshold.
    public let valueDetectionRate: Double?
    /// Payments flagged at this threshold.
    public let flagged: Int?

    init(limit: FalsePositiveRateLimit, curve: RankingCurve, examples: [ScoredExample], fraudValue: Double) {
        self.limit = limit
        guard let point = curve.bestPoint(maxFalsePositiveRate: limit.rate) else {
            (self.scoreThreshold, self.falsePositiveRate, self.recall) = (nil, nil, nil)
            (self.precision, self.valueDetectionRate, self.flagged) = (nil, nil, nil)
            return
        }
        let flagged = point.truePositives + point.falsePositives
        self.scoreThreshold = point.threshold
        self.falsePositiveRate = Double(point.falsePositives) / Double(curve.negatives)
        self.recall = Double(point.truePositives) / Double(curve.positives)
        self.precision = flagged == 0 ? nil : Double(point.truePositives) / Double(flagged)
        self.flagged = flagged
        if fraudValue > 0 {
            let detected = examples.lazy.filter { $0.isFraud && $0.score >= point.threshold }
                .reduce(0) { $0 + $1.usableAmount }
            self.valueDetectionRate = detected / fraudValue
        } else {
            self.valueDetectionRate = nil
        }
    }
}

/// What the configured decisions flagged: counts per decision, and recall, false-positive rate and precision of
/// "decision ≠ allow".
public struct DecisionOutcome: Sendable, Hashable {
    /// Payments per decision string.
    public let counts: [String: Int]
    public let flagged: Int
    public let fraudsFlagged: Int
    public let genuineFlagged: Int
    public let recall: Double?
    public let falsePositiveRate: Double?
    public let precision: Double?

    init(examples: [ScoredExample]) {
        var counts: [String: Int] = [:]
        var fraudsFlagged = 0
        var genuineFlagged = 0
        var frauds = 0
        for example in examples {
            counts[example.decision, default: 0] += 1
            if example.isFraud { frauds += 1 }
            guard example.isFlagged else { continue }
            if example.isFraud { fraudsFlagged += 1 } else { genuineFlagged += 1 }
        }
        let genuine = examples.count - frauds
        self.counts = counts
        self.flagged = fraudsFlagged + genuineFlagged
        self.fraudsFlagged = fraudsFlagged
        self.genuineFlagged = genuineFlagged
        self.recall = frauds == 0 ? nil : Double(fraudsFlagged) / Double(frauds)
        self.falsePositiveRate = genuine == 0 ? nil : Double(genuineFlagged) / Double(genuine)
        self.precision = self.flagged == 0 ? nil : Double(fraudsFlagged) / Double(self.flagged)
    }
}

/// The frauds of one group (a fraud type or a perspective) and how many of them the decisions flagged.
public struct GroupRecall: Sendable, Hashable {
    /// The fraud type given to frauds that carry none.
    public static let unspecifiedType = "unspecified"

    public let name: String
    /// Payments in the group, fraud or not.
    public let examples: Int
    public let frauds: Int
    /// Frauds in the group with a decision other than `allow`.
    public let fraudsFlagged: Int
    /// Payments in the group with a decision other than `allow`.
    public let alerts: Int
    /// fraudsFlagged ÷ frauds; `nil` when the group has no fraud.
    public let recall: Double?
    public let fraudValue: Double
    /// Share of the group's fraud value the decisions flagged; `nil` when it has none.
    public let valueDetectionRate: Double?

    /// One group per distinct key, sorted by name.
    static func groups(of examples: [ScoredExample], by key: (ScoredExample) -> String) -> [GroupRecall] {
        Dictionary(grouping: examples, by: key).map { name, members in
            let frauds = members.filter(\.isFraud)
            let flaggedFrauds = frauds.filter(\.isFlagged)
            let fraudValue = frauds.reduce(0) { $0 + $1.usableAmount }
            let detectedValue = flaggedFrauds.reduce(0) { $0 + $1.usableAmount }
            return GroupRecall(
                name: name, examples: members.count, frauds: frauds.count, fraudsFlagged: flaggedFrauds.count,
                alerts: members.count(where: \.isFlagged),
                recall: frauds.isEmpty ? nil : Double(flaggedFrauds.count) / Double(frauds.count),
                fraudValue: fraudValue, valueDetectionRate: fraudValue > 0 ? detectedValue / fraudValue : nil
            )
        }
        .sorted { $0.name < $1.name }
    }
}

/// Payments with a decision other than `allow`, per UTC day.
public struct AlertsPerDay: Sendable, Hashable {
    /// Alerts on each day that had at least one scored payment (a day with payments but no alert counts as 0).
    public let days: [String: Int]
    /// Total alerts ÷ days with at least one scored payment.
    public let mean: Double?
    public let max: Int?
    /// The earliest day with ``max`` alerts.
    public let maxDay: String?

    init(examples: [ScoredExample]) {
        var days: [String: Int] = [:]
        for example in examples { days[example.day, default: 0] += example.isFlagged ? 1 : 0 }
        self.days = days
        let busiest = days.min { ($1.value, $0.key) < ($0.value, $1.key) }
        self.mean = days.isEmpty ? nil : Double(days.values.reduce(0, +)) / Double(days.count)
        self.max = busiest?.value
        self.maxDay = busiest?.key
    }
}

/// Fraud and genuine payments whose score falls in `lower...upper`; scores outside 0–999 count in the end bands.
public struct ScoreBand: Sendable, Hashable {
    public let lower: Int
    public let upper: Int
    public internal(set) var fraud: Int
    public internal(set) var genuine: Int

    /// `0-99`, `100-199`, …
    public var name: String { "\(self.lower)-\(self.upper)" }
    public var fraudRate: Double? { self.fraud + self.genuine == 0 ? nil : Double(self.fraud) / Double(self.fraud + self.genuine) }
}

/// Predicted against observed fraud rate for the payments whose probability falls in one bin.
public struct CalibrationBin: Sendable, Hashable {
    /// The bin's probability range: `[lower, upper)`, the last one closed.
    public let lower: Double
    public let upper: Double
    public let count: Int
    public let frauds: Int
    /// Mean probability in the bin; `nil` when it is empty.
    public let meanPredicted: Double?
    /// frauds ÷ count; `nil` when the bin is empty.
    public let observedFraudRate: Double?
    /// The lowest and highest score in the bin; `nil` when it is empty.
    public let lowestScore: Int?
    public let highestScore: Int?

    init(lower: Double, upper: Double, members: some Collection<ScoredExample>) {
        self.lower = lower
        self.upper = upper
        self.lowestScore = members.map(\.score).min()
        self.highestScore = members.map(\.score).max()
        self.count = members.count
        self.frauds = members.count(where: \.isFraud)
        self.meanPredicted = members.isEmpty ? nil : members.reduce(0) { $0 + $1.probability } / Double(members.count)
        self.observedFraudRate = members.isEmpty ? nil : Double(self.frauds) / Double(members.count)
    }

    /// Ten bins of width 0.1: bin k holds probabilities in [k/10, (k+1)/10), the last also 1.0; probabilities outside
    /// [0, 1] go to the end bins.
    static func deciles(_ examples: [ScoredExample]) -> [CalibrationBin] {
        var members = Array(repeating: [ScoredExample](), count: 10)
        for example in examples {
            members[Swift.min(Swift.max(Int((example.probability * 10).rounded(.down)), 0), 9)].append(example)
        }
        return members.enumerated().map { index, bin in
            CalibrationBin(lower: Double(index) / 10, upper: Double(index + 1) / 10, members: bin)
        }
    }

    /// Up to ten groups by rank of probability: group k ends at rank ⌊(k+1)·n/10⌋, moved on past any payments with
    /// the same probability as the one before it, so equal probabilities share a group and no two groups overlap;
    /// bounds are the group's lowest and highest probability. Empty groups are left out.
    static func quantiles(_ examples: [ScoredExample]) -> [CalibrationBin] {
        let sorted = examples.sorted { $0.probability < $1.probability }
        var bins: [CalibrationBin] = []
        var start = 0
        for group in 0..<10 {
            var end = Swift.max((group + 1) * sorted.count / 10, start)
            while end > 0, end < sorted.count, sorted[end].probability == sorted[end - 1].probability { end += 1 }
            let members = sorted[start..<end]
            start = end
            guard let first = members.first, let last = members.last else { continue }
            bins.append(CalibrationBin(lower: first.probability, upper: last.probability, members: members))
        }
        return bins
    }
}
