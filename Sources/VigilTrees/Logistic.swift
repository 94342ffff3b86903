/// The logistic link of `binary:logistic`: margins to probabilities and back.
///
/// The standard library has no `exp` or `log`, and this module may not import the C library, so both are
/// written here: argument reduction by powers of two plus a short series, accurate to a few ulps over the
/// whole range, which is far tighter than the 1e-6 that probabilities are compared at.
public enum Logistic {
    /// `1 / (1 + e^-margin)`, computed on the side that cannot overflow.
    @inlinable
    public static func sigmoid(_ margin: Double) -> Double {
        if margin >= 0 {
            return 1 / (1 + exp(-margin))
        }
        let power = exp(margin)
        return power / (1 + power)
    }

    /// `log(p / (1 - p))`, the margin of a probability.
    @inlinable
    public static func logit(_ probability: Double) -> Double {
        log(probability / (1 - probability))
    }

    /// `log(1 + e^x)` without overflow: the log-loss of a row is `softplus(-margin)` for a positive label and
    /// `softplus(margin)` for a negative one.
    @inlinable
    public static func softplus(_ x: Double) -> Double {
        max(x, 0) + log(1 + exp(-abs(x)))
    }

    // ln 2 split so that k * ln2High is exact for every |k| < 2^20 (fdlibm's constants).
    @usableFromInline static let ln2High = 6.93147180369123816490e-01
    @usableFromInline static let ln2Low = 1.90821492927058770002e-10
    @usableFromInline static let log2OfE = 1.44269504088896338700e+00

    /// e^x.
    ///
    /// - Performance: bit-for-bit the value of ``referenceExp(_:)``, several times faster: the power of two is
    ///   built from its bits instead of `Double(sign:exponent:significand:)`, whose generic code dominated
    ///   training (every row's gradient and loss, every round).
    @inlinable
    public static func exp(_ x: Double) -> Double {
        // Also false for NaN.
        guard x >= -708 && x <= 709 else {
            return self.referenceExp(x)
        }
        let k = (x * log2OfE).rounded(.toNearestOrEven)
        let series = self.expSeries(x, k)
        // -1021 <= k <= 1023 here and the series lies in [0.7, 1.42]: the scaled value is normal, so the product
        // is exact, as `Double(sign:exponent:significand:)` is.
        return series * Double(bitPattern: UInt64(1023 + Int(k)) << 52)
    }

    /// e^x by the original construction, for the edges of the range and as the reference in tests.
    @usableFromInline
    static func referenceExp(_ x: Double) -> Double {
        if x.isNaN {
            return x
        }
        if x > 709.782712893384 {
            return .infinity
        }
        if x < -745.1332191019412 {
            return 0
        }
        let k = (x * log2OfE).rounded(.toNearestOrEven)
        return Double(sign: .plus, exponent: Int(k), significand: self.expSeries(x, k))
    }

    /// e^r for `r = x - k ln 2`.
    @inlinable @inline(__always)
    static func expSeries(_ x: Double, _ k: Double) -> Double {
        let r = (x - k * ln2High) - k * ln2Low
        // |r| <= ln(2)/2, where the degree-13 Taylor remainder is below 5e-18.
        var series = 1.0 / 6_227_020_800
        series = series * r + 1.0 / 479_001_600
        series = series * r + 1.0 / 39_916_800
        series = series * r + 1.0 / 3_628_800
        series = series * r + 1.0 / 362_880
        series = series * r + 1.0 / 40_320
        series = series * r + 1.0 / 5_040
        series = series * r + 1.0 / 720
        series = series * r + 1.0 / 120
        series = series * r + 1.0 / 24
        series = series * r + 1.0 / 6
        series = series * r + 0.5
        series = series * r + 1
        series = series * r + 1
        return series
    }

    /// The natural logarithm.
    ///
    /// - Performance: bit-for-bit the value of ``referenceLog(_:)``; a normal argument's exponent and significand
    ///   are read from its bits.
    @inlinable
    public static func log(_ x: Double) -> Double {
        guard x.isNormal && x > 0 else {
            return self.referenceLog(x)
        }
        let bits = x.bitPattern
        let mantissa = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
        return self.logSeries(mantissa, Int((bits >> 52) & 0x7FF) - 1023)
    }

    /// The natural logarithm through `significand` and `exponent`, for zero, subnormals, infinity, NaN and
    /// negatives, and as the reference in tests.
    @usableFromInline
    static func referenceLog(_ x: Double) -> Double {
        if x.isNaN || x < 0 {
            return .nan
        }
        if x == 0 {
            return -.infinity
        }
        if x == .infinity {
            return x
        }
        return self.logSeries(x.significand, Int(x.exponent))
    }

    /// `log(mantissa · 2^exponent)` for a mantissa in [1, 2).
    @inlinable @inline(__always)
    static func logSeries(_ significand: Double, _ binaryExponent: Int) -> Double {
        var mantissa = significand
        var exponent = binaryExponent
        if mantissa > 1.4142135623730951 {
            mantissa /= 2
            exponent += 1
        }
        // log(m) = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.1716; the series to s^23 is below 1e-18.
        let s = (mantissa - 1) / (mantissa + 1)
        let s2 = s * s
        var series = 1.0 / 23
        series = series * s2 + 1.0 / 21
        series = series * s2 + 1.0 / 19
        series = series * s2 + 1.0 / 17
        series = series * s2 + 1.0 / 15
        series = series * s2 + 1.0 / 13
        series = series * s2 + 1.0 / 11
        series = series * s2 + 1.0 / 9
        series = series * s2 + 1.0 / 7
        series = series * s2 + 1.0 / 5
        series = series * s2 + 1.0 / 3
        series = series * s2 + 1
        let e = Double(exponent)
        return e * ln2High + (e * ln2Low + 2 * s * series)
    }
}
