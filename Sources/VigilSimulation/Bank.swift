/// A simulated bank: its BIC, the rail its customers pay on, how it numbers accounts and how it writes timestamps.
struct Bank {
    /// How the bank's accounts are identified on the network.
    enum AccountForm {
        /// Sort code + account number (and the GB IBAN built from them); `sortCodePrefix` is the bank's first digits.
        case ukDomestic(sortCodePrefix: String, ibanBankCode: String)
        /// IBANs of one or more countries.
        case iban(countries: [IBANCountry])
        /// A scheme-level key (PIX key, UPI address, US routing and account number).
        case schemeKey(scheme: String)
    }

    /// An EU country whose IBANs the bank issues, with its national bank code.
    struct IBANCountry {
        var country: String
        var bankCode: String
    }

    var bic: String
    var rail: Rail
    var region: Region
    var zone: TimeZoneRule
    var accountForm: AccountForm
    /// Writes `createdAt` in UTC with a `Z`; otherwise in its local offset.
    var writesUTC: Bool
    /// Writes milliseconds in `createdAt`.
    var writesMillis: Bool
    /// Sends `payee.firstSeenAt` when it knows it.
    var sendsPayeeFirstSeen: Bool
    /// The share of all simulated customers who bank here.
    var customerShare: Double

    /// The ten banks of the simulated consortium.
    static let all: [Bank] = [
        Bank(bic: "NWBKGB2L", rail: .fasterPayments, region: .uk, zone: .uk,
             accountForm: .ukDomestic(sortCodePrefix: "60", ibanBankCode: "NWBK"), writesUTC: true, writesMillis: true,
             sendsPayeeFirstSeen: true, customerShare: 0.17),
        Bank(bic: "BARCGB22", rail: .fasterPayments, region: .uk, zone: .uk,
             accountForm: .ukDomestic(sortCodePrefix: "20", ibanBankCode: "BARC"), writesUTC: false, writesMillis: false,
             sendsPayeeFirstSeen: true, customerShare: 0.15),
        Bank(bic: "MONZGB2L", rail: .fasterPayments, region: .uk, zone: .uk,
             accountForm: .ukDomestic(sortCodePrefix: "04", ibanBankCode: "MONZ"), writesUTC: true, writesMillis: true,
             sendsPayeeFirstSeen: false, customerShare: 0.12),
        Bank(bic: "DEUTDEFF", rail: .sepaInstant, region: .germany, zone: .centralEurope,
             accountForm: .iban(countries: [IBANCountry(country: "DE", bankCode: "50070010")]), writesUTC: false,
             writesMillis: true, sendsPayeeFirstSeen: true, customerShare: 0.10),
        Bank(bic: "BNPAFRPP", rail: .sepaInstant, region: .france, zone: .centralEurope,
             accountForm: .iban(countries: [IBANCountry(country: "FR", bankCode: "30004")]), writesUTC: false,
             writesMillis: false, sendsPayeeFirstSeen: false, customerShare: 0.09),
        Bank(bic: "INGBNL2A", rail: .sepaInstant, region: .netherlands, zone: .centralEurope,
             accountForm: .iban(countries: [IBANCountry(country: "NL", bankCode: "INGB")]), writesUTC: true,
             writesMillis: true, sendsPayeeFirstSeen: true, customerShare: 0.08),
        Bank(bic: "NTSBDEB1", rail: .sepaInstant, region: .germany, zone: .centralEurope,
             accountForm: .iban(countries: [
                 IBANCountry(country: "DE", bankCode: "10011001"), IBANCountry(country: "ES", bankCode: "1563"),
                 IBANCountry(country: "IT", bankCode: "36772"),
             ]), writesUTC: true, writesMillis: true, sendsPayeeFirstSeen: true, customerShare: 0.08),
        Bank(bic: "ITAUBRSP", rail: .pix, region: .brazil, zone: .brazil, accountForm: .schemeKey(scheme: "PIX"),
             writesUTC: false, writesMillis: true, sendsPayeeFirstSeen: true, customerShare: 0.08),
        Bank(bic: "HDFCINBB", rail: .upi, region: .india, zone: .india, accountForm: .schemeKey(scheme: "UPI"),
             writesUTC: false, writesMillis: false, sendsPayeeFirstSeen: false, customerShare: 0.08),
        Bank(bic: "CHASUS33", rail: .unitedStates, region: .unitedStates, zone: .usEastern,
             accountForm: .schemeKey(scheme: "ABA"), writesUTC: true, writesMillis: true, sendsPayeeFirstSeen: true,
             customerShare: 0.05),
    ]

