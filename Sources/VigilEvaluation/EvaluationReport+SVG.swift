import Foundation

extension EvaluationReport {
    /// The false-positive-rate axis of the ROC chart.
    public enum FalsePositiveRateAxis: Sendable {
        /// Decades from 0.01% (or lower, for large genuine counts) to 100%: the region a bank operates in.
        case logarithmic
        case linear
    }

    static let genuineColour = "#2b6cb0"
    static let fraudColour = "#c53030"
    static let curveColour = "#1a202c"
    static let pointColours = ["#f6ad55", "#68d391"]
    static let decisionColour = "#b794f4"

    var subtitle: String {
        "\(self.modelVersion) · \(self.period) · \(Formatting.count(self.frauds)) fraud, "
            + "\(Formatting.count(self.genuine)) genuine payments"
    }

    /// The ROC curve: recall against false-positive rate as the score threshold falls, with the thresholds chosen at
    /// 0.1% and 1% false-positive rate and the configured decisions marked.
    public func rocSVG(falsePositiveRateAxis: FalsePositiveRateAxis = .logarithmic) -> String {
        let xScale: AxisScale
        var xTicks: [(Double, String)]
        switch falsePositiveRateAxis {
        case .linear:
            xScale = .linear(0, 1)
            xTicks = stride(from: 0.0, through: 1.0, by: 0.2).map { ($0, Self.percentTick($0)) }
        case .logarithmic:
            // One decade below a single false positive, so the lowest reachable rate is on the chart, and never above
            // 0.01% so the 0.1% point is always well inside it.
            let single = self.genuine > 0 ? 1 / Double(self.genuine) : 1e-4
            let lowestDecade = Swift.min(Swift.max(floor(log10(single)), -6), -4)
            xScale = .logarithmic(pow(10, lowestDecade), 1)
            xTicks = stride(from: lowestDecade, through: 0, by: 1).map { (pow(10, $0), Self.percentTick(pow(10, $0))) }
        }
        var chart = SVGChart(
            title: falsePositiveRateAxis == .logarithmic ? "ROC curve (log false-positive-rate axis)" : "ROC curve",
            subtitle: self.subtitle, x: xScale, y: .linear(0, 1)
        )
        let scaleNote = falsePositiveRateAxis == .logarithmic ? " (log scale)" : ""
        chart.axes(
            xTicks: xTicks, yTicks: stride(from: 0.0, through: 1.0, by: 0.2).map { ($0, Self.percentTick($0)) },
            xLabel: "false-positive rate: share of genuine payments flagged\(scaleNote)",
            yLabel: "recall: share of fraud payments flagged"
        )
        // On a linear axis the limits sit on top of each other at the left edge; the markers say enough there.
        if falsePositiveRateAxis == .logarithmic {
            for limit in FalsePositiveRateLimit.all { chart.verticalGuide(at: limit.rate, label: "\(limit.label) FPR") }
        }
        guard self.curve.hasBothClasses else {
            chart.notice("No ROC curve: \(self.unavailable["rocAuc"] ?? "needs fraud and genuine payments").")
            return chart.rendered()
        }
        let positives = Double(self.curve.positives)
        let negatives = Double(self.curve.negatives)
        var points = [(0.0, 0.0)]
        for point in self.curve.points {
            let falsePositiveRate = Double(point.falsePositives) / negatives
            let recall = Double(point.truePositives) / positives
            // A straight segment in rate space is a curve on a log axis; sample it so ties are drawn faithfully.
            if falsePositiveRateAxis == .logarithmic, let previous = points.last, falsePositiveRate > previous.0 {
                for step in 1..<8 {
                    let t = Double(step) / 8
                    points.append((previous.0 + t * (falsePositiveRate - previous.0), previous.1 + t * (recall - previous.1)))
                }
            }
            points.append((falsePositiveRate, recall))
        }
        let chance: [(Double, Double)] =
            switch xScale {
            case .linear: [(0, 0), (1, 1)]
            case .logarithmic(let low, _):
                stride(from: log10(low), through: 0, by: 0.05).map { (pow(10, $0), pow(10, $0)) }
            }
        chart.polyline(chance, stroke: "#999999", width: 1, dash: "5 4")
        chart.polyline(points, stroke: Self.curveColour, width: 2)

        var legend: [(SVGChart.LegendSymbol, String)] = [
            (.line(Self.curveColour, dash: nil), "ROC curve, AUC \(Formatting.decimal(self.rocAUC, 4))"),
            (.line("#999999", dash: "5 4"), "chance"),
        ]
        for (index, point) in self.operatingPoints.enumerated() {
            guard let recall = point.recall, let rate = point.falsePositiveRate, let threshold = point.scoreThreshold
            else { continue }
            let colour = Self.pointColours[index % Self.pointColours.count]
            chart.marker(.circle, at: (rate, recall), fill: colour)
            legend.append(
                (
                    .marker(.circle, colour),
                    "≤ \(point.limit.label) FPR: recall \(Formatting.percent(recall)) at score ≥ \(threshold)"
                )
            )
        }
        if let recall = self.decisions.recall, let rate = self.decisions.falsePositiveRate {
            chart.marker(.square, at: (rate, recall), fill: Self.decisionColour)
            legend.append(
                (
                    .marker(.square, Self.decisionColour),
                    "decisions: recall \(Formatting.percent(recall)), FPR \(Formatting.percent(rate))"
                )
            )
        }
        chart.legend(legend, corner: .bottomRight)
        return chart.rendered()
    }

