import Synchronization
public import VigilDomain
import VigilFeatures
public import VigilTraining

/// What the server's `/metrics` reports about the serving model, accumulated in-process since the process started:
/// the served scores and each model feature in the bins of the champion's ``TrainingProfile`` (for the PSI gauges),
/// and per tenant the alerted payments (`review` or `block`) and the fraud reports received for them (for precision
/// and recall). docs/monitoring.md explains the figures.
///
/// Scored payments are counted in one of ``shardCount`` histograms, taken in turn, each behind its own lock, so two
/// requests rarely wait for each other; counting bins a payment's features in place and allocates nothing.
public final class ServingMonitor: Sendable {
    /// Most alerted payments remembered per tenant: a report for an alerted payment older than the last this many
    /// counts as a report of a payment that was not alerted. About 100 bytes each (the id and its place in the set).
    public static let defaultAlertCapacity = 100_000
    static let shardCount = 8

    let shards: [Shard]
    let turn = Atomic<Int>(0)
    let alertCapacity: Int
    let labels = Mutex<[String: TenantLabels]>([:])
    let version = Mutex<String>("")

    /// One histogram: the profile it bins for and its counts.
    final class Shard: Sendable {
        let state = Mutex(Histogram(profile: nil))
    }

    /// A profile laid out for counting: which feature of the engine's vector feeds each distribution, and where each
    /// distribution's bins start in one flat array of counts (the score's first).
    struct CompiledProfile: Sendable {
        var modelVersion: String
        var score: BinnedDistribution
        var features: [(feature: Int, name: String, distribution: BinnedDistribution, offset: Int)]
        var width: Int

        init(_ profile: TrainingProfile, modelVersion: String) {
            self.modelVersion = modelVersion
            score = profile.score
            var offset = profile.score.binCount
            features = []
            for entry in profile.features {
                guard let feature = Feature(name: entry.name) else { continue }
                features.append((feature.rawValue, entry.name, entry.distribution, offset))
                offset += entry.distribution.binCount
            }
            width = offset
        }
    }

    struct Histogram: Sendable {
        var profile: CompiledProfile?
        var counts: [Int]
        var payments = 0

        init(profile: CompiledProfile?) {
            self.profile = profile
            counts = [Int](repeating: 0, count: profile?.width ?? 0)
        }
    }

    struct TenantLabels: Sendable {
        /// Alerted payment ids remembered, oldest first in `order` (a ring once full).
        var alerted: Set<String> = []
        var order: [String] = []
        var next = 0
        var alerts = 0
        var reports = 0
        var alertedReports = 0
    }

    /// - Parameters:
    ///   - profile: the serving champion's profile; nil counts no drift (a model without one).
    ///   - modelVersion: the champion's ``ModelBundle/version``: only its scores are counted.
    public init(profile: TrainingProfile?, modelVersion: String, alertCapacity: Int = ServingMonitor.defaultAlertCapacity) {
        precondition(alertCapacity > 0)
        self.alertCapacity = alertCapacity
        shards = (0..<Self.shardCount).map { _ in Shard() }
        replace(profile: profile, modelVersion: modelVersion)
    }

    /// Monitors another champion from now on: the drift counts start again (precision and recall go on).
    public func replace(profile: TrainingProfile?, modelVersion: String) {
        version.withLock { $0 = modelVersion }
        let compiled = profile.map { CompiledProfile($0, modelVersion: modelVersion) }
        for shard in shards { shard.state.withLock { $0 = Histogram(profile: compiled) } }
    }

    /// The version of the model whose scores are counted: the serving champion's.
    public var modelVersion: String { version.withLock { $0 } }

