/// A family of instant-payment schemes sharing one currency: a customer pays people and businesses on the same rail.
enum Rail: Int, CaseIterable {
    case fasterPayments, sepaInstant, pix, upi, unitedStates

    /// The ISO 4217 code of every payment on the rail (all have two minor units).
    var currency: String {
        switch self {
        case .fasterPayments: "GBP"
        case .sepaInstant: "EUR"
        case .pix: "BRL"
        case .upi: "INR"
        case .unitedStates: "USD"
        }
    }

    /// How many units of the rail's currency buy what one pound does, roughly, for amounts.
    var amountScale: Double {
        switch self {
        case .fasterPayments: 1
        case .sepaInstant: 1.15
        case .pix: 6.5
        case .upi: 60
        case .unitedStates: 1.3
        }
    }

    /// The scheme's per-payment limit, in minor units.
    var limitMinorUnits: Int64 {
        switch self {
        case .fasterPayments: 100_000_000
        case .sepaInstant: 10_000_000
        case .pix: 100_000_000
        case .upi: 10_000_000
        case .unitedStates: 50_000_000
        }
    }

    /// Whether payers are shown a Confirmation-of-Payee (or Verification-of-Payee) result.
    var hasConfirmationOfPayee: Bool { self == .fasterPayments || self == .sepaInstant }
}
