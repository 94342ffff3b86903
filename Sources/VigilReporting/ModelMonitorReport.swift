public import VigilDomain
public import VigilEngine
import VigilFeatures
import VigilJSON
public import VigilTraining

/// The payments a period's report is about, and the fraud labels the log holds for them by the end of the log
/// ("so far"): what `vigil model monitor` and `vigil model compare` both join. Labels are daily-file fraud reports and
/// returns or recalls for fraud (`FRAD`), matched to scored payments of the same tenant by payment id or UETR.
public struct LabelledPeriod: Sendable {
    /// Payments received at or after `from` and before `to` are in the period.
    public var from: Instant
    public var to: Instant
    var reportedIds: Set<TenantKey> = []

    struct TenantKey: Hashable, Sendable {
        var tenant: String
        var key: String
    }

    public init(from: Instant, to: Instant) {
        self.from = from
        self.to = to
    }

    public func contains(_ event: ScoredPaymentEvent) -> Bool {
        event.receivedAt.epochMillis >= from.epochMillis && event.receivedAt.epochMillis < to.epochMillis
    }

    /// Remembers a label of `tenant`'s payment, named by its id and/or its UETR. Run-time label records (issue 14 §2)
    /// come here as the daily files' do.
    public mutating func label(tenant: String, paymentId: String?, uetr: String?) {
        if let paymentId { reportedIds.insert(TenantKey(tenant: tenant, key: "id:" + paymentId)) }
        if let uetr { reportedIds.insert(TenantKey(tenant: tenant, key: "uetr:" + uetr.lowercased())) }
    }

    /// Takes the labels of a log record; true when it was one.
    @discardableResult
    public mutating func label(_ event: LoggedEvent) -> Bool {
        let (tenant, record): (String, IntakeRecord)
        switch event {
        case .intake(let intake): (tenant, record) = (intake.tenant, intake.record)
        case .label(let label): (tenant, record) = (label.tenant, label.record.intakeRecord)
        case .scored, .duplicateAnswered, .shadow: return false
        }
        switch record {
        case .fraudReport(let report): label(tenant: tenant, paymentId: report.paymentId, uetr: report.uetr)
        case .status(let status) where status.isFraud: label(tenant: tenant, paymentId: status.paymentId, uetr: status.uetr)
        default: return false
        }
        return true
    }

    /// Whether a label names the payment.
    public func isFraud(tenant: String, paymentId: String, uetr: String?) -> Bool {
        reportedIds.contains(TenantKey(tenant: tenant, key: "id:" + paymentId))
            || uetr.map { reportedIds.contains(TenantKey(tenant: tenant, key: "uetr:" + $0.lowercased())) } ?? false
    }
}

/// `vigil model monitor`: how the payments scored in a period compare with a model's training profile (PSI of the
/// served scores and of each feature), and per tenant how its alerts fared against the fraud reported so far.
public struct ModelMonitor: Sendable {
    public let profile: TrainingProfile?
    /// The profiled model's version: only its scores are compared with the profile's score distribution.
    public let modelVersion: String
    public private(set) var period: LabelledPeriod
    let features: [(feature: Int, distribution: BinnedDistribution)]
    var scoreCounts: [Int]
    var featureCounts: [[Int]]
    var payments = 0
    var scoredByModel = 0
    var driftPayments = 0
    var versions: [String: Int] = [:]
    var tenants: [String: [Alerted]] = [:]

    struct Alerted: Sendable {
        var paymentId: String
        var uetr: String?
        var alerted: Bool
    }

    public init(profile: TrainingProfile?, modelVersion: String, period: LabelledPeriod) {
        self.profile = profile
        self.modelVersion = modelVersion
        self.period = period
        var features: [(Int, BinnedDistribution)] = []
        for entry in profile?.features ?? [] {
            if let feature = Feature(name: entry.name) { features.append((feature.rawValue, entry.distribution)) }
        }
        self.features = features
        scoreCounts = [Int](repeating: 0, count: profile?.score.binCount ?? 0)
        featureCounts = features.map { [Int](repeating: 0, count: $0.1.binCount) }
    }

