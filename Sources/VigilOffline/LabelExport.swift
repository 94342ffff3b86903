public import VigilDomain
public import VigilEngine

/// A label or outcome Vigil knows, with where it came from and when it became known: a run-time label event, or a
/// fraud-reports or status row of a loaded daily file (the same records). What `vigil labels export` writes and
/// `vigil training-set export` labels payments with.
public struct KnownLabel: Sendable, Hashable {
    public var tenant: String
    /// `api`, `pacs.002`, `camt.056` (``LabelSource``), or `file` for a daily file's row.
    public var source: String
    /// The event log's time for it: when the label arrived or its file was loaded.
    public var knownAt: Instant
    public var record: LabelRecord

    public init(tenant: String, source: String, knownAt: Instant, record: LabelRecord) {
        self.tenant = tenant
        self.source = source
        self.knownAt = knownAt
        self.record = record
    }

    /// The label a log record holds; nil for a record that is none (a scored payment, another kind of file row).
    public init?(_ event: LoggedEvent) {
        switch event {
        case .label(let label):
            self.init(tenant: label.tenant, source: label.source.rawValue, knownAt: label.receivedAt, record: label.record)
        case .intake(let intake):
            switch intake.record {
            case .fraudReport(let report): self.init(tenant: intake.tenant, source: "file", knownAt: intake.loadedAt, record: .fraudReport(report))
            case .status(let status): self.init(tenant: intake.tenant, source: "file", knownAt: intake.loadedAt, record: .outcome(status))
            case .history, .directory, .accountLink, .entitlements: return nil
            }
        case .scored, .duplicateAnswered, .shadow:
            return nil
        }
    }

    /// When the bank says it happened: a report's `reportedAt`, an outcome's `at`.
    public var at: Instant {
        switch record {
        case .fraudReport(let report): report.reportedAt
        case .outcome(let status): status.at
        }
    }

    /// Whether it says the payment was fraud: a fraud report, or a return or recall with reason `FRAD`.
    public var isFraud: Bool {
        switch record {
        case .fraudReport: true
        case .outcome(let status): status.isFraud
        }
    }
}

/// The `vigil labels export` CSV (docs/labels.md): one row per label or outcome, tokens only.
///
/// Columns: `tenant, source, paymentId, uetr, knownAt, at, kind, fraudType, status, reasonCode, amountLost, currency,
/// reportingSide, creditorAccount`. `kind` is `fraud-report` or `outcome`; `at` is a report's `reportedAt` or an
/// outcome's `at`; `creditorAccount` is the account's token in hex, never the account. Empty cells are absent values.
public struct LabelExportWriter {
    public static let columns = [
        "tenant", "source", "paymentId", "uetr", "knownAt", "at", "kind", "fraudType", "status", "reasonCode", "amountLost",
        "currency", "reportingSide", "creditorAccount",
    ]
    public private(set) var text: [UInt8] = []
    public private(set) var rows = 0

    public init() {
        text.append(contentsOf: Self.columns.joined(separator: ",").utf8)
        text.append(10)
    }

    public mutating func append(_ label: KnownLabel) {
        var cells = [csvField(label.tenant), csvField(label.source)]
        switch label.record {
        case .fraudReport(let report):
            cells += [
                report.paymentId.map(csvField) ?? "", report.uetr ?? "", label.knownAt.rfc3339UTC, report.reportedAt.rfc3339UTC,
                "fraud-report", report.fraudType.rawValue, "", "", report.amountLost?.decimalString ?? "",
                report.amountLost?.currency.code ?? "", report.reportingSide?.rawValue ?? "", report.creditorAccount?.hex ?? "",
            ]
        case .outcome(let status):
            cells += [
                status.paymentId.map(csvField) ?? "", status.uetr ?? "", label.knownAt.rfc3339UTC, status.at.rfc3339UTC, "outcome", "",
                status.status.rawValue, status.reasonCode ?? "", "", "", "", status.creditorAccount?.hex ?? "",
            ]
        }
        text.append(contentsOf: cells.joined(separator: ",").utf8)
        text.append(10)
        rows += 1
    }
}
