/// Which bank is asking: the payer's (`sending`) or the payee's (`receiving`).
public enum Perspective: String, Sendable, Codable, CaseIterable {
    case sending, receiving
}

public enum PaymentType: String, Sendable, Codable, CaseIterable {
    case push, pull
}

/// The result of the Confirmation-of-Payee name check the bank ran before the payment.
public enum ConfirmationOfPayee: String, Sendable, Codable, CaseIterable {
    case match
    case closeMatch = "close_match"
    case noMatch = "no_match"
    case unavailable
}

/// One side of a payment past the gateway: tokens and sealed values only.
public struct TokenizedParty: Sendable, Hashable, Codable {
    /// Token of the normalised account identifier (IBAN, sort code + number, or scheme id).
    public var account: Token
    public var sealedAccount: SealedValue
    public var name: Token?
    public var sealedName: SealedValue?
    /// The bank's BIC or clearing id: an institution, not a person, so it stays readable.
    public var agent: String?
    /// The code of the account's bank or branch, taken at the edge from the account (a UK sort code, a US routing
    /// number) or else from `agent` (a BIC's first eight characters): an institution, so it stays readable. It keys the
    /// tenant's directory (`*.institution_type` features) and entitlements. Nil when the request gives none; events
    /// logged before issue 13 have none.
    public var institution: InstitutionCode?

    public init(
        account: Token, sealedAccount: SealedValue, name: Token? = nil, sealedName: SealedValue? = nil, agent: String? = nil,
        institution: InstitutionCode? = nil
    ) {
        self.account = account
        self.sealedAccount = sealedAccount
        self.name = name
        self.sealedName = sealedName
        self.agent = agent
        self.institution = institution
    }
}

/// A payment as the engine sees it: every personal value is a token or ciphertext.
///
/// The plaintext request types live in `VigilGateway`, which the engine cannot import.
public struct TokenizedPayment: Sendable, Hashable, Codable {
    public var paymentId: String
    public var perspective: Perspective
    public var type: PaymentType
    public var scheme: String
    public var channel: String?
    public var amount: Money
    public var createdAt: Instant
    public var debtor: TokenizedParty
    public var creditor: TokenizedParty
    public var payeeFirstSeenAt: Instant?
    public var confirmationOfPayee: ConfirmationOfPayee?
    public var device: Token?
    public var ip: Token?
    public var sealedReference: SealedValue?
    /// The ISO 20022 UETR (a lower-case UUID) when the bank sends it: both banks of a payment know it, so it names the
    /// payment across tenants (``consortiumIdentity``).
    public var uetr: String?

    public init(
        paymentId: String, perspective: Perspective, type: PaymentType, scheme: String, channel: String? = nil,
        amount: Money, createdAt: Instant, debtor: TokenizedParty, creditor: TokenizedParty,
        payeeFirstSeenAt: Instant? = nil, confirmationOfPayee: ConfirmationOfPayee? = nil,
        device: Token? = nil, ip: Token? = nil, sealedReference: SealedValue? = nil, uetr: String? = nil
    ) {
        self.paymentId = paymentId
        self.perspective = perspective
        self.type = type
        self.scheme = scheme
        self.channel = channel
        self.amount = amount
        self.createdAt = createdAt
        self.debtor = debtor
        self.creditor = creditor
        self.payeeFirstSeenAt = payeeFirstSeenAt
        self.confirmationOfPayee = confirmationOfPayee
        self.device = device
        self.ip = ip
        self.sealedReference = sealedReference
        self.uetr = uetr
    }
}

/// The kinds of fraud a bank reports after the fact.
public enum FraudType: String, Sendable, Codable, CaseIterable {
    case appScam = "app_scam"
    case accountTakeover = "account_takeover"
    case mule
    case firstParty = "first_party"
    case other
}
