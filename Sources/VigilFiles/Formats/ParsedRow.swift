public import VigilDomain
public import VigilGateway

/// One row of a daily file as its column rules read it: validated, still plaintext. The pipeline tokenises it right
/// after (``IntakeRecord``), inside the same boundary as the gateway.
public enum ParsedRow: Sendable {
    case history(PaymentRequest)
    case fraudReport(ParsedFraudReport)
    case status(ParsedStatus)
    case entitlement(Entitlement)
    case directory(DirectoryEntry)
    case accountLink(ParsedAccountLink)
}

/// A `fraud-reports` row before tokenisation.
public struct ParsedFraudReport: Sendable, Hashable {
    public var paymentId: String?
    /// Lower case.
    public var uetr: String?
    public var reportedAt: Instant
    public var fraudType: FraudType
    public var amountLost: Money?
    public var reportingSide: Perspective?
    /// The reported creditor account, plaintext.
    public var creditorAccount: AccountIdentifier?

    public init(
        paymentId: String?, uetr: String?, reportedAt: Instant, fraudType: FraudType, amountLost: Money? = nil,
        reportingSide: Perspective? = nil, creditorAccount: AccountIdentifier? = nil
    ) {
        self.paymentId = paymentId
        self.uetr = uetr
        self.reportedAt = reportedAt
        self.fraudType = fraudType
        self.amountLost = amountLost
        self.reportingSide = reportingSide
        self.creditorAccount = creditorAccount
    }

    /// The report past the edge, with the creditor account's token in place of the account.
    public func report(creditorAccount token: Token?) -> FraudReport {
        FraudReport(
            paymentId: paymentId, uetr: uetr, reportedAt: reportedAt, fraudType: fraudType, amountLost: amountLost,
            reportingSide: reportingSide, creditorAccount: token
        )
    }
}

/// A `status` row before tokenisation.
public struct ParsedStatus: Sendable, Hashable {
    public var paymentId: String?
    /// Lower case.
    public var uetr: String?
    public var status: PaymentFinalStatus
    /// Upper case, four letters or digits.
    public var reasonCode: String?
    public var at: Instant
    /// The creditor account, plaintext.
    public var creditorAccount: AccountIdentifier?

    public init(paymentId: String?, uetr: String?, status: PaymentFinalStatus, reasonCode: String?, at: Instant, creditorAccount: AccountIdentifier? = nil) {
        self.paymentId = paymentId
        self.uetr = uetr
        self.status = status
        self.reasonCode = reasonCode
        self.at = at
        self.creditorAccount = creditorAccount
    }

    /// The status past the edge, with the creditor account's token in place of the account.
    public func report(creditorAccount token: Token?) -> PaymentStatusReport {
        PaymentStatusReport(paymentId: paymentId, uetr: uetr, status: status, reasonCode: reasonCode, at: at, creditorAccount: token)
    }
}

/// An `account-map` row before tokenisation.
public struct ParsedAccountLink: Sendable, Hashable {
    /// The bank's own customer id, 1–64 characters.
    public var customerId: String
    public var account: AccountIdentifier
    /// A card number (PAN), 12–19 digits, Luhn-valid.
    public var card: String?

    public init(customerId: String, account: AccountIdentifier, card: String? = nil) {
        self.customerId = customerId
        self.account = account
        self.card = card
    }
}

/// One rejected row: where (the row, counting the header as 1, and the column when one is at fault) and why. The
/// reason never contains the cell's value.
public struct RowError: Sendable, Hashable, Codable {
    public var row: Int
    public var column: String?
    public var reason: String

    public init(row: Int, column: String?, reason: String) {
        self.row = row
        self.column = column
        self.reason = reason
    }
}
