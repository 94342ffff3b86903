import Foundation
public import Prometheus
import Synchronization
import VigilDomain
import VigilEngine

/// The service's Prometheus metrics. Labels are route templates, statuses, tenants and decisions:
/// bounded sets, never a payment value or token.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let fsyncSeconds: ValueHistogram
    let fsyncBatch: ValueHistogram
    let readyGauge: Gauge
    let requestCounters = CollectorCache<RequestKey, Counter>()
    let requestDurations = CollectorCache<String, ValueHistogram>()
    let decisionCounters = CollectorCache<DecisionKey, Counter>()
    let connectionsRefused: Counter
    /// Client connections open now; `ConnectionGate` keeps it.
    let openConnections = Atomic<Int>(0)
    let timeoutCounters: [RequestDeadline.Phase: Counter]
    let logLinesDropped: Counter
    let paymentsRefused: Counter
    let stateRefused: Counter
    let degradedScores: Counter
    /// The dropped-line count already added to `logLinesDropped`, which `LogOutput` counts on its own.
    private let reportedDroppedLines = Mutex(0)
    /// What each state-store counter stood at when last exposed, by name.
    private let reportedStoreCounters = Mutex<[String: Int]>([:])
    /// Run at each scrape to bring gauges that are read, not counted, up to date (e.g. the stream's lag).
    private let scrapeHooks = Mutex<[@Sendable () -> Void]>([])

    struct RequestKey: Hashable {
        var route: String
        var status: Int
    }

    struct DecisionKey: Hashable {
        var tenant: String
        var decision: Decision
    }

    static let latencyBuckets: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        fsyncSeconds = registry.makeValueHistogram(
            name: "vigil_event_log_fsync_seconds", buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
            help: "Time spent in fsync per event-log group commit."
        )
        fsyncBatch = registry.makeValueHistogram(
            name: "vigil_event_log_batch_records", buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
            help: "Records made durable per group commit."
        )
        readyGauge = registry.makeGauge(
            name: "vigil_ready", help: "1 once recovery has finished and while the event log can append; 0 otherwise."
        )
        connectionsRefused = registry.makeCounter(
            name: "vigil_connections_refused_total", help: "Connections closed at once because maxConnections were open."
        )
        var timeouts: [RequestDeadline.Phase: Counter] = [:]
        for (phase, label) in [(RequestDeadline.Phase.head, "header"), (.body, "body"), (.idle, "idle")] {
            timeouts[phase] = registry.makeCounter(
                name: "vigil_connections_timed_out_total", labels: [("phase", label)],
                help: "Connections closed because the client stalled: request head, request body, or idle keep-alive."
            )
        }
        timeoutCounters = timeouts
        logLinesDropped = registry.makeCounter(
            name: "vigil_log_lines_dropped_total", help: "Log lines dropped because the log destination refused the write."
        )
        paymentsRefused = registry.makeCounter(
            name: "vigil_payments_unacknowledged_total", help: "Payments answered 503 because the event log could not append them."
        )
        degradedScores = registry.makeCounter(
            name: "vigil_degraded_scores_total",
            help: "Payments scored from their request alone (degraded: true) because the shared state store failed."
        )
        stateRefused = registry.makeCounter(
            name: "vigil_state_unavailable_total",
            help: "Payments answered 503 because the shared state store (Valkey/Redis) failed or did not answer in time."
        )
    }

    func request(route: String, status: Int, seconds: Double) {
        requestCounters.collector(for: RequestKey(route: route, status: status)) {
            registry.makeCounter(
                name: "vigil_http_requests_total", labels: [("route", route), ("status", String(status))],
                help: "HTTP requests by route template and status."
            )
        }.increment()
        requestDurations.collector(for: route) {
            registry.makeValueHistogram(
                name: "vigil_http_request_duration_seconds", labels: [("route", route)], buckets: Self.latencyBuckets,
                help: "HTTP request latency by route template."
            )
        }.record(seconds)
    }

    func decision(tenant: String, decision: Decision) {
        decisionCounters.collector(for: DecisionKey(tenant: tenant, decision: decision)) {
            registry.makeCounter(
                name: "vigil_decisions_total", labels: [("tenant", tenant), ("decision", decision.rawValue)],
                help: "Scoring decisions by tenant."
            )
        }.increment()
    }

    /// Called by the event log after each group commit.
    public func synced(seconds: Double, records: Int) {
        fsyncSeconds.record(seconds)
        fsyncBatch.record(Double(records))
    }

    func setReady(_ ready: Bool) { readyGauge.set(to: ready ? 1.0 : 0.0) }

    func connectionRefused() { connectionsRefused.increment() }

    func connectionTimedOut(phase: RequestDeadline.Phase) { timeoutCounters[phase]?.increment() }

    func paymentUnacknowledged() { paymentsRefused.increment() }

    func stateUnavailable() { stateRefused.increment() }

    func degradedScore() { degradedScores.increment() }

    /// Runs `hook` before each exposition.
    func onScrape(_ hook: @escaping @Sendable () -> Void) {
        scrapeHooks.withLock { $0.append(hook) }
    }

    /// Brings `vigil_log_lines_dropped_total` up to the count `output` keeps.
    func recordDroppedLogLines(_ output: LogOutput) {
        let total = output.droppedLines
        let delta = reportedDroppedLines.withLock { reported in
            defer { reported = max(reported, total) }
            return total - reported
        }
        if delta > 0 { logLinesDropped.increment(by: Int64(delta)) }
    }

    /// Brings each of a shared store's own counters (``StateStoreCounter``) up to its total.
    func recordStoreCounters(_ counters: [StateStoreCounter]) {
        for counter in counters {
            let delta = reportedStoreCounters.withLock { reported in
                defer { reported[counter.name] = max(reported[counter.name] ?? 0, counter.total) }
                return counter.total - (reported[counter.name] ?? 0)
            }
            let handle = registry.makeCounter(name: counter.name, help: counter.help)
            if delta > 0 { handle.increment(by: Int64(delta)) }
        }
    }

    /// The link to the peer region: its counters, and the replication lag once a peer event has been folded.
    func recordRegion(_ link: RegionLink) {
        let counts = link.statistics
        recordStoreCounters([
            StateStoreCounter(
                name: "vigil_region_peer_write_misses_total",
                help: "Answers not written to the peer region's store (down, slow or failing): the local write alone acknowledged.",
                total: counts.peerWriteMisses
            ),
            StateStoreCounter(
                name: "vigil_region_peer_writes_skipped_total",
                help: "Answers not written to the peer region because their tenant's data is not kept there (data residency).",
                total: counts.peerWritesSkipped
            ),
            StateStoreCounter(
                name: "vigil_region_events_folded_total", help: "Scored payments of the peer region folded into this region's state.",
                total: counts.folded
            ),
            StateStoreCounter(
                name: "vigil_region_events_skipped_total",
                help: "Peer-region events left out: their tenant's data is not kept in this region, the tenant is unknown here, or the record is not a scored payment.",
                total: counts.foldSkipped
            ),
        ])
        if let lag = link.replicationLagSeconds(nowMillis: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) {
            registry.makeGauge(
                name: "vigil_region_replication_lag_seconds",
                help: "Seconds from the newest folded peer-region payment's receipt there to now."
            ).set(to: lag)
        }
    }

    /// Sets the model-monitoring gauges (docs/monitoring.md) from the engine's ``ServingMonitor``: drift of the served
    /// scores and of each model feature against the champion's training profile, and per tenant the alerts, the fraud
    /// reports received and their precision and recall. Labelled by feature name and tenant only.
    static func record(_ snapshot: ServingMonitor.Snapshot, in registry: PrometheusCollectorRegistry) {
        registry.makeGauge(
            name: "vigil_model_monitored_payments", help: "Payments scored by the serving champion since start and counted for drift."
        ).set(to: Double(snapshot.payments))
        if let psi = snapshot.scorePSI {
            registry.makeGauge(
                name: "vigil_model_score_psi", help: "PSI of the served scores since start against the champion's training profile."
            ).set(to: psi)
        }
        for (feature, psi) in snapshot.featurePSI {
            registry.makeGauge(
                name: "vigil_model_feature_psi", labels: [("feature", feature)],
                help: "PSI of a model feature since start against the champion's training profile (0.1 moderate, 0.25 significant)."
            ).set(to: psi)
        }
        for (tenant, quality) in snapshot.tenants {
            let labels = [("tenant", tenant)]
            registry.makeGauge(name: "vigil_model_alerts", labels: labels, help: "Payments answered review or block since start.")
                .set(to: Double(quality.alerts))
            registry.makeGauge(
                name: "vigil_model_fraud_reports", labels: labels, help: "Fraud reports and FRAD returns received since start."
            ).set(to: Double(quality.reports))
            registry.makeGauge(
                name: "vigil_model_alerted_fraud_reports", labels: labels,
                help: "Fraud reports received since start for payments this node alerted (and still remembers)."
            ).set(to: Double(quality.alertedReports))
            if let precision = quality.precision {
                registry.makeGauge(
                    name: "vigil_model_alert_precision", labels: labels, help: "Share of alerts since start reported as fraud so far."
                ).set(to: precision)
            }
            if let recall = quality.recall {
                registry.makeGauge(
                    name: "vigil_model_alert_recall", labels: labels, help: "Share of fraud reports received since start whose payment was alerted."
                ).set(to: recall)
            }
        }
    }

    /// The Prometheus exposition, with the state-size gauges read at scrape time.
    /// - Parameters:
    ///   - featureKeys, duplicateEntries: nil for a shared store, which counts its own keys.
    ///   - storeCounters: a shared store's counters (round trips, compare-and-set retries, …).
    public func text(
        featureKeys: (accounts: Int, pairs: Int, entities: Int)?, duplicateEntries: Int?, storeCounters: [StateStoreCounter] = [],
        link: RegionLink? = nil
    ) -> String {
        recordStoreCounters(storeCounters)
        for hook in scrapeHooks.withLock({ $0 }) { hook() }
        if let link, link.peer != nil { recordRegion(link) }
        registry.makeGauge(name: "vigil_connections_open", help: "Client connections open now.")
            .set(to: Double(openConnections.load(ordering: .relaxed)))
        recordDroppedLogLines(.standardError)
        if let featureKeys {
            let keys = [("account", featureKeys.accounts), ("pair", featureKeys.pairs), ("device_or_ip", featureKeys.entities)]
            for (kind, count) in keys {
                registry.makeGauge(name: "vigil_feature_state_keys", labels: [("kind", kind)], help: "Keys held in the feature state.")
                    .set(to: Double(count))
            }
        }
        if let duplicateEntries {
            registry.makeGauge(name: "vigil_duplicate_index_entries", help: "Payment ids remembered for the duplicate check.")
                .set(to: Double(duplicateEntries))
        }
        return registry.emitToString()
    }
}

/// Collectors already registered, by label values, so the per-request path skips the registry's name validation
/// and its global lock. The registry stays the one owner of every series; this only remembers the handles.
final class CollectorCache<Key: Hashable & Sendable, Collector: AnyObject & Sendable>: Sendable {
    private let collectors = Mutex<[Key: Collector]>([:])

    func collector(for key: Key, make: () -> Collector) -> Collector {
        collectors.withLock { collectors in
            if let known = collectors[key] { return known }
            let made = make()
            collectors[key] = made
            return made
        }
    }
}