    /// The scheme a payment from this bank travels on.
    func scheme(_ random: inout RandomSource) -> PaymentScheme {
        switch rail {
        case .fasterPayments: .fps
        case .sepaInstant: .sepaInstant
        case .pix: .pix
        case .upi: .upi
        case .unitedStates: random.chance(0.7) ? .fedNow : .rtp
        }
    }

    /// A new account identifier at this bank, and the region of its holder (an N26 IBAN may be Spanish or Italian).
    func newIdentifier(_ random: inout RandomSource, holder: String) -> (AccountIdentifierText, Region) {
        switch accountForm {
        case .ukDomestic(let prefix, let ibanBankCode):
            let sortCode = prefix == "04" ? "040004" : prefix + Digits.random(4, &random)
            let number = Digits.random(8, &random)
            let iban = IBANText.make(country: "GB", bban: ibanBankCode + sortCode + number)
            return (AccountIdentifierText(iban: iban, sortCode: sortCode, accountNumber: number), region)
        case .iban(let countries):
            let choice = countries[random.weighted(countries.indices.map { $0 == 0 ? 3.0 : 1.0 })]
            let bban: String
            let holderRegion: Region
            switch choice.country {
            case "DE":
                bban = choice.bankCode + Digits.random(10, &random)
                holderRegion = .germany
            case "FR":
                let branch = Digits.random(5, &random)
                let account = Digits.random(11, &random)
                bban = choice.bankCode + branch + account + IBANText.ribKey(bank: choice.bankCode, branch: branch, account: account)
                holderRegion = .france
            case "NL":
                bban = choice.bankCode + Digits.random(10, &random)
                holderRegion = .netherlands
            case "ES":
                bban = choice.bankCode + Digits.random(4, &random) + Digits.random(2, &random) + Digits.random(10, &random)
                holderRegion = .spain
            default:
                let cin = String(Unicode.Scalar(UInt8(65 + random.int(below: 26))))
                bban = cin + choice.bankCode + Digits.random(5, &random) + Digits.random(12, &random)
                holderRegion = .italy
            }
            return (AccountIdentifierText(iban: IBANText.make(country: choice.country, bban: bban)), holderRegion)
        case .schemeKey(let scheme):
            return (AccountIdentifierText(scheme: scheme, id: schemeKey(scheme, holder: holder, &random)), region)
        }
    }

    private func schemeKey(_ scheme: String, holder: String, _ random: inout RandomSource) -> String {
        switch scheme {
        case "PIX":
            let roll = random.uniform()
            if roll < 0.5 { return UUIDText.random(&random, upperCase: false) }
            if roll < 0.75 { return "+55" + String(11 + random.int(below: 88)) + "9" + Digits.random(8, &random) }
            if roll < 0.85 { return "cliente" + Digits.random(6, &random) + "@email.com.br" }
            return Digits.random(11, &random)
        case "UPI":
            let handle = holder.lowercased().unicodeScalars.filter { $0.isASCII && $0.properties.isAlphabetic }
            let suffix = random.element(of: ["@okhdfcbank", "@hdfcbank", "@ybl", "@paytm", "@oksbi"])
            return String(String.UnicodeScalarView(handle.prefix(12))) + Digits.random(4, &random) + suffix
        default:
            return random.element(of: ["021000021", "044000037", "322271627"]) + "-" + Digits.random(10, &random)
        }
    }
}

/// The scheme a payment travels on, as written in the `scheme` column.
enum PaymentScheme: UInt8 {
    case fps, sepaInstant, pix, upi, fedNow, rtp

    var text: String {
        switch self {
        case .fps: "FPS"
        case .sepaInstant: "SEPA_INST"
        case .pix: "PIX"
        case .upi: "UPI"
        case .fedNow: "FEDNOW"
        case .rtp: "RTP"
        }
    }
}
