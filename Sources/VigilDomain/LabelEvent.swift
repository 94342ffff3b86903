/// Where a run-time label came from.
public enum LabelSource: String, Sendable, Hashable, Codable, CaseIterable {
    /// `POST /v1/fraud-reports`.
    case api
    /// An ISO 20022 payment status report (`POST /v1/iso20022/pacs.002`).
    case pacs002 = "pacs.002"
    /// An ISO 20022 recall request with reason `FRAD` (`POST /v1/iso20022/camt.056`).
    case camt056 = "camt.056"
}

/// What a run-time label says: the same records as a daily fraud-reports or status file's rows.
public enum LabelRecord: Sendable, Hashable {
    case fraudReport(FraudReport)
    case outcome(PaymentStatusReport)

    /// The payment the label is about: its id, else its UETR.
    public var paymentReference: String {
        switch self {
        case .fraudReport(let report): report.paymentId ?? report.uetr ?? ""
        case .outcome(let status): status.paymentId ?? status.uetr ?? ""
        }
    }

    /// The daily-file record that says the same, so a label and a loaded row go through one code path.
    public var intakeRecord: IntakeRecord {
        switch self {
        case .fraudReport(let report): .fraudReport(report)
        case .outcome(let status): .status(status)
        }
    }
}

/// A label or outcome received at run time (API or ISO 20022), not from a daily file.
public struct LabelEvent: Sendable, Hashable {
    public var tenant: String
    /// When Vigil received it (the known-at time for point-in-time training sets).
    public var receivedAt: Instant
    public var source: LabelSource
    public var record: LabelRecord

    public init(tenant: String, receivedAt: Instant, source: LabelSource, record: LabelRecord) {
        self.tenant = tenant
        self.receivedAt = receivedAt
        self.source = source
        self.record = record
    }
}
