/// When people pay: a weekday and a weekend curve over local hours, and how busy each weekday is.
enum DailyRhythm {
    private static let weekdayHours: [Double] = [
        0.35, 0.18, 0.1, 0.08, 0.08, 0.2, 0.6, 1.5, 3.0, 4.0, 4.5, 5.0, 5.6, 5.2, 4.6, 4.5, 4.7, 5.1, 5.6, 5.3, 4.6,
        3.6, 2.2, 1.1,
    ]
    private static let weekendHours: [Double] = [
        0.7, 0.45, 0.25, 0.15, 0.1, 0.12, 0.25, 0.6, 1.4, 2.6, 3.8, 4.6, 5.0, 5.0, 4.7, 4.5, 4.4, 4.5, 4.6, 4.4, 3.9,
        3.1, 2.1, 1.3,
    ]
    /// Monday … Sunday.
    static let weekdayWeights: [Double] = [1.0, 0.96, 0.97, 1.0, 1.12, 0.88, 0.7]

    private static func cumulative(_ weights: [Double]) -> [Double] {
        let total = weights.reduce(0, +)
        var sum = 0.0
        return weights.map { sum += $0 / total; return sum }
    }

    private static let weekdayCDF = cumulative(weekdayHours)
    private static let weekendCDF = cumulative(weekendHours)

    /// A local hour of day for someone whose rhythm is shifted by `shift` hours.
    static func hour(weekend: Bool, shift: Int, _ random: inout RandomSource) -> Int {
        let cdf = weekend ? weekendCDF : weekdayCDF
        let u = random.uniform()
        var hour = 23
        for h in 0..<24 where u < cdf[h] {
            hour = h
            break
        }
        return (hour + shift + 24) % 24
    }
}

/// Walker's alias method: O(1) draws from a fixed discrete distribution (which customer pays next).
struct AliasTable {
    private var probability: [Double]
    private var alias: [Int32]

    init(weights: [Double]) {
        let n = weights.count
        let total = weights.reduce(0, +)
        var scaled = weights.map { $0 * Double(n) / total }
        probability = Array(repeating: 1, count: n)
        alias = Array(repeating: 0, count: n)
        var small: [Int] = []
        var large: [Int] = []
        for (i, p) in scaled.enumerated() { if p < 1 { small.append(i) } else { large.append(i) } }
        while let s = small.popLast(), let l = large.last {
            probability[s] = scaled[s]
            alias[s] = Int32(l)
            scaled[l] -= 1 - scaled[s]
            if scaled[l] < 1 {
                large.removeLast()
                small.append(l)
            }
        }
    }

    func sample(_ random: inout RandomSource) -> Int {
        let i = random.int(below: probability.count)
        return random.uniform() < probability[i] ? i : Int(alias[i])
    }
}
