/// An active ISO 4217 currency and its number of minor units.
public struct Currency: Hashable, Sendable, CustomStringConvertible {
    public let code: String
    public let minorUnits: Int

    /// Looks up an active ISO 4217 code (upper case); nil when the code is unknown or not a payment currency.
    public init?(code: String) {
        guard let units = Currency.table[code] else { return nil }
        self.code = code
        self.minorUnits = units
    }

    public var description: String { code }

    // ISO 4217 list one, active codes as of 2026, without the precious metals, testing and SDR codes.
    static let table: [String: Int] = {
        var table: [String: Int] = [:]
        let twoDecimals = """
            AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF \
            CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ \
            GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD \
            MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON \
            RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS \
            UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG
            """
        for code in twoDecimals.split(separator: " ") { table[String(code)] = 2 }
        for code in "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(separator: " ") {
            table[String(code)] = 0
        }
        for code in "BHD IQD JOD KWD LYD OMR TND".split(separator: " ") { table[String(code)] = 3 }
        for code in "CLF UYW".split(separator: " ") { table[String(code)] = 4 }
        return table
    }()
}

/// An exact amount of money: an integer count of the currency's minor units.
public struct Money: Hashable, Sendable {
    public var minorUnits: Int64
    public var currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Why a decimal amount string was refused.
    public enum ParseFailure: Error, Sendable, Equatable {
        case notADecimal
        case notPositive
        case tooPrecise(allowedDecimals: Int)
        /// More than 15 digits before the decimal point, or, in a four-decimal currency, more minor units than
        /// an `Int64` holds (922337203685477.5807 is the most).
        case tooLarge
    }

    /// Parses a plain decimal string such as `"250.00"` exactly, with no binary floating point.
    public static func parse(_ text: String, currency: Currency) -> Result<Money, ParseFailure> {
        let utf8 = Array(text.utf8)
        var integerDigits = 0
        var fractionDigits = 0
        var seenPoint = false
        var value: Int64 = 0
        // 15 integer digits and 4 decimals make 19 digits, past Int64.max; the arithmetic reports it instead of trapping.
        var overflow = false
        for ch in utf8 {
            if ch == UInt8(ascii: ".") {
                if seenPoint || integerDigits == 0 { return .failure(.notADecimal) }
                seenPoint = true
                continue
            }
            guard ch >= UInt8(ascii: "0"), ch <= UInt8(ascii: "9") else { return .failure(.notADecimal) }
            if seenPoint { fractionDigits += 1 } else { integerDigits += 1 }
            if integerDigits > 15 || fractionDigits > 4 { return integerDigits > 15 ? .failure(.tooLarge) : .failure(.tooPrecise(allowedDecimals: currency.minorUnits)) }
            value = Self.appendingDigit(value, Int64(ch - UInt8(ascii: "0")), overflow: &overflow)
        }
        if integerDigits == 0 || (seenPoint && fractionDigits == 0) { return .failure(.notADecimal) }
        // Trailing zeros beyond the currency's scale are still over-precise: "10.000" GBP says more than it can mean.
        if fractionDigits > currency.minorUnits { return .failure(.tooPrecise(allowedDecimals: currency.minorUnits)) }
        for _ in fractionDigits..<currency.minorUnits { value = Self.appendingDigit(value, 0, overflow: &overflow) }
        if overflow { return .failure(.tooLarge) }
        if value == 0 { return .failure(.notPositive) }
        return .success(Money(minorUnits: value, currency: currency))
    }

    /// `value * 10 + digit`, setting `overflow` when that does not fit in an `Int64`.
    private static func appendingDigit(_ value: Int64, _ digit: Int64, overflow: inout Bool) -> Int64 {
        let (shifted, shiftOverflow) = value.multipliedReportingOverflow(by: 10)
        let (sum, sumOverflow) = shifted.addingReportingOverflow(digit)
        overflow = overflow || shiftOverflow || sumOverflow
        return sum
    }

    /// The amount in major units, for features (never for bookkeeping).
    public var majorUnits: Double {
        var scale = 1.0
        for _ in 0..<currency.minorUnits { scale *= 10 }
        return Double(minorUnits) / scale
    }

    /// The canonical decimal string, e.g. `"250.00"`.
    public var decimalString: String {
        let digits = String(minorUnits)
        guard currency.minorUnits > 0 else { return digits }
        let padded = String(repeating: "0", count: max(0, currency.minorUnits + 1 - digits.count)) + digits
        let split = padded.index(padded.endIndex, offsetBy: -currency.minorUnits)
        return padded[..<split] + "." + padded[split...]
    }
}

extension Money: Codable {
    enum CodingKeys: String, CodingKey { case amount, currency }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let code = try container.decode(String.self, forKey: .currency)
        guard let currency = Currency(code: code) else {
            throw DecodingError.dataCorruptedError(forKey: .currency, in: container, debugDescription: "unknown currency")
        }
        let text = try container.decode(String.self, forKey: .amount)
        switch Money.parse(text, currency: currency) {
        case .success(let money): self = money
        case .failure: throw DecodingError.dataCorruptedError(forKey: .amount, in: container, debugDescription: "bad amount")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(decimalString, forKey: .amount)
        try container.encode(currency.code, forKey: .currency)
    }
}
