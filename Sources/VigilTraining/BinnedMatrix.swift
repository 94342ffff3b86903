/// The training rows with every value replaced by the index of its bin, and the cut points that define bins.
///
/// Feature `f` has ascending, finite cuts `c₀ < c₁ < … < cₖ₋₁`. A value `v` falls in bin
/// `#{i : cᵢ ≤ v}` (0…k), and NaN in bin k + 1, the missing bin. So "bin ≤ b" is exactly `v < c_b` at
/// float32, the test XGBoost applies with threshold `c_b`: a split found on bins is the same split on values.
/// The last cut lies above the feature's largest training value, as in XGBoost, so that a split can
/// separate missing from present values.
struct BinnedMatrix: Sendable {
    let rows: Int
    let featureCount: Int
    /// `rows × featureCount` bin indices, row-major, so one row's bins share a cache line.
    let codes: [UInt8]
    /// The same bin indices column-major (`featureCount × rows`): partitioning a node reads one feature of
    /// its rows, which are ascending, so this reads memory in order instead of one cache line per row.
    let columns: [UInt8]
    let cuts: [[Float]]
    /// Where feature `f`'s slots start in a histogram; `slotOffset[featureCount]` is the histogram's size.
    /// Feature `f` has `cuts[f].count + 2` slots: one per value bin, then the missing bin.
    let slotOffset: [Int]

    /// Cut points are chosen from at most this many rows.
    static let sampleRows = 200_000
    static let blockRows = 16_384

    var slotCount: Int {
        self.slotOffset[self.featureCount]
    }

    init(_ set: TrainingSet, maxBins: Int, parallel: Parallel = Parallel()) {
        self.rows = set.rows
        self.featureCount = set.featureCount
        let cuts = Self.cuts(set, valueBins: min(maxBins, 255), parallel: parallel)
        self.cuts = cuts
        var offsets = [0]
        for featureCuts in cuts {
            offsets.append(offsets.last! + featureCuts.count + 2)
        }
        self.slotOffset = offsets

        let featureCount = set.featureCount
        var codes = [UInt8](repeating: 0, count: set.rows * featureCount)
        set.values.withUnsafeBufferPointer { values in
            codes.withUnsafeMutableBufferPointer { codes in
                let codes = codes
                parallel.forEachBlock(set.rows, blockSize: Self.blockRows) { _, rows in
                    for feature in 0..<featureCount {
                        cuts[feature].withUnsafeBufferPointer { featureCuts in
                            for row in rows {
                                let index = row * featureCount + feature
                                codes[index] = UInt8(Self.bin(values[index], featureCuts))
                            }
                        }
                    }
                }
            }
        }
        self.codes = codes
        var columns = [UInt8](repeating: 0, count: set.rows * featureCount)
        let rows = set.rows
        codes.withUnsafeBufferPointer { codes in
            columns.withUnsafeMutableBufferPointer { columns in
                let columns = columns
                parallel.forEach(featureCount) { feature in
                    for row in 0..<rows {
                        columns[feature * rows + row] = codes[row * featureCount + feature]
                    }
                }
            }
        }
        self.columns = columns
    }

    /// The bin of `value` among `cuts`: the number of cuts at or below it, or `cuts.count + 1` for NaN.
    @inline(__always)
    static func bin(_ value: Float, _ cuts: UnsafeBufferPointer<Float>) -> Int {
        if value.isNaN {
            return cuts.count + 1
        }
        var low = 0
        var high = cuts.count
        while low < high {
            let middle = (low + high) >> 1
            if cuts[middle] <= value {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    /// Quantile cuts per feature from a sample of rows, at most `valueBins - 1` per feature: midpoints between
    /// the distinct values at quantile boundaries, plus one above the largest value of all rows.
    private static func cuts(_ set: TrainingSet, valueBins: Int, parallel: Parallel) -> [[Float]] {
        var sample: [Int]
        if set.rows > Self.sampleRows {
            // A fixed seed: bins depend on the data alone, not on the seed that drives subsampling.
            var generator = Xoshiro256(seed: 0x5EED_B125)
            let rate = Double(Self.sampleRows) / Double(set.rows)
            sample = []
            sample.reserveCapacity(Self.sampleRows + Self.sampleRows / 16)
            for row in 0..<set.rows where generator.nextUnit() < rate {
                sample.append(row)
            }
        } else {
            sample = Array(0..<set.rows)
        }
        let featureCount = set.featureCount
        var cuts = [[Float]](repeating: [], count: featureCount)
        set.values.withUnsafeBufferPointer { values in
            cuts.withUnsafeMutableBufferPointer { cuts in
                let cuts = cuts
                parallel.forEach(featureCount) { feature in
                    var maximum = -Float.infinity
                    for row in 0..<set.rows {
                        let value = values[row * featureCount + feature]
                        if value > maximum {
                            maximum = value
                        }
                    }
                    var sorted: [Float] = []
                    sorted.reserveCapacity(sample.count)
                    for row in sample {
                        let value = values[row * featureCount + feature]
                        if !value.isNaN {
                            sorted.append(value)
                        }
                    }
                    sorted.sort()
                    cuts[feature] = Self.featureCuts(sorted: sorted, maximum: maximum, valueBins: valueBins)
                }
            }
        }
        return cuts
    }

    static func featureCuts(sorted: [Float], maximum: Float, valueBins: Int) -> [Float] {
        guard !sorted.isEmpty else {
            return []
        }
        // Bins below the top cut hold data; the bin above it is empty in training.
        let dataBins = valueBins - 1
        var distinct: [Float] = []
        var runStart: [Int] = []
        for (index, value) in sorted.enumerated() where distinct.last != value {
            distinct.append(value)
            runStart.append(index)
        }
        var cuts: [Float] = []
        if distinct.count <= dataBins {
            for index in distinct.indices.dropFirst() {
                cuts.append(Self.midpoint(distinct[index - 1], distinct[index]))
            }
        } else {
            // Boundary k sits at rank n·k/dataBins; the cut goes just below the distinct value found there.
            var run = 0
            var lastRun = 0
            for k in 1..<dataBins {
                let rank = sorted.count * k / dataBins
                while run + 1 < distinct.count && runStart[run + 1] <= rank {
                    run += 1
                }
                if run > lastRun {
                    cuts.append(Self.midpoint(distinct[run - 1], distinct[run]))
                    lastRun = run
                }
            }
        }
        let last = max(maximum, distinct.last!)
        var top = last + (abs(last) + 1e-5)
        if !top.isFinite {
            top = .greatestFiniteMagnitude
        }
        if top <= last {
            top = last.nextUp
        }
        if let previous = cuts.last, previous >= top {
            cuts.removeLast()
        }
        cuts.append(top)
        return cuts
    }

    /// A float32 cut strictly above `low` and at most `high`, halfway where float32 allows.
    static func midpoint(_ low: Float, _ high: Float) -> Float {
        let middle = Float((Double(low) + Double(high)) / 2)
        return middle > low ? min(middle, high) : high
    }
}