    /// The precision–recall curve as the step function that average precision sums, with the fraud rate (a random
    /// score's precision) and the same marked points as the ROC chart.
    public func precisionRecallSVG() -> String {
        var chart = SVGChart(
            title: "Precision–recall curve",
            subtitle: self.subtitle, x: .linear(0, 1), y: .linear(0, 1)
        )
        let ticks = stride(from: 0.0, through: 1.0, by: 0.2).map { ($0, Self.percentTick($0)) }
        chart.axes(
            xTicks: ticks, yTicks: ticks, xLabel: "recall: share of fraud payments flagged",
            yLabel: "precision: share of flagged payments that are fraud"
        )
        guard self.curve.hasBothClasses else {
            chart.notice("No precision–recall curve: \(self.unavailable["prAuc"] ?? "needs fraud and genuine payments").")
            return chart.rendered()
        }
        let positives = Double(self.curve.positives)
        var steps: [(Double, Double)] = []
        var previousRecall = 0.0
        for point in self.curve.points where point.truePositives > 0 {
            let recall = Double(point.truePositives) / positives
            guard recall > previousRecall else { continue }
            let precision = Double(point.truePositives) / Double(point.truePositives + point.falsePositives)
            steps.append((previousRecall, precision))
            steps.append((recall, precision))
            previousRecall = recall
        }
        let fraudRate = self.fraudRate ?? 0
        chart.polyline([(0, fraudRate), (1, fraudRate)], stroke: "#999999", width: 1, dash: "5 4")
        chart.polyline(steps, stroke: Self.curveColour, width: 2)

        var legend: [(SVGChart.LegendSymbol, String)] = [
            (.line(Self.curveColour, dash: nil), "precision–recall, average precision \(Formatting.decimal(self.prAUC, 4))"),
            (.line("#999999", dash: "5 4"), "chance: fraud rate \(Formatting.percent(self.fraudRate))"),
        ]
        for (index, point) in self.operatingPoints.enumerated() {
            guard let recall = point.recall, let precision = point.precision, let threshold = point.scoreThreshold
            else { continue }
            let colour = Self.pointColours[index % Self.pointColours.count]
            chart.marker(.circle, at: (recall, precision), fill: colour)
            legend.append(
                (
                    .marker(.circle, colour),
                    "score ≥ \(threshold) (≤ \(point.limit.label) FPR): precision \(Formatting.percent(precision))"
                )
            )
        }
        if let recall = self.decisions.recall, let precision = self.decisions.precision {
            chart.marker(.square, at: (recall, precision), fill: Self.decisionColour)
            legend.append(
                (.marker(.square, Self.decisionColour), "decisions: precision \(Formatting.percent(precision))")
            )
        }
        chart.legend(legend, corner: .bottomLeft)
        return chart.rendered()
    }

