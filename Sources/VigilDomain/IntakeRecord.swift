/// The kinds of daily file a bank uploads (docs/data-formats.md). A file's type is the first dot-separated part of
/// its name, as in `fraud-reports.2026-12-04.csv.gpg`.
public enum DailyFileType: String, Sendable, Hashable, Codable, CaseIterable {
    /// Past payments, folded into the feature state in time order and kept for training.
    case history
    /// Fraud reports: labels, and the consortium list of reported creditor accounts.
    case fraudReports = "fraud-reports"
    /// Final statuses of scored payments; a return or recall for fraud is a label.
    case status
    /// The tenant's covered code ranges, perspectives and products.
    case entitlements
    /// Bank and branch codes → institution, its type and status.
    case directory
    /// Card numbers and account aliases → accounts → customers.
    case accountMap = "account-map"
}

/// A fraud report past the edge: the same record whether it came in a daily file or over the API.
public struct FraudReport: Sendable, Hashable {
    /// The reported payment's id at the reporting tenant; nil when the report names the payment by UETR only.
    public var paymentId: String?
    /// The reported payment's UETR (lower case); nil when the report names it by payment id only.
    public var uetr: String?
    public var reportedAt: Instant
    public var fraudType: FraudType
    public var amountLost: Money?
    /// Which bank reports: the payer's or the payee's.
    public var reportingSide: Perspective?
    /// The token of the creditor account the report names, when it does: it joins the consortium list of reported
    /// accounts that the `creditor.reported_fraud_*` features read.
    public var creditorAccount: Token?

    public init(
        paymentId: String?, uetr: String?, reportedAt: Instant, fraudType: FraudType, amountLost: Money? = nil,
        reportingSide: Perspective? = nil, creditorAccount: Token? = nil
    ) {
        self.paymentId = paymentId
        self.uetr = uetr
        self.reportedAt = reportedAt
        self.fraudType = fraudType
        self.amountLost = amountLost
        self.reportingSide = reportingSide
        self.creditorAccount = creditorAccount
    }
}

/// What finally became of a payment on the rail.
public enum PaymentFinalStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case settled, rejected, returned, recalled
}

/// A payment's final status past the edge.
public struct PaymentStatusReport: Sendable, Hashable {
    public var paymentId: String?
    public var uetr: String?
    public var status: PaymentFinalStatus
    /// The ISO 20022 reason code (`FRAD`, `AC04`, …), upper case; nil when none was given.
    public var reasonCode: String?
    public var at: Instant
    /// The creditor account's token, when the file names it.
    public var creditorAccount: Token?

    public init(paymentId: String?, uetr: String?, status: PaymentFinalStatus, reasonCode: String?, at: Instant, creditorAccount: Token? = nil) {
        self.paymentId = paymentId
        self.uetr = uetr
        self.status = status
        self.reasonCode = reasonCode
        self.at = at
        self.creditorAccount = creditorAccount
    }

    /// A return or recall with the ISO 20022 fraud reason `FRAD` is a fraud label.
    public var isFraud: Bool { (status == .returned || status == .recalled) && reasonCode == "FRAD" }
}

/// How a bank or branch is identified: institutions, not people, so codes stay readable past the edge.
public enum InstitutionCodeType: String, Sendable, Hashable, Codable, CaseIterable {
    /// A UK sort code: six digits.
    case sortCode
    /// A BIC: its first eight characters (institution, country, location), upper case.
    case bic
    /// A US ABA routing number: nine digits.
    case routing
}

/// One bank or branch code.
public struct InstitutionCode: Sendable, Hashable, Codable {
    public var type: InstitutionCodeType
    public var value: String

    public init(type: InstitutionCodeType, value: String) {
        self.type = type
        self.value = value
    }
}

/// What kind of institution holds an account.
public enum InstitutionType: String, Sendable, Hashable, Codable, CaseIterable {
    case bank
    case buildingSociety = "building-society"
    case creditUnion = "credit-union"
    case emi
    case paymentInstitution = "payment-institution"
    case cryptoExchange = "crypto-exchange"
    case gambling
    case other

