import VigilDomain

/// A simulated bank or other account-holding institution (a consortium member, so a tenant): its BIC, the rail its
/// customers pay on, how it numbers accounts and how it writes timestamps.
struct Bank {
    /// How the bank's accounts are identified on the network.
    enum AccountForm {
        /// Sort code + account number (and the GB IBAN built from them); `sortCodePrefix` is the bank's first digits
        /// (all six when the institution has one sort code).
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
    /// The tenant name the bank's daily files are written for.
    var tenant: String
    /// The institution's name and type, as the directory file gives them.
    var institution: String
    var institutionType: InstitutionType
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
    /// The share of all simulated customers who bank here (0: businesses' and mules' accounts only).
    var customerShare: Double
    /// The ABA routing numbers of a US institution's accounts.
    var routings: [String] = []

    /// Whether it is a bank or building society rather than an e-money, payment or crypto-exchange institution.
    var isBank: Bool { institutionType == .bank || institutionType == .buildingSociety }

    /// The ten banks of the simulated consortium.
    static let all: [Bank] = [
        Bank(bic: "NWBKGB2L", tenant: "natwest", institution: "National Westminster Bank Plc", institutionType: .bank,
             rail: .fasterPayments, region: .uk, zone: .uk,
             accountForm: .ukDomestic(sortCodePrefix: "60", ibanBankCode: "NWBK"), writesUTC: true, writesMillis: true,
             sendsPayeeFirstSeen: true, customerShare: 0.17),
        Bank(bic: "BARCGB22", tenant: "barclays", institution: "Barclays Bank UK PLC", institutionType: .bank,
             rail: .fasterPayments, region: .uk, zone: .uk,
             accountForm: .ukDomestic(sortCodePrefix: "20", ibanBankCode: "BARC"), writesUTC: false, writesMillis: false,
             sendsPayeeFirstSeen: true, customerShare: 0.15),
        Bank(bic: "MONZGB2L", tenant: "monzo", institution: "Monzo Bank Limited", institutionType: .bank,
             rail: .fasterPayments, region: .uk, zone: .uk,
             accountForm: .ukDomestic(sortCodePrefix: "040004", ibanBankCode: "MONZ"), writesUTC: true, writesMillis: true,
             sendsPayeeFirstSeen: false, customerShare: 0.12),
        Bank(bic: "DEUTDEFF", tenant: "deutsche-bank", institution: "Deutsche Bank AG", institutionType: .bank,
             rail: .sepaInstant, region: .germany, zone: .centralEurope,
             accountForm: .iban(countries: [IBANCountry(country: "DE", bankCode: "50070010")]), writesUTC: false,
             writesMillis: true, sendsPayeeFirstSeen: true, customerShare: 0.10),
        Bank(bic: "BNPAFRPP", tenant: "bnp-paribas", institution: "BNP Paribas", institutionType: .bank,
             rail: .sepaInstant, region: .france, zone: .centralEurope,
             accountForm: .iban(countries: [IBANCountry(country: "FR", bankCode: "30004")]), writesUTC: false,
             writesMillis: false, sendsPayeeFirstSeen: false, customerShare: 0.09),
        Bank(bic: "INGBNL2A", tenant: "ing", institution: "ING Bank N.V.", institutionType: .bank,
             rail: .sepaInstant, region: .netherlands, zone: .centralEurope,
             accountForm: .iban(countries: [IBANCountry(country: "NL", bankCode: "INGB")]), writesUTC: true,
             writesMillis: true, sendsPayeeFirstSeen: true, customerShare: 0.08),
        Bank(bic: "NTSBDEB1", tenant: "n26", institution: "N26 Bank AG", institutionType: .bank,
             rail: .sepaInstant, region: .germany, zone: .centralEurope,
             accountForm: .iban(countries: [
                 IBANCountry(country: "DE", bankCode: "10011001"), IBANCountry(country: "ES", bankCode: "1563"),
                 IBANCountry(country: "IT", bankCode: "36772"),
             ]), writesUTC: true, writesMillis: true, sendsPayeeFirstSeen: true, customerShare: 0.08),
        Bank(bic: "ITAUBRSP", tenant: "itau", institution: "Itaú Unibanco S.A.", institutionType: .bank,
             rail: .pix, region: .brazil, zone: .brazil, accountForm: .schemeKey(scheme: "PIX"),
             writesUTC: false, writesMillis: true, sendsPayeeFirstSeen: true, customerShare: 0.08),
        Bank(bic: "HDFCINBB", tenant: "hdfc", institution: "HDFC Bank Limited", institutionType: .bank,
             rail: .upi, region: .india, zone: .india, accountForm: .schemeKey(scheme: "UPI"),
             writesUTC: false, writesMillis: false, sendsPayeeFirstSeen: false, customerShare: 0.08),
        Bank(bic: "CHASUS33", tenant: "chase", institution: "JPMorgan Chase Bank, N.A.", institutionType: .bank,
             rail: .unitedStates, region: .unitedStates, zone: .usEastern,
             accountForm: .schemeKey(scheme: "ABA"), writesUTC: true, writesMillis: true, sendsPayeeFirstSeen: true,
             customerShare: 0.05, routings: ["021000021", "044000037", "322271627"]),
        // Non-bank institutions (invented names and codes): a few customers bank with them, and fraud rings open mule
        // accounts and cash out there more often than at banks, so the institution type is a real but weak signal.
        Bank(bic: "PNBSGB21", tenant: "pennine-bs", institution: "Pennine Building Society",
             institutionType: .buildingSociety, rail: .fasterPayments, region: .uk, zone: .uk,
             accountForm: .ukDomestic(sortCodePrefix: "0906", ibanBankCode: "PNBS"), writesUTC: true, writesMillis: false,
             sendsPayeeFirstSeen: true, customerShare: 0.025),
        Bank(bic: "QYSMGB21", tenant: "quayside-money", institution: "Quayside Money Ltd", institutionType: .emi,
             rail: .fasterPayments, region: .uk, zone: .uk,
             accountForm: .ukDomestic(sortCodePrefix: "040512", ibanBankCode: "QYSM"), writesUTC: true, writesMillis: true,
             sendsPayeeFirstSeen: false, customerShare: 0.03),
        Bank(bic: "LDGPGB2L", tenant: "ludgate-payments", institution: "Ludgate Payments Ltd",
             institutionType: .paymentInstitution, rail: .fasterPayments, region: .uk, zone: .uk,
             accountForm: .ukDomestic(sortCodePrefix: "2318", ibanBankCode: "LDGP"), writesUTC: true, writesMillis: true,
             sendsPayeeFirstSeen: false, customerShare: 0.01),
        Bank(bic: "HBDXGB21", tenant: "harbour-exchange", institution: "Harbour Digital Exchange Ltd",
             institutionType: .cryptoExchange, rail: .fasterPayments, region: .uk, zone: .uk,
             accountForm: .ukDomestic(sortCodePrefix: "041309", ibanBankCode: "HBDX"), writesUTC: true, writesMillis: true,
             sendsPayeeFirstSeen: false, customerShare: 0),
        Bank(bic: "BLPYLT21", tenant: "baltic-pay", institution: "Baltic Pay UAB", institutionType: .emi,
             rail: .sepaInstant, region: .germany, zone: .centralEurope,
             accountForm: .iban(countries: [IBANCountry(country: "LT", bankCode: "32500")]), writesUTC: true,
             writesMillis: true, sendsPayeeFirstSeen: false, customerShare: 0.025),
        Bank(bic: "KSCXDEB1", tenant: "kestrel-coin", institution: "Kestrel Coin Exchange GmbH",
             institutionType: .cryptoExchange, rail: .sepaInstant, region: .germany, zone: .centralEurope,
             accountForm: .iban(countries: [IBANCountry(country: "DE", bankCode: "10017997")]), writesUTC: true,
             writesMillis: true, sendsPayeeFirstSeen: false, customerShare: 0),
        Bank(bic: "PGLIBRSP", tenant: "pagali", institution: "Pagali Instituição de Pagamento S.A.",
             institutionType: .paymentInstitution, rail: .pix, region: .brazil, zone: .brazil,
             accountForm: .schemeKey(scheme: "PIX"), writesUTC: false, writesMillis: true, sendsPayeeFirstSeen: false,
             customerShare: 0.02),
        Bank(bic: "SVDHINBB", tenant: "suvidha-pay", institution: "Suvidha Payments Pvt Ltd",
             institutionType: .paymentInstitution, rail: .upi, region: .india, zone: .india,
             accountForm: .schemeKey(scheme: "UPI"), writesUTC: false, writesMillis: false, sendsPayeeFirstSeen: false,
             customerShare: 0.015),
        Bank(bic: "SMDAUS31", tenant: "summit-digital", institution: "Summit Digital Assets Inc.",
             institutionType: .cryptoExchange, rail: .unitedStates, region: .unitedStates, zone: .usEastern,
             accountForm: .schemeKey(scheme: "ABA"), writesUTC: true, writesMillis: true, sendsPayeeFirstSeen: true,
             customerShare: 0, routings: ["077904210"]),
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
            let sortCode = prefix.count == 6 ? prefix : prefix + Digits.random(6 - prefix.count, &random)
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
            case "LT":
                // A Lithuanian e-money account is opened online from anywhere in the euro area.
                bban = choice.bankCode + Digits.random(11, &random)
                holderRegion = random.element(of: [Region.germany, .france, .netherlands, .spain, .italy])
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
            return random.element(of: routings) + "-" + Digits.random(10, &random)
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
