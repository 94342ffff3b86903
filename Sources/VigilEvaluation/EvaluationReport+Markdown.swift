extension EvaluationReport {
    /// File names for ``files()``; the Markdown links the charts by these names.
    public enum FileName {
        public static let markdown = "evaluation.md"
        public static let json = "evaluation.json"
        public static let roc = "roc.svg"
        public static let rocLinear = "roc-linear.svg"
        public static let precisionRecall = "precision-recall.svg"
        public static let scoreDistribution = "score-distribution.svg"
    }

    /// Every rendering, by the file name the Markdown refers to, for writing into one directory.
    public func files() -> [(name: String, contents: [UInt8])] {
        [
            (FileName.markdown, Array(self.markdown().utf8)),
            (FileName.json, self.json()),
            (FileName.roc, Array(self.rocSVG().utf8)),
            (FileName.rocLinear, Array(self.rocSVG(falsePositiveRateAxis: .linear).utf8)),
            (FileName.precisionRecall, Array(self.precisionRecallSVG().utf8)),
            (FileName.scoreDistribution, Array(self.scoreDistributionSVG().utf8)),
        ]
    }

    /// The report for a bank's fraud team: headline figures, operating points, recall by group, alert load, score
    /// bands and calibration, each with a line saying what it measures.
    public func markdown() -> String {
        typealias F = Formatting
        var lines: [String] = []
        func add(_ line: String = "") { lines.append(line) }
        func definition(_ key: String) -> String { Self.definitions[key] ?? "" }
        func value(_ metric: Double?, key: String, format: (Double?) -> String) -> String {
            guard metric == nil, let reason = self.unavailable[key] else { return format(metric) }
            return "n/a (\(reason))"
        }

        add("# Fraud model evaluation: \(self.modelVersion)")
        add()
        add("Period: \(self.period). \(F.count(self.examples)) scored payments, \(F.count(self.frauds)) frauds ("
            + "\(F.percent(self.fraudRate))), \(F.count(self.genuine)) genuine; fraud value \(F.amount(self.fraudValue)).")
        if let policy = self.policy {
            add("Decisions: review at score ≥ \(policy.reviewThreshold), block at score ≥ \(policy.blockThreshold), "
                + "plus \(policy.ruleCount) rule\(policy.ruleCount == 1 ? "" : "s"). A payment counts as flagged when "
                + "its decision is review or block.")
        } else {
            add("A payment counts as flagged when its decision (thresholds and rules together) is review or block.")
        }
        add()
        add("## Warnings")
        add()
        if self.warnings.isEmpty {
            add("None. " + definition("warnings"))
        } else {
            for warning in self.warnings { add("- **\(warning.code)**: \(warning.message)") }
            add()
            add(definition("warnings"))
        }
        add()

        add("## Headline")
        add()
        add("| metric | value | what it tells you |")
        add("|---|---|---|")
        add("| Fraud rate | \(value(self.fraudRate, key: "fraudRate", format: F.percent)) | "
            + "Share of scored payments that were fraud. |")
        add("| ROC-AUC | \(value(self.rocAUC, key: "rocAuc") { F.decimal($0, 4) }) | "
            + "How well the score ranks fraud above genuine payments overall: 0.5 is chance, 1 is perfect. |")
        add("| PR-AUC (average precision) | \(value(self.prAUC, key: "prAuc") { F.decimal($0, 4) }) | "
            + "How precise the alerts stay as more fraud is caught; chance is the fraud rate. |")
        for point in self.operatingPoints {
            let threshold = point.scoreThreshold.map { " (score ≥ \($0))" } ?? ""
            let oneIn = Int((1 / point.limit.rate).rounded())
            add("| Recall at \(point.limit.label) FPR | "
                + "\(value(point.recall, key: "recallAtFpr.\(point.limit.key)", format: F.percent))\(threshold) | "
                + "Share of frauds caught by the best score threshold that flags at most 1 in \(F.count(oneIn)) "
                + "genuine payments. |")
        }
        add("| Value-detection rate (decisions) | "
            + "\(value(self.valueDetectionRate, key: "valueDetectionRate", format: F.percent)) | "
            + "Share of fraud money the configured decisions (thresholds and rules) would have blocked or sent to "
            + "review. |")
        for point in self.operatingPoints where point.limit.key == "0.01" {
            add("| Value-detection rate at 1% FPR threshold | "
                + "\(value(point.valueDetectionRate, key: "valueDetectionRateAtFpr.0.01", format: F.percent)) | "
                + "Share of fraud money scored at or above the 1% FPR threshold. |")
        }
        add("| Decisions: recall / FPR / precision | \(F.percent(self.decisions.recall)) / "
            + "\(F.percent(self.decisions.falsePositiveRate)) / \(F.percent(self.decisions.precision)) | "
            + "Share of frauds flagged, share of genuine payments flagged, share of alerts that were fraud. |")
        add("| Alerts per day (mean / max) | "
            + "\(F.decimal(self.alertsPerDay.mean, 1)) / \(F.count(self.alertsPerDay.max))"
            + "\(self.alertsPerDay.maxDay.map { " on \($0)" } ?? "") | "
            + "Payments blocked or sent to review per day: the fraud team's workload. |")
        add("| Brier score | \(value(self.brierScore, key: "brierScore") { F.decimal($0, 5) }) | "
            + "How accurate the probabilities are: 0 is perfect, lower is better. |")
        add()
        add("Exactly how they are computed (the other figures are defined in their sections):")
        add()
        for key in ["fraudRate", "rocAuc", "prAuc", "recallAtFpr", "valueDetectionRate"] {
            add("- \(key): \(definition(key))")
        }
        add()
        if !self.unavailable.isEmpty {
            add("Not available:")
            add()
            for (key, reason) in self.unavailable.sorted(by: { $0.key < $1.key }) { add("- `\(key)`: \(reason).") }
            add()
        }

        add("## Score thresholds at fixed false-positive rates")
        add()
        add(definition("thresholds.recallAtFpr") + " " + definition("valueDetectionRateAtFpr"))
        add()
        add("| FPR limit | threshold (score ≥) | FPR | recall | precision | value detected | payments flagged |")
        add("|---|---|---|---|---|---|---|")
        for point in self.operatingPoints {
            add("| \(point.limit.label) | \(F.count(point.scoreThreshold)) | \(F.percent(point.falsePositiveRate)) | "
                + "\(F.percent(point.recall)) | \(F.percent(point.precision)) | "
                + "\(F.percent(point.valueDetectionRate)) | \(F.count(point.flagged)) |")
        }
        add()

        add("## Configured decisions")
        add()
        add(definition("decisions"))
        add()
        add("| decision | payments |")
        add("|---|---|")
        for (decision, count) in self.decisions.counts.sorted(by: { Self.decisionOrder($0.key) < Self.decisionOrder($1.key) }) {
            add("| \(F.markdownCell(decision)) | \(F.count(count)) |")
        }
        add()
        add("Flagged: \(F.count(self.decisions.flagged)) payments, \(F.count(self.decisions.fraudsFlagged)) of them "
            + "fraud. Recall \(F.percent(self.decisions.recall)), false-positive rate "
            + "\(F.percent(self.decisions.falsePositiveRate)), precision \(F.percent(self.decisions.precision)).")
        add()

        add("## Rules")
        add()
        add(definition("rules"))
        add()
        if self.ruleHits.isEmpty {
            add("No rule was configured or fired.")
        } else {
            add("| rule | hits | fraud hits | precision | share of frauds |")
            add("|---|---|---|---|---|")
            for rule in self.ruleHits {
                add("| \(F.markdownCell(rule.name)) | \(F.count(rule.hits)) | \(F.count(rule.fraudHits)) | "
                    + "\(F.percent(rule.precision)) | \(F.percent(rule.recall)) |")
            }
        }
        add()

        add("## Top flagged payments")
        add()
        add(definition("topFlagged"))
        add()
        self.addPayments(self.topFlagged, empty: "No payment was flagged.", to: &lines)

        add("## Missed frauds")
        add()
        add(definition("missedFrauds") + " \(F.count(self.missedFraudCount)) of \(F.count(self.frauds)) frauds were "
            + "allowed" + (self.missedFraudCount > self.missedFrauds.count ? "; the \(self.missedFrauds.count) largest:" : "."))
        add()
        self.addPayments(self.missedFrauds, empty: "No fraud was missed.", to: &lines)

        add("## Recall by fraud type")
        add()
        add(definition("recallByFraudType"))
        add()
        self.addGroups(self.recallByFraudType, firstColumn: "fraud type", frauds: true, to: &lines)

        add("## Recall by perspective")
        add()
        add(definition("recallByPerspective"))
        add()
        self.addGroups(self.recallByPerspective, firstColumn: "perspective", frauds: false, to: &lines)

        add("## Alerts per day")
        add()
        add(definition("alertsPerDay") + " Mean \(F.decimal(self.alertsPerDay.mean, 1)), max "
            + "\(F.count(self.alertsPerDay.max))\(self.alertsPerDay.maxDay.map { " (\($0))" } ?? "").")
        add()
        if !self.alertsPerDay.days.isEmpty {
            add("| day (UTC) | alerts |")
            add("|---|---|")
            for (day, alerts) in self.alertsPerDay.days.sorted(by: { $0.key < $1.key }) {
                add("| \(F.markdownCell(day)) | \(F.count(alerts)) |")
            }
            add()
        }

        add("## Score bands")
        add()
        add(definition("scoreBands"))
        add()
        add("| score | genuine | fraud | fraud rate |")
        add("|---|---|---|---|")
        for band in self.scoreBands {
            add("| \(band.lower)–\(band.upper) | \(F.count(band.genuine)) | \(F.count(band.fraud)) | "
                + "\(F.percent(band.fraudRate)) |")
        }
        add()

        add("## Calibration")
        add()
        add(definition("calibration") + " Brier score \(F.decimal(self.brierScore, 5)): " + definition("brierScore"))
        add()
        self.addCalibration(self.calibration, bounds: { F.decimal($0, 1) }, to: &lines)
        add(definition("calibrationByQuantile"))
        add()
        self.addCalibration(self.calibrationByQuantile, bounds: F.probability, to: &lines)

        add("## Charts")
        add()
        add("- [ROC curve, log false-positive-rate axis](\(FileName.roc)) and [linear](\(FileName.rocLinear)): "
            + "recall against false-positive rate as the score threshold falls, the 0.1% and 1% points marked.")
        add("- [Precision–recall curve](\(FileName.precisionRecall)): the precision of the alerts at each recall.")
        add("- [Score distribution](\(FileName.scoreDistribution)): genuine and fraud payments per 50 score points, "
            + "log count axis.")
        add()
        add("![ROC curve](\(FileName.roc))")
        add()
        add("![Precision–recall curve](\(FileName.precisionRecall))")
        add()
        add("![Score distribution](\(FileName.scoreDistribution))")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func decisionOrder(_ decision: String) -> (Int, String) {
        (["allow": 0, "review": 1, "block": 2][decision] ?? 3, decision)
    }

    private func addGroups(_ groups: [GroupRecall], firstColumn: String, frauds: Bool, to lines: inout [String]) {
        typealias F = Formatting
        guard !groups.isEmpty else {
            lines += ["No \(frauds ? "fraud" : "scored") payments.", ""]
            return
        }
        if frauds {
            lines.append("| \(firstColumn) | frauds | flagged | recall | fraud value | value detected |")
            lines.append("|---|---|---|---|---|---|")
        } else {
            lines.append("| \(firstColumn) | payments | alerts | frauds | flagged | recall | fraud value | value detected |")
            lines.append("|---|---|---|---|---|---|---|---|")
        }
        for group in groups {
            let payments = frauds ? "" : " \(F.count(group.examples)) | \(F.count(group.alerts)) |"
            lines.append("| \(F.markdownCell(group.name)) |\(payments) \(F.count(group.frauds)) | "
                + "\(F.count(group.fraudsFlagged)) | \(F.percent(group.recall)) | \(F.amount(group.fraudValue)) | "
                + "\(F.percent(group.valueDetectionRate)) |")
        }
        lines.append("")
    }

    private func addPayments(_ payments: [ScoredExample], empty: String, to lines: inout [String]) {
        typealias F = Formatting
        guard !payments.isEmpty else {
            lines += [empty, ""]
            return
        }
        lines.append("| payment | day | score | decision | outcome | amount | reasons | rules fired |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for payment in payments {
            let outcome = payment.isFraud ? "fraud (\(payment.fraudType ?? GroupRecall.unspecifiedType))" : "genuine"
            let reasons = payment.reasons.isEmpty ? "–" : payment.reasons.joined(separator: ", ")
            let rules = payment.rules.isEmpty ? "–" : payment.rules.joined(separator: ", ")
            lines.append("| \(F.markdownCell(payment.paymentId.isEmpty ? "–" : payment.paymentId)) | "
                + "\(F.markdownCell(payment.day)) | \(payment.score) | \(F.markdownCell(payment.decision)) | "
                + "\(F.markdownCell(outcome)) | \(F.amount(payment.amount)) | \(F.markdownCell(reasons)) | "
                + "\(F.markdownCell(rules)) |")
        }
        lines.append("")
    }

    private func addCalibration(_ bins: [CalibrationBin], bounds: (Double) -> String, to lines: inout [String]) {
        typealias F = Formatting
        lines.append("| predicted probability | scores | payments | frauds | mean predicted | observed fraud rate |")
        lines.append("|---|---|---|---|---|---|")
        for bin in bins {
            let scores = bin.lowestScore.map { low in "\(low)–\(bin.highestScore ?? low)" } ?? "–"
            lines.append("| \(bounds(bin.lower))–\(bounds(bin.upper)) | \(scores) | \(F.count(bin.count)) | "
                + "\(F.count(bin.frauds)) | \(F.probability(bin.meanPredicted)) | \(F.percent(bin.observedFraudRate)) |")
        }
        lines.append("")
    }
}
