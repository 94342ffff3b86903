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
    public static func logit(_ probability: Double) -> Double {
        log(probability / (1 - probability))
    }

    /// `log(1 + e^x)` without overflow: the log-loss of a row is `softplus(-margin)` for a positive label and
    /// `softplus(margin)` for a negative one.
    public static func softplus(_ x: Double) -> Double {
        max(x, 0) + log(1 + exp(-abs(x)))
    }

    // ln 2 split so that k * ln2High is exact for every |k| < 2^20 (fdlibm's constants).
    private static let ln2High = 6.93147180369123816490e-01
    private static let ln2Low = 1.90821492927058770002e-10
    private static let log2OfE = 1.44269504088896338700e+00

    /// e^x.
    public static func exp(_ x: Double) -> Double {
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
        return Double(sign: .plus, exponent: Int(k), significand: series)
    }

    /// The natural logarithm.
    public static func log(_ x: Double) -> Double {
        if x.isNaN || x < 0 {
            return .nan
        }
        if x == 0 {
            return -.infinity
        }
        if x == .infinity {
            return x
        }
        var mantissa = x.significand
        var exponent = Int(x.exponent)
        if mantissa > 1.4142135623730951 {
            mantissa /= 2
            exponent += 1
        }
        // log(m) = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.1716; the series to s^23 is below 1e-18.
        let s = (mantissa - 1) / (mantissa + 1)
        let s2 = s * s
        var series = 1.0 / 23
        for denominator in stride(from: 21.0, through: 1.0, by: -2.0) {
            series = series * s2 + 1 / denominator
        }
        let e = Double(exponent)
        return e * ln2High + (e * ln2Low + 2 * s * series)
    }
}
