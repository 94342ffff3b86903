public import VigilDomain

/// A payment as the bank sent it, plaintext personal data included.
///
/// This type exists only inside the gateway. `Gateway.tokenize` turns it into a `TokenizedPayment`,
/// the only form the engine accepts; the engine target cannot import this module.
public struct PaymentRequest: Sendable {
    public var paymentId: String
    public var perspective: Perspective
    public var type: PaymentType
    public var scheme: String
    public var channel: String?
    public var amount: Money
    public var createdAt: Instant
    public var debtor: Party
    public var creditor: Party
    public var payeeFirstSeenAt: Instant?
    public var confirmationOfPayee: ConfirmationOfPayee?
    public var deviceId: String?
    public var ip: String?
    public var reference: String?
    /// The ISO 20022 UETR, lower case.
    public var uetr: String?

    public init(
        paymentId: String, perspective: Perspective, type: PaymentType, scheme: String, channel: String?,
        amount: Money, createdAt: Instant, debtor: Party, creditor: Party, payeeFirstSeenAt: Instant?,
        confirmationOfPayee: ConfirmationOfPayee?, deviceId: String?, ip: String?, reference: String?, uetr: String? = nil
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
        self.deviceId = deviceId
        self.ip = ip
        self.reference = reference
        self.uetr = uetr
    }
}

/// One side of a plaintext payment.
public struct Party: Sendable {
    public var name: String?
    public var account: AccountIdentifier
    public var agent: String?

    public init(name: String?, account: AccountIdentifier, agent: String?) {
        self.name = name
        self.account = account
        self.agent = agent
    }
}

/// The three ways a request can name an account.
public enum AccountIdentifier: Sendable, Hashable {
    case iban(String)
    case ukDomestic(sortCode: String, accountNumber: String)
    case scheme(scheme: String, id: String)

    /// The canonical text that is tokenised. A UK IBAN folds to its sort code and account number,
    /// so one account has one token whether the bank sends it as an IBAN or domestically.
    public var canonical: String {
        switch self {
        case .iban(let iban):
            guard iban.hasPrefix("GB") else { return "iban:" + iban }
            // Visible ASCII is one Character per byte, so the folding can slice bytes instead of Characters.
            if iban.utf8.allSatisfy({ 0x21...0x7E ~= $0 }) {
                guard iban.utf8.count == 22 else { return "iban:" + iban }
                let bytes = iban.utf8
                let sortCode = bytes.index(bytes.startIndex, offsetBy: 8)
                let accountNumber = bytes.index(sortCode, offsetBy: 6)
                return "gb:" + String(Substring(bytes[sortCode..<accountNumber])) + ":" + String(Substring(bytes[accountNumber...]))
            }
            let chars = Array(iban)
            if chars.count == 22 {
                return "gb:" + String(chars[8..<14]) + ":" + String(chars[14..<22])
            }
            return "iban:" + iban
        case .ukDomestic(let sortCode, let accountNumber):
            return "gb:" + sortCode + ":" + accountNumber
        case .scheme(let scheme, let id):
            return "scheme:" + scheme + ":" + id
        }
    }
}

/// IBAN structure and ISO 7064 mod-97-10 check.
public enum IBAN {
    /// True when `text` is an upper-case IBAN without spaces whose check digits are right.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 15, bytes.count <= 34 else { return false }
        for (i, b) in bytes.enumerated() {
            let upper = b >= 65 && b <= 90
            let digit = b >= 48 && b <= 57
            switch i {
            case 0, 1: if !upper { return false }
            case 2, 3: if !digit { return false }
            default: if !(upper || digit) { return false }
            }
        }
        var remainder = 0
        for b in bytes[4...] + bytes[..<4] {
            if b >= 65 {
                let value = Int(b) - 55
                remainder = (remainder * 100 + value) % 97
            } else {
                remainder = (remainder * 10 + Int(b) - 48) % 97
            }
        }
        return remainder == 1
    }
}
