public import VigilDomain

/// A payment's amount as feature state keeps it: minor units and the currency's number of decimals.
///
/// It gives back both forms the features need: `major` (a double, exactly as `Money.majorUnits` computes it) for
/// profiles and ratios, and `exact` (an integer of 1/10,000 major units) for window sums.
public struct StateAmount: Sendable, Hashable {
    public var minorUnits: Int64
    /// Decimals of the currency (0–4 for every ISO 4217 currency).
    public var exponent: UInt8

    public init(minorUnits: Int64, exponent: UInt8) {
        self.minorUnits = minorUnits
        self.exponent = exponent
    }

    public init(_ money: Money) {
        self.init(minorUnits: money.minorUnits, exponent: UInt8(clamping: money.currency.minorUnits))
    }

    /// In major units, computed as `Money.majorUnits` does, so the two are bit for bit equal.
    public var major: Double {
        var scale = 1.0
        for _ in 0..<exponent { scale *= 10 }
        return Double(minorUnits) / scale
    }

    /// In 1/10,000 of a major unit (see `ExactSum`).
    public var exact: Int64 {
        var value = minorUnits
        if exponent <= ExactSum.decimals {
            for _ in exponent..<ExactSum.decimals { value = ExactSum.multiplyingByTen(value) }
        } else {
            for _ in ExactSum.decimals..<exponent { value /= 10 }
        }
        return value
    }
}

/// Window sums as integers of 1/10,000 of a major unit: four decimals cover every ISO 4217 currency, so a sum is
/// exact and the same whatever order the payments were added in.
///
/// Sums saturate at `Int64.max` units (about 9.2 × 10^14 major units) instead of overflowing.
public enum ExactSum {
    static let decimals: UInt8 = 4

    /// `a + b`, saturating.
    @inline(__always)
    public static func adding(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    static func multiplyingByTen(_ value: Int64) -> Int64 {
        let (product, overflow) = value.multipliedReportingOverflow(by: 10)
        return overflow ? (value > 0 ? .max : .min) : product
    }

    /// The sum in major units.
    @inline(__always)
    public static func major(_ sum: Int64) -> Double { Double(sum) / 10_000 }
}

/// A currency code packed into 16 bits, for comparing the currencies of recent payments without keeping strings.
enum CurrencyCode {
    /// Three letters A–Z (every ISO 4217 code) map one to one onto 0..<17,576; anything else gets a hash above that.
    static func pack(_ code: String) -> UInt16 {
        var letters: UInt32 = 0
        var length = 0
        for byte in code.utf8 {
            guard byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z"), length < 3 else {
                return UInt16(17_576 + FNV1a.hash(code.utf8) % (65_536 - 17_576))
            }
            letters = letters * 26 + UInt32(byte - UInt8(ascii: "A"))
            length += 1
        }
        return length == 3 ? UInt16(letters) : UInt16(17_576 + FNV1a.hash(code.utf8) % (65_536 - 17_576))
    }
}