    /// Counts a scored payment: its score and features when the monitored model scored it (not a degraded answer,
    /// whose features are the request's alone), and remembers it when it was alerted.
    /// - Performance: one shard lock and a binary search per feature; allocates only to remember an alert.
    public func scored(tenant: String, features: [Double], response: ScoreResponse) {
        if response.degraded != true {
            let index = turn.add(1, ordering: .relaxed).oldValue & (Self.shardCount - 1)
            shards[index].state.withLock { histogram in
                guard let profile = histogram.profile, profile.modelVersion == response.modelVersion else { return }
                histogram.payments += 1
                histogram.counts[profile.score.bin(Double(response.score))] += 1
                for entry in profile.features {
                    histogram.counts[entry.offset + entry.distribution.bin(features[entry.feature])] += 1
                }
            }
        }
        guard response.decision != .allow else { return }
        let capacity = alertCapacity
        labels.withLock { labels in
            var tenantLabels = labels.removeValue(forKey: tenant) ?? TenantLabels()
            tenantLabels.alerts += 1
            if tenantLabels.alerted.insert(response.paymentId).inserted {
                if tenantLabels.order.count < capacity {
                    tenantLabels.order.append(response.paymentId)
                } else {
                    tenantLabels.alerted.remove(tenantLabels.order[tenantLabels.next])
                    tenantLabels.order[tenantLabels.next] = response.paymentId
                    tenantLabels.next = (tenantLabels.next + 1) % capacity
                }
            }
            labels[tenant] = tenantLabels
        }
    }

    /// Counts a label received for a tenant's payment: a fraud report, or a return or recall for fraud (`FRAD`).
    /// Other records are not labels and change nothing.
    public func received(_ record: IntakeRecord, tenant: String) {
        let paymentId: String?
        switch record {
        case .fraudReport(let report): paymentId = report.paymentId
        case .status(let status) where status.isFraud: paymentId = status.paymentId
        default: return
        }
        labels.withLock { labels in
            var tenantLabels = labels.removeValue(forKey: tenant) ?? TenantLabels()
            tenantLabels.reports += 1
            // Matched once: a second report of the same payment does not count its alert again.
            if let paymentId, tenantLabels.alerted.remove(paymentId) != nil { tenantLabels.alertedReports += 1 }
            labels[tenant] = tenantLabels
        }
    }

    /// The figures at this moment.
    public var snapshot: Snapshot {
        var counts: [Int] = []
        var payments = 0
        var profile: CompiledProfile?
        for shard in shards {
            shard.state.withLock { histogram in
                profile = histogram.profile
                payments += histogram.payments
                if counts.isEmpty { counts = histogram.counts } else {
                    for i in counts.indices { counts[i] += histogram.counts[i] }
                }
            }
        }
        var snapshot = Snapshot(payments: payments, scorePSI: nil, featurePSI: [], tenants: [:])
        if let profile, payments > 0 {
            snapshot.scorePSI = PopulationStability.index(
                expected: profile.score.proportions, counts: Array(counts[0..<profile.score.binCount])
            )
            for entry in profile.features {
                let bins = Array(counts[entry.offset..<(entry.offset + entry.distribution.binCount)])
                if let psi = PopulationStability.index(expected: entry.distribution.proportions, counts: bins) {
                    snapshot.featurePSI.append((entry.name, psi))
                }
            }
        }
        snapshot.tenants = labels.withLock { labels in
            labels.mapValues { Snapshot.Quality(alerts: $0.alerts, reports: $0.reports, alertedReports: $0.alertedReports) }
        }
        return snapshot
    }

    public struct Snapshot: Sendable {
        /// Payments scored by the monitored model and counted.
        public var payments: Int
        /// PSI of the served scores against the profile's; nil before any payment or without a profile.
        public var scorePSI: Double?
        /// PSI per model feature, in the model's feature order.
        public var featurePSI: [(feature: String, psi: Double)]
        public var tenants: [String: Quality]

        /// A tenant's alerts and the fraud reports received for its payments.
        public struct Quality: Sendable, Equatable {
            /// Payments answered `review` or `block`.
            public var alerts: Int
            /// Fraud reports (and `FRAD` returns) received.
            public var reports: Int
            /// Reports of payments that were alerted (and still remembered).
            public var alertedReports: Int

            public init(alerts: Int, reports: Int, alertedReports: Int) {
                self.alerts = alerts
                self.reports = reports
                self.alertedReports = alertedReports
            }

            /// Share of alerts reported as fraud so far; nil before any alert.
            public var precision: Double? { alerts == 0 ? nil : Double(alertedReports) / Double(alerts) }
            /// Share of reported frauds that were alerted; nil before any report.
            public var recall: Double? { reports == 0 ? nil : Double(alertedReports) / Double(reports) }
        }
    }
}