    /// Genuine and fraud payments per 50 score points, side by side on a log count axis, with the decision
    /// thresholds (when known) and the 0.1% and 1% FPR thresholds marked.
    public func scoreDistributionSVG() -> String {
        let largest = self.histogram.map { Swift.max($0.genuine, $0.fraud) }.max() ?? 0
        // A decade of headroom above the tallest bar keeps the legend clear of the bars.
        let topDecade = Swift.max(1, ceil(log10(Double(Swift.max(largest, 1))))) + 1
        // Half a payment at the bottom so that a single payment still shows as a bar.
        var chart = SVGChart(
            title: "Score distribution: genuine and fraud payments",
            subtitle: self.subtitle, x: .linear(0, 1000), y: .logarithmic(0.5, pow(10, topDecade))
        )
        chart.axes(
            xTicks: stride(from: 0, through: 1000, by: 100).map { (Double($0), String($0)) },
            yTicks: stride(from: 0.0, through: topDecade, by: 1).map { (pow(10, $0), Self.countTick(pow(10, $0))) },
            xLabel: "score (bins of 50 points)", yLabel: "payments (log scale)"
        )
        for (index, bin) in self.histogram.enumerated() {
            let start = Double(index * 50)
            let range = "\(index * 50)–\(index * 50 + 49)"
            if bin.genuine > 0 {
                chart.bar(
                    x0: start + 5, x1: start + 25, y0: 0.5, y1: Double(bin.genuine), fill: Self.genuineColour,
                    label: "score \(range): \(Formatting.count(bin.genuine)) genuine"
                )
            }
            if bin.fraud > 0 {
                chart.bar(
                    x0: start + 25, x1: start + 45, y0: 0.5, y1: Double(bin.fraud), fill: Self.fraudColour,
                    label: "score \(range): \(Formatting.count(bin.fraud)) fraud"
                )
            }
        }
        if let policy = self.policy {
            chart.verticalGuide(at: Double(policy.reviewThreshold), label: "review ≥ \(policy.reviewThreshold)")
            chart.verticalGuide(at: Double(policy.blockThreshold), label: "block ≥ \(policy.blockThreshold)")
        }
        if self.examples == 0 { chart.notice("No scored payments.") }
        var legend: [(SVGChart.LegendSymbol, String)] = [
            (.box(Self.genuineColour), "genuine (\(Formatting.count(self.genuine)))"),
            (.box(Self.fraudColour), "fraud (\(Formatting.count(self.frauds)))"),
        ]
        for (index, point) in self.operatingPoints.enumerated() {
            guard let threshold = point.scoreThreshold, threshold <= 1000 else { continue }
            let colour = Self.pointColours[index % Self.pointColours.count]
            chart.line(chart.px(Double(threshold)), chart.top, chart.px(Double(threshold)), chart.bottom, stroke: colour, width: 2)
            legend.append((.line(colour, dash: nil), "score ≥ \(threshold): \(point.limit.label) FPR threshold"))
        }
        chart.legend(legend, corner: .topRight)
        return chart.rendered()
    }

    /// `0.1%`, `1%`, `20%`, …
    static func percentTick(_ rate: Double) -> String {
        String(format: "%g%%", rate * 100)
    }

    /// `1`, `10`, `1,000`, …
    static func countTick(_ count: Double) -> String {
        count < 1e15 ? Formatting.count(Int(count.rounded())) : String(format: "%g", count)
    }
}