    /// Takes one record of the log, in any order: scored payments of the period, and labels of any time.
    public mutating func add(_ event: LoggedEvent) {
        switch event {
        case .scored(let scored):
            guard period.contains(scored) else { return }
            payments += 1
            versions[scored.modelVersion, default: 0] += 1
            tenants[scored.tenant, default: []].append(
                Alerted(paymentId: scored.paymentId, uetr: scored.request.uetr, alerted: scored.response.decision != .allow)
            )
            // A degraded answer's features are the request's alone: not the distribution the model was trained on.
            guard profile != nil, scored.response.degraded != true else { return }
            if scored.modelVersion == modelVersion {
                scoredByModel += 1
                scoreCounts[profile!.score.bin(Double(scored.response.score))] += 1
            }
            driftPayments += 1
            for (index, entry) in features.enumerated() {
                let value = entry.feature < scored.features.count ? scored.features[entry.feature] ?? .nan : .nan
                featureCounts[index][entry.distribution.bin(value)] += 1
            }
        case .intake, .label:
            period.label(event)
        case .duplicateAnswered, .shadow:
            break
        }
    }

    /// Takes a label from whatever source (run-time label records, issue 14 §2, come here as the daily files' do).
    public mutating func label(tenant: String, paymentId: String?, uetr: String?) {
        period.label(tenant: tenant, paymentId: paymentId, uetr: uetr)
    }

    public func report() -> ModelMonitorReport {
        var report = ModelMonitorReport(
            from: period.from, to: period.to, modelVersion: modelVersion, hasProfile: profile != nil, payments: payments,
            scoredByModel: scoredByModel, driftPayments: driftPayments, versions: versions
        )
        if let profile {
            report.scorePSI = PopulationStability.index(expected: profile.score.proportions, counts: scoreCounts)
            for (index, entry) in features.enumerated() {
                guard let psi = PopulationStability.index(expected: entry.distribution.proportions, counts: featureCounts[index]) else { continue }
                report.features.append(.init(feature: Feature(rawValue: entry.feature)!.name, psi: psi))
            }
            report.features.sort { $0.psi != $1.psi ? $0.psi > $1.psi : $0.feature < $1.feature }
        }
        for (tenant, payments) in tenants.sorted(by: { $0.key < $1.key }) {
            var quality = ModelMonitorReport.TenantQuality(tenant: tenant, payments: payments.count)
            for payment in payments {
                let fraud = period.isFraud(tenant: tenant, paymentId: payment.paymentId, uetr: payment.uetr)
                if payment.alerted { quality.alerts += 1 }
                if fraud { quality.reportedFrauds += 1 }
                if fraud && payment.alerted { quality.alertedFrauds += 1 }
            }
            report.tenants.append(quality)
        }
        return report
    }
}

/// What `vigil model monitor` prints.
public struct ModelMonitorReport: Sendable {
    public var from: Instant
    public var to: Instant
    public var modelVersion: String
    public var hasProfile: Bool
    /// Payments scored in the period.
    public var payments: Int
    /// Of them, scored by ``modelVersion`` (the ones the score PSI is over).
    public var scoredByModel: Int
    /// Of them, not degraded (the ones the feature PSI is over).
    public var driftPayments: Int
    /// Payments per model version that scored them.
    public var versions: [String: Int]
    public var scorePSI: Double?
    /// Highest PSI first.
    public var features: [FeatureDrift] = []
    /// By tenant name.
    public var tenants: [TenantQuality] = []

    public struct FeatureDrift: Sendable, Equatable {
        public var feature: String
        public var psi: Double
        public var band: PopulationStability.Band { PopulationStability.Band(psi) }
    }

    public struct TenantQuality: Sendable, Equatable {
        public var tenant: String
        public var payments: Int
        /// Answered `review` or `block`.
        public var alerts = 0
        /// Payments of the period reported as fraud so far.
        public var reportedFrauds = 0
        /// Alerted payments reported as fraud.
        public var alertedFrauds = 0
        /// nil without alerts.
        public var precision: Double? { alerts == 0 ? nil : Double(alertedFrauds) / Double(alerts) }
        /// nil without reported frauds.
        public var recall: Double? { reportedFrauds == 0 ? nil : Double(alertedFrauds) / Double(reportedFrauds) }

        public init(tenant: String, payments: Int, alerts: Int = 0, reportedFrauds: Int = 0, alertedFrauds: Int = 0) {
            self.tenant = tenant
            self.payments = payments
            self.alerts = alerts
            self.reportedFrauds = reportedFrauds
            self.alertedFrauds = alertedFrauds
        }
    }

