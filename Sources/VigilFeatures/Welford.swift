/// Running mean and variance (Welford's algorithm).
public struct Welford: Sendable, Equatable {
    public private(set) var count: Int = 0
    public private(set) var mean: Double = 0
    var m2: Double = 0

    public init() {}

    init(count: Int, mean: Double, m2: Double) {
        self.count = count
        self.mean = mean
        self.m2 = m2
    }

    public mutating func add(_ x: Double) {
        count += 1
        let delta = x - mean
        mean += delta / Double(count)
        m2 += delta * (x - mean)
    }

    /// Population standard deviation; NaN with fewer than two values.
    public var standardDeviation: Double { count < 2 ? .nan : (m2 / Double(count)).squareRoot() }
}
