/// The logistic link and the `exp`/`log` it needs, which the standard library lacks.
///
/// The same algorithms as `VigilTrees`' loader (fdlibm-style reduction plus short series), so that a
/// model's margins here and after loading agree to the last bit.
enum Logistic {
    static func sigmoid(_ margin: Double) -> Double {
        if margin >= 0 {
            return 1 / (1 + exp(-margin))
        }
        let power = exp(margin)
        return power / (1 + power)
    }

    static func logit(_ probability: Double) -> Double {
        log(probability / (1 - probability))
    }

    /// `log(1 + e^x)` without overflow: the log-loss of a row is `softplus(-margin)` for a positive label and
    /// `softplus(margin)` for a negative one.
    static func softplus(_ x: Double) -> Double {
        max(x, 0) + log(1 + exp(-abs(x)))
    }

    private static let ln2High = 6.93147180369123816490e-01
    private static let ln2Low = 1.90821492927058770002e-10
    private static let log2OfE = 1.44269504088896338700e+00

    static func exp(_ x: Double) -> Double {
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

    static func log(_ x: Double) -> Double {
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