    /// The value of the `*.institution_type` features: the case's position, stable (add new types at the end).
    public var featureCode: Double { Double(Self.allCases.firstIndex(of: self)!) }
}

public enum InstitutionStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case active, closed, suspended
}

/// One row of a directory file.
public struct DirectoryEntry: Sendable, Hashable {
    public var code: InstitutionCode
    public var institution: String
    public var type: InstitutionType
    public var status: InstitutionStatus

    public init(code: InstitutionCode, institution: String, type: InstitutionType, status: InstitutionStatus) {
        self.code = code
        self.institution = institution
        self.type = type
        self.status = status
    }
}

/// One row of an account-map file past the edge: an account (and, when given, a card) linked to a customer.
public struct AccountLink: Sendable, Hashable {
    public var account: Token
    /// The customer's token, made from the tenant's name and its customer id, so customers of two tenants never meet.
    public var customer: Token
    /// The card number's token, when the row gives one.
    public var card: Token?

    public init(account: Token, customer: Token, card: Token? = nil) {
        self.account = account
        self.customer = customer
        self.card = card
    }
}

/// What an entitlement range is over.
public enum EntitlementCodeType: String, Sendable, Hashable, Codable, CaseIterable {
    case sortCode, bic, routing
    /// UK accounts as fourteen digits, sort code then account number.
    case account
}

/// One row of an entitlements file: a range of the tenant's own codes, the sides and products it covers, and when.
public struct Entitlement: Sendable, Hashable {
    public var codeType: EntitlementCodeType
    /// The range's first and last codes, inclusive, compared as equal-length text.
    public var from: String
    public var to: String
    public var perspectives: Set<Perspective>
    /// The schemes covered; nil for every scheme.
    public var products: Set<String>?
    public var validFrom: Instant
    /// nil: open-ended.
    public var validTo: Instant?

    public init(
        codeType: EntitlementCodeType, from: String, to: String, perspectives: Set<Perspective>, products: Set<String>?,
        validFrom: Instant, validTo: Instant?
    ) {
        self.codeType = codeType
        self.from = from
        self.to = to
        self.perspectives = perspectives
        self.products = products
        self.validFrom = validFrom
        self.validTo = validTo
    }
}

/// One record of a daily file after validation and tokenisation: what the intake pipeline hands the running service.
public enum IntakeRecord: Sendable, Hashable {
    case history(TokenizedPayment)
    case fraudReport(FraudReport)
    case status(PaymentStatusReport)
    case directory(DirectoryEntry)
    case accountLink(AccountLink)
    /// A whole entitlements file: it replaces the tenant's entitlements at once.
    case entitlements([Entitlement])
}

/// A loaded record with where it came from: the unit the event log keeps (its own event kind) and the stream carries.
public struct IntakeEvent: Sendable, Hashable {
    public var tenant: String
    /// The file's id (`DailyFileID`): the hex SHA-256 of its bytes as received, so a file sent twice has one id.
    public var fileId: String
    /// The record's row in the file, counting the header as row 1 (an entitlements record: the file's last row).
    public var row: Int
    public var loadedAt: Instant
    public var record: IntakeRecord

    public init(tenant: String, fileId: String, row: Int, loadedAt: Instant, record: IntakeRecord) {
        self.tenant = tenant
        self.fileId = fileId
        self.row = row
        self.loadedAt = loadedAt
        self.record = record
    }

    /// Whose load of which file a record advances: `TENANT/FILEID`. Two tenants sending the same bytes (a scheme's
    /// published directory, say) each load them.
    public static func progressKey(tenant: String, fileId: String) -> String { tenant + "/" + fileId }

    /// ``progressKey(tenant:fileId:)`` of this record.
    public var progressKey: String { Self.progressKey(tenant: tenant, fileId: fileId) }
}
