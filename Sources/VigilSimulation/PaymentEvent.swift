import VigilDomain

/// One simulated payment before it is written: indices into the world instead of text, so it is small and cheap to sort.
struct PaymentEvent {
    var millis: Int64
    /// Unique per run; the payment id is derived from it.
    var sequence: UInt32
    var debtor: Int32
    var creditor: Int32
    var amountMinor: Int64
    /// `payee.firstSeenAt`, or `Int64.min` when the bank does not send it.
    var payeeFirstSeenMillis: Int64 = .min
    /// Indices into `World.devices` and `World.ips`; -1 when not sent.
    var device: Int32 = -1
    var ip: Int32 = -1
    /// An index into `ReferenceText.templates`, -1 for none, and the number some templates carry.
    var reference: Int16 = -1
    var referenceNumber: Int32 = 0
    var perspective: Side = .sending
    var isPull = false
    var channel: Channel?
    var confirmation: Confirmation = .none
    var scheme: PaymentScheme
    /// Write a UK debtor or creditor as a GB IBAN rather than sort code and account number.
    var debtorAsIBAN = false
    var creditorAsIBAN = false

    /// Which bank asked.
    enum Side: UInt8 { case sending, receiving }

    /// The Confirmation-of-Payee column; `.none` leaves it empty.
    enum Confirmation: UInt8 {
        case none, match, closeMatch, noMatch, unavailable

        var text: String {
            switch self {
            case .none: ""
            case .match: "match"
            case .closeMatch: "close_match"
            case .noMatch: "no_match"
            case .unavailable: "unavailable"
            }
        }
    }

    init(millis: Int64, sequence: UInt32, debtor: Int32, creditor: Int32, amountMinor: Int64, scheme: PaymentScheme) {
        self.millis = millis
        self.sequence = sequence
        self.debtor = debtor
        self.creditor = creditor
        self.amountMinor = amountMinor
        self.scheme = scheme
    }
}

/// A fraud report: the payment, when it came in, and what it was reported as.
struct Label {
    var sequence: UInt32
    /// The payer's bank, which the payment id is derived from.
    var debtorBank: Int
    var reportedAtMillis: Int64
    var type: FraudType
    /// What the fraud-reports file says besides: the creditor account, the amount, the scheme (whether the payment has a
    /// UETR) and which side reports it.
    var creditor: Int32
    var amountMinor: Int64
    var scheme: PaymentScheme
    var side: PaymentEvent.Side
}
