import Foundation
import Testing

@testable import VigilTrees

@Suite struct LogisticTests {
    static let sampleArguments: [Double] = {
        var values: [Double] = [0, 1, -1, 0.5, -0.5, 1e-300, -1e-300, 1e-10, 700, -700, 709.7, -744, 0.346_573_590_279_972_65]
        var x = -40.0
        while x <= 40 {
            values.append(x)
            x += 0.013_7
        }
        return values
    }()

    @Test func expMatchesTheCLibrary() {
        for x in Self.sampleArguments {
            let expected = Foundation.exp(x)
            let actual = Logistic.exp(x)
            if expected == 0 || !expected.isNormal {
                #expect(abs(actual - expected) <= expected.ulp * 2, "exp(\(x))")
            } else {
                #expect(abs(actual - expected) <= 4 * expected.ulp, "exp(\(x)) = \(actual), expected \(expected)")
            }
        }
    }

    @Test func expHandlesTheEdges() {
        #expect(Logistic.exp(710) == .infinity)
        #expect(Logistic.exp(-746) == 0)
        #expect(Logistic.exp(.infinity) == .infinity)
        #expect(Logistic.exp(-.infinity) == 0)
        #expect(Logistic.exp(.nan).isNaN)
        #expect(Logistic.exp(0) == 1)
    }

    @Test func logMatchesTheCLibrary() {
        var values: [Double] = [
            1, 2, 0.5, 1e-300, Double.leastNonzeroMagnitude, 1e300, .greatestFiniteMagnitude, 1.414_213_562_373_095, 1.414_213_562_373_096,
        ]
        var x = 0.001
        while x < 1000 {
            values.append(x)
            x *= 1.037
        }
        for x in values {
            let expected = Foundation.log(x)
            #expect(abs(Logistic.log(x) - expected) <= 4 * max(expected.ulp, Double.ulpOfOne.ulp), "log(\(x))")
        }
        #expect(Logistic.log(1) == 0)
        #expect(Logistic.log(0) == -.infinity)
        #expect(Logistic.log(-1).isNaN)
    }

    /// The fast paths build the power of two and read the exponent from bits; they must give exactly what the
    /// original construction gives, or trained models would change.
    @Test func expAndLogEqualTheReferenceBitForBit() {
        var arguments: [Double] = [
            -745.2, -745.1, -744, -708.5, -708, -707.9, 0, -0.0, 1e-300, 708.9, 709, 709.1, 709.78, 710,
            .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
        ]
        // SplitMix64 with a fixed seed: a wide, reproducible spread of arguments and of bit patterns.
        var state: UInt64 = 0x5EED
        for _ in 0..<200_000 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            arguments.append(Double(z >> 11) / Double(1 << 53) * 1500 - 750)
            arguments.append(Double(bitPattern: z & 0x7FFF_FFFF_FFFF_FFFF))
        }
        for x in arguments {
            #expect(Logistic.exp(x).bitPattern == Logistic.referenceExp(x).bitPattern, "exp(\(x))")
            #expect(Logistic.log(x).bitPattern == Logistic.referenceLog(x).bitPattern, "log(\(x))")
        }
    }

    @Test func sigmoidAndLogitAreInverses() {
        for p in stride(from: 0.001, to: 1, by: 0.001) {
            #expect(abs(Logistic.sigmoid(Logistic.logit(p)) - p) <= 1e-15, "p = \(p)")
        }
        #expect(Logistic.sigmoid(0) == 0.5)
        #expect(Logistic.sigmoid(1000) == 1)
        #expect(Logistic.sigmoid(-1000) == 0)
        #expect(abs(Logistic.sigmoid(-30) - 9.357_622_968_839_299e-14) <= 1e-27)
    }
}
