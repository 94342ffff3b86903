import Foundation

/// The simulation's only source of randomness: xoshiro256** seeded through SplitMix64, so a seed fixes every byte
/// of the output on a given platform.
struct RandomSource {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    init(seed: UInt64) {
        var state = seed
        s0 = RandomSource.splitMix(&state)
        s1 = RandomSource.splitMix(&state)
        s2 = RandomSource.splitMix(&state)
        s3 = RandomSource.splitMix(&state)
    }

    /// An independent stream for one part of the simulation, so adding draws to one part leaves the others as they were.
    func derived(_ stream: UInt64) -> RandomSource {
        RandomSource(seed: s0 ^ RandomSource.mix(stream &+ 0x9E37_79B9_7F4A_7C15))
    }

    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix(state)
    }

    /// SplitMix64's finaliser: a bijection on 64-bit words, used both for seeding and to scramble payment ids.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in `0..<bound` (`bound` > 0).
    @inline(__always)
    mutating func int(below bound: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + int(below: range.upperBound - range.lowerBound + 1)
    }

    mutating func double(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + uniform() * (range.upperBound - range.lowerBound)
    }

    @inline(__always)
    mutating func chance(_ probability: Double) -> Bool { uniform() < probability }

    /// A standard normal draw (Box–Muller).
    mutating func normal() -> Double {
        let u = 1 - uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * uniform())
    }

    mutating func logNormal(mu: Double, sigma: Double) -> Double { exp(mu + sigma * normal()) }

    mutating func exponential(mean: Double) -> Double { -mean * log(1 - uniform()) }

    mutating func element<T>(of array: [T]) -> T { array[int(below: array.count)] }

    /// An index drawn with probability proportional to `weights`.
    mutating func weighted(_ weights: [Double]) -> Int {
        var total = 0.0
        for w in weights { total += w }
        var x = uniform() * total
        for (i, w) in weights.enumerated() {
            x -= w
            if x < 0 { return i }
        }
        return weights.count - 1
    }
}
