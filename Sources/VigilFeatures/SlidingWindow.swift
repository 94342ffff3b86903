/// A count and sum over a sliding time window, kept in a ring of time buckets.
///
/// The window at time `t` covers the bucket holding `t` and the `buckets - 1` before it, so a
/// "1 hour" window of twelve 5-minute buckets spans between 55 and 60 minutes. Memory per window
/// is fixed; buckets that fall out of the window are zeroed and reused as time moves on.
public struct SlidingWindow: Sendable, Equatable {
    public let bucketSeconds: Int64
    public let bucketCount: Int
    /// Index (time / bucketSeconds) of the newest bucket written; `Int64.min` when empty.
    var head: Int64 = .min
    var counts: [UInt32]
    var sums: [Double]

    public init(bucketSeconds: Int64, buckets: Int) {
        self.bucketSeconds = bucketSeconds
        self.bucketCount = buckets
        self.counts = Array(repeating: 0, count: buckets)
        self.sums = Array(repeating: 0, count: buckets)
    }

    public var span: Int64 { bucketSeconds * Int64(bucketCount) }

    @inline(__always)
    func bucket(_ t: Int64) -> Int64 { t >= 0 ? t / bucketSeconds : (t - bucketSeconds + 1) / bucketSeconds }

    @inline(__always)
    func slot(_ b: Int64) -> Int { Int(((b % Int64(bucketCount)) + Int64(bucketCount)) % Int64(bucketCount)) }

    /// Adds one event at `t` (seconds). Events older than the window behind the newest one are dropped.
    public mutating func add(at t: Int64, amount: Double) {
        let b = bucket(t)
        if head == .min {
            head = b
        } else if b > head {
            let shift = b - head
            if shift >= Int64(bucketCount) {
                for i in 0..<bucketCount {
                    counts[i] = 0
                    sums[i] = 0
                }
            } else {
                var i = head + 1
                while i <= b {
                    counts[slot(i)] = 0
                    sums[slot(i)] = 0
                    i += 1
                }
            }
            head = b
        } else if b <= head - Int64(bucketCount) {
            return
        }
        counts[slot(b)] &+= 1
        sums[slot(b)] += amount
    }

    /// The count and sum of events in the window ending at `t`.
    public func total(at t: Int64) -> (count: Int, sum: Double) {
        guard head != .min else { return (0, 0) }
        let b = bucket(t)
        let low = max(b - Int64(bucketCount) + 1, head - Int64(bucketCount) + 1)
        let high = min(b, head)
        guard low <= high else { return (0, 0) }
        var count = 0
        var sum = 0.0
        var i = low
        while i <= high {
            count += Int(counts[slot(i)])
            sum += sums[slot(i)]
            i += 1
        }
        return (count, sum)
    }
}

/// Distinct keys seen within a time horizon, exact up to `capacity` keys (then saturating).
public struct RecentSet: Sendable, Equatable {
    public let horizon: Int64
    public let capacity: Int
    var keys: [UInt64] = []
    var lastSeen: [Int64] = []

    public init(horizon: Int64, capacity: Int = 64) {
        self.horizon = horizon
        self.capacity = capacity
    }

    /// Distinct keys seen in `(t - horizon, t]`.
    public func count(at t: Int64) -> Int {
        var n = 0
        for seen in lastSeen where seen > t - horizon && seen <= t { n += 1 }
        return n
    }

    public mutating func insert(_ key: UInt64, at t: Int64) {
        // Drop expired keys first so memory follows the live set.
        var i = 0
        while i < keys.count {
            if lastSeen[i] <= t - horizon {
                keys.swapAt(i, keys.count - 1)
                lastSeen.swapAt(i, lastSeen.count - 1)
                keys.removeLast()
                lastSeen.removeLast()
            } else {
                i += 1
            }
        }
        if let index = keys.firstIndex(of: key) {
            lastSeen[index] = max(lastSeen[index], t)
            return
        }
        if keys.count < capacity {
            keys.append(key)
            lastSeen.append(t)
            return
        }
        var oldest = 0
        for j in 1..<lastSeen.count where lastSeen[j] < lastSeen[oldest] { oldest = j }
        if lastSeen[oldest] < t {
            keys[oldest] = key
            lastSeen[oldest] = t
        }
    }
}

/// Running mean and variance (Welford's algorithm).
public struct Welford: Sendable, Equatable {
    public private(set) var count: Int = 0
    public private(set) var mean: Double = 0
    var m2: Double = 0

    public init() {}

    public mutating func add(_ x: Double) {
        count += 1
        let delta = x - mean
        mean += delta / Double(count)
        m2 += delta * (x - mean)
    }

    /// Population standard deviation; NaN with fewer than two values.
    public var standardDeviation: Double { count < 2 ? .nan : (m2 / Double(count)).squareRoot() }
}