    /// Plain text for a terminal.
    public func text() -> String {
        func figure(_ value: Double?) -> String { value.map { String(format4: $0) } ?? "–" }
        var lines = [
            "model monitor: \(from.rfc3339UTC) to \(to.rfc3339UTC), \(payments) payments scored",
            "model \(modelVersion): \(scoredByModel) of them scored by it"
                + (versions.count > 1 || (versions.count == 1 && versions[modelVersion] == nil)
                    ? " (by version: " + versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")" : ""),
        ]
        if !hasProfile {
            lines.append("drift: the model carries no training profile (vigil_training_profile); train it with `vigil train` to monitor drift")
        } else {
            lines.append("score PSI: " + (scorePSI.map { "\(String(format4: $0)) (\(PopulationStability.Band($0).rawValue))" } ?? "– (no payment scored by this model)"))
            lines.append("feature PSI (\(driftPayments) payments; below 0.1 stable, 0.1–0.25 moderate, 0.25 and above significant):")
            for drift in features { lines.append("  \(drift.feature)  \(String(format4: drift.psi))  \(drift.band.rawValue)") }
        }
        lines.append("alerts (review + block) and fraud reported so far, by tenant:")
        lines.append("  tenant  payments  alerts  reported frauds  alerted frauds  precision  recall")
        for tenant in tenants {
            lines.append(
                "  \(tenant.tenant)  \(tenant.payments)  \(tenant.alerts)  \(tenant.reportedFrauds)  \(tenant.alertedFrauds)  "
                    + "\(figure(tenant.precision))  \(figure(tenant.recall))"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// JSON with sorted keys; absent figures are `null`.
    public func json() -> String {
        var writer = JSONWriter(capacity: 1024)
        func optional(_ value: Double?) { if let value { writer.double(value) } else { writer.null() } }
        writer.beginObject()
        writer.key("features")
        writer.beginArray()
        for drift in features {
            writer.beginObject()
            writer.key("band")
            writer.string(drift.band.rawValue)
            writer.key("feature")
            writer.string(drift.feature)
            writer.key("psi")
            writer.double(drift.psi)
            writer.endObject()
        }
        writer.endArray()
        writer.key("from")
        writer.string(from.rfc3339UTC)
        writer.key("hasProfile")
        writer.bool(hasProfile)
        writer.key("modelVersion")
        writer.string(modelVersion)
        writer.key("payments")
        writer.int(payments)
        writer.key("score")
        writer.beginObject()
        writer.key("band")
        if let scorePSI { writer.string(PopulationStability.Band(scorePSI).rawValue) } else { writer.null() }
        writer.key("payments")
        writer.int(scoredByModel)
        writer.key("psi")
        optional(scorePSI)
        writer.endObject()
        writer.key("tenants")
        writer.beginArray()
        for tenant in tenants {
            writer.beginObject()
            writer.key("alertedFrauds")
            writer.int(tenant.alertedFrauds)
            writer.key("alerts")
            writer.int(tenant.alerts)
            writer.key("payments")
            writer.int(tenant.payments)
            writer.key("precision")
            optional(tenant.precision)
            writer.key("recall")
            optional(tenant.recall)
            writer.key("reportedFrauds")
            writer.int(tenant.reportedFrauds)
            writer.key("tenant")
            writer.string(tenant.tenant)
            writer.endObject()
        }
        writer.endArray()
        writer.key("to")
        writer.string(to.rfc3339UTC)
        writer.key("versions")
        writer.beginObject()
        for (version, count) in versions.sorted(by: { $0.key < $1.key }) {
            writer.key(version)
            writer.int(count)
        }
        writer.endObject()
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

extension String {
    /// Four decimals, without Foundation's locale.
    init(format4 value: Double) {
        guard value.isFinite else {
            self = value.isNaN ? "nan" : value > 0 ? "inf" : "-inf"
            return
        }
        let scaled = Int64((abs(value) * 10_000).rounded())
        let whole = scaled / 10_000
        let fraction = String(scaled % 10_000)
        self = (value < 0 && scaled != 0 ? "-" : "") + "\(whole)." + String(repeating: "0", count: 4 - fraction.count) + fraction
    }
}
