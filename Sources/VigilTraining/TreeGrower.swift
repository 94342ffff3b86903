/// Grows one tree level by level on gradient/hessian histograms, as XGBoost's `hist` method does.
///
/// Rows of a node occupy a contiguous range of `rows`, partitioned in place (stably) when the node splits.
/// Of two siblings only the one with fewer rows has its histogram built from rows; the other is the parent's
/// histogram minus it. Histograms are built in parallel over fixed blocks of rows, and the blocks are summed
/// in order, so the tree is the same however the threads run.
struct TreeGrower {
    typealias Pair = SIMD2<Double>

    let matrix: BinnedMatrix
    let parameters: TrainingParameters
    let parallel: Parallel
    /// Rows per histogram block: large enough that zeroing and summing block histograms is cheap.
    static let blockRows = 32_768
    /// XGBoost's `kRtEps`: a split must gain more than this.
    static let minimumGain = 1e-6

    private struct Open {
        var id: Int
        var rows: Range<Int>
        var sum: Pair
        var histogram: [Pair]
    }

    private struct Split {
        var feature = -1
        var bin = 0
        var defaultLeft = false
        var gain = TreeGrower.minimumGain
        var left = Pair.zero
    }

    /// - Parameters:
    ///   - codes: The binned matrix's codes.
    ///   - columns: The binned matrix's column-major codes.
    ///   - gradients: Per row, the gradient and hessian of the loss.
    ///   - rows: The rows this tree is grown on; reordered.
    ///   - scratch: At least `rows.count` entries of workspace.
    ///   - features: The features this tree may split on, ascending.
    /// - Returns: The tree, and for each of its leaves the range of `rows` that reaches it.
    func grow(
        codes: UnsafePointer<UInt8>,
        columns: UnsafePointer<UInt8>,
        gradients: UnsafePointer<Pair>,
        rows: UnsafeMutableBufferPointer<Int32>,
        scratch: UnsafeMutableBufferPointer<Int32>,
        features: [Int]
    ) -> (tree: Tree, leaves: [(node: Int, rows: Range<Int>)]) {
        var tree = Tree()
        var nodeRows: [Range<Int>] = [0..<rows.count]
        let rootHistogram = self.histograms(
            for: [0..<rows.count], codes: codes, gradients: gradients, rows: rows, features: features
        )[0]
        var rootSum = Pair.zero
        let first = features[0]
        for slot in self.matrix.slotOffset[first]..<self.matrix.slotOffset[first + 1] {
            rootSum += rootHistogram[slot]
        }
        _ = tree.addNode(parent: -1, weight: self.weight(rootSum), hessian: rootSum.y)
        var open = [Open(id: 0, rows: 0..<rows.count, sum: rootSum, histogram: rootHistogram)]
        var depth = 0

        while !open.isEmpty {
            var splitting: [(node: Open, split: Split)] = []
            for node in open {
                if let split = self.bestSplit(node, features: features) {
                    splitting.append((node, split))
                }
            }
            if splitting.isEmpty {
                break
            }
            // The parents' histograms now live in `splitting` alone, so the larger children can take them over.
            open = []
            var leftCounts = [Int](repeating: 0, count: splitting.count)
            leftCounts.withUnsafeMutableBufferPointer { leftCounts in
                let leftCounts = leftCounts
                self.parallel.forEach(splitting.count) { index in
                    let (node, split) = splitting[index]
                    leftCounts[index] = self.partition(node.rows, split, columns: columns, rows: rows, scratch: scratch)
                }
            }

            depth += 1
            var children: [Open] = []
            for (index, (node, split)) in splitting.enumerated() {
                let rightSum = node.sum - split.left
                let left = tree.addNode(parent: node.id, weight: self.weight(split.left), hessian: split.left.y)
                let right = tree.addNode(parent: node.id, weight: self.weight(rightSum), hessian: rightSum.y)
                let cuts = self.matrix.cuts[split.feature]
                tree.setSplit(
                    node.id,
                    feature: split.feature,
                    bin: split.bin,
                    missingBin: cuts.count + 1,
                    threshold: cuts[split.bin],
                    defaultLeft: split.defaultLeft,
                    gain: split.gain,
                    children: (left, right)
                )
                let middle = node.rows.lowerBound + leftCounts[index]
                nodeRows.append(node.rows.lowerBound..<middle)
                nodeRows.append(middle..<node.rows.upperBound)
                children.append(Open(id: left, rows: node.rows.lowerBound..<middle, sum: split.left, histogram: []))
                children.append(Open(id: right, rows: middle..<node.rows.upperBound, sum: rightSum, histogram: []))
            }
            if depth >= self.parameters.maxDepth {
                break
            }

            // Siblings that cannot split need no histograms.
            var pairs: [Int] = []
            var smallerRanges: [Range<Int>] = []
            for pair in 0..<splitting.count {
                let left = children[2 * pair]
                let right = children[2 * pair + 1]
                guard self.canSplit(left) || self.canSplit(right) else {
                    continue
                }
                pairs.append(pair)
                smallerRanges.append(left.rows.count <= right.rows.count ? left.rows : right.rows)
            }
            let built = self.histograms(
                for: smallerRanges, codes: codes, gradients: gradients, rows: rows, features: features
            )
            var next: [Open] = []
            for (index, pair) in pairs.enumerated() {
                var left = children[2 * pair]
                var right = children[2 * pair + 1]
                var larger: [Pair] = []
                swap(&larger, &splitting[pair].node.histogram)
                larger.withUnsafeMutableBufferPointer { larger in
                    built[index].withUnsafeBufferPointer { smaller in
                        for slot in larger.indices {
                            larger[slot] -= smaller[slot]
                        }
                    }
                }
                if left.rows.count <= right.rows.count {
                    left.histogram = built[index]
                    right.histogram = larger
                } else {
                    left.histogram = larger
                    right.histogram = built[index]
                }
                next.append(left)
                next.append(right)
            }
            open = next
        }
        var leaves: [(node: Int, rows: Range<Int>)] = []
        for node in 0..<tree.nodeCount where tree.leftChild[node] < 0 {
            leaves.append((node, nodeRows[node]))
        }
        return (tree, leaves)
    }

    /// The leaf weight `-G/(H+λ)` scaled by the learning rate, at float32 as the model stores it.
    func weight(_ sum: Pair) -> Float {
        Float(-sum.x / (sum.y + self.parameters.lambda) * self.parameters.learningRate)
    }

    private func canSplit(_ node: Open) -> Bool {
        node.rows.count >= 2 && node.sum.y >= 2 * self.parameters.minChildWeight
    }

    /// The split of `node` with the largest gain above ``minimumGain``, trying the missing bin on either side.
    private func bestSplit(_ node: Open, features: [Int]) -> Split? {
        guard self.canSplit(node) else {
            return nil
        }
        let lambda = self.parameters.lambda
        let minChildWeight = self.parameters.minChildWeight
        let total = node.sum
        let parentScore = total.x * total.x / (total.y + lambda)
        var best = Split()
        node.histogram.withUnsafeBufferPointer { histogram in
            for feature in features {
                let base = self.matrix.slotOffset[feature]
                let cutCount = self.matrix.cuts[feature].count
                let missing = histogram[base + cutCount + 1]
                // Below this, what the missing bin holds is rounding left by histogram subtraction.
                let hasMissing = missing.y > total.y * 1e-12
                var left = Pair.zero
                for bin in 0..<cutCount {
                    left += histogram[base + bin]
                    var candidateLeft = left
                    var missingLeft = false
                    while true {
                        let right = total - candidateLeft
                        if candidateLeft.y >= minChildWeight && right.y >= minChildWeight {
                            let gain =
                                candidateLeft.x * candidateLeft.x / (candidateLeft.y + lambda)
                                + right.x * right.x / (right.y + lambda) - parentScore
                            if gain > best.gain {
                                best = Split(
                                    feature: feature, bin: bin, defaultLeft: missingLeft, gain: gain,
                                    left: candidateLeft
                                )
                            }
                        }
                        guard hasMissing && !missingLeft else {
                            break
                        }
                        candidateLeft = left + missing
                        missingLeft = true
                    }
                }
                if best.feature == feature && !hasMissing {
                    // No missing value reached this node: send future ones to the child with more cover.
                    best.defaultLeft = best.left.y >= (total - best.left).y
                }
            }
        }
        return best.feature >= 0 ? best : nil
    }

    /// Moves the rows of `range` that go left to its front, keeping order on both sides; returns their count.
    private func partition(
        _ range: Range<Int>,
        _ split: Split,
        columns: UnsafePointer<UInt8>,
        rows: UnsafeMutableBufferPointer<Int32>,
        scratch: UnsafeMutableBufferPointer<Int32>
    ) -> Int {
        let column = columns + split.feature * self.matrix.rows
        let missingBin = UInt8(self.matrix.cuts[split.feature].count + 1)
        let bin = UInt8(split.bin)
        var leftCount = 0
        var rightCount = 0
        // Without a branch on the side, which mispredicts about every other row: each row is written to both
        // places and only the count of its side moves on. The left write never passes the row being read.
        for index in range {
            let row = rows[index]
            let code = column[Int(row)]
            let goesLeft = code == missingBin ? split.defaultLeft : code <= bin
            rows[range.lowerBound + leftCount] = row
            scratch[range.lowerBound + rightCount] = row
            let left = goesLeft ? 1 : 0
            leftCount += left
            rightCount += 1 - left
        }
        for offset in 0..<rightCount {
            rows[range.lowerBound + leftCount + offset] = scratch[range.lowerBound + offset]
        }
        return leftCount
    }

    /// Rows whose gradient and bins are loaded together before any of them is added, so that their cache
    /// misses overlap instead of stalling one row at a time.
    static let loadGroup = 16

    /// Adds the gradients of `rows[range]` into `histogram` for every feature, four features a step, rows in order.
    ///
    /// A node's rows are scattered over the matrix, so most rows start with two cache misses, its gradient and its
    /// bins. Swift has no prefetch instruction; instead every ``loadGroup`` rows the loop first reads each row's
    /// gradient and the first and last byte of its bins, independent loads the processor issues at once, and
    /// only then adds the rows, from the cache.
    @inline(__always)
    private static func accumulate(
        _ range: Range<Int>,
        into histogram: UnsafeMutablePointer<Pair>,
        codes: UnsafePointer<UInt8>,
        featureCount: Int,
        slotOffset: UnsafePointer<Int>,
        gradients: UnsafePointer<Pair>,
        rows: UnsafeMutableBufferPointer<Int32>
    ) {
        let unrolled = featureCount & ~3
        let last = featureCount &- 1
        var touched: UInt64 = 0
        var index = range.lowerBound
        while index < range.upperBound {
            let groupEnd = min(index &+ Self.loadGroup, range.upperBound)
            for ahead in index..<groupEnd {
                let row = Int(rows[ahead])
                let rowCodes = codes + row &* featureCount
                touched |= gradients[row].x.bitPattern | UInt64(rowCodes[0]) | UInt64(rowCodes[last])
            }
            while index < groupEnd {
                let row = Int(rows[index])
                let pair = gradients[row]
                let rowCodes = codes + row &* featureCount
                var feature = 0
                while feature < unrolled {
                    let a = slotOffset[feature] &+ Int(rowCodes[feature])
                    let b = slotOffset[feature &+ 1] &+ Int(rowCodes[feature &+ 1])
                    let c = slotOffset[feature &+ 2] &+ Int(rowCodes[feature &+ 2])
                    let d = slotOffset[feature &+ 3] &+ Int(rowCodes[feature &+ 3])
                    histogram[a] += pair
                    histogram[b] += pair
                    histogram[c] += pair
                    histogram[d] += pair
                    feature &+= 4
                }
                while feature < featureCount {
                    histogram[slotOffset[feature] &+ Int(rowCodes[feature])] += pair
                    feature &+= 1
                }
                index &+= 1
            }
        }
        Self.keepLoaded(touched)
    }

    /// Takes the early loads' bits so that the optimiser cannot drop them.
    @_optimize(none)
    private static func keepLoaded(_ bits: UInt64) {}

    /// One histogram per range of `rows`: per slot of every feature in `features`, the gradient and hessian sums.
    func histograms(
        for ranges: [Range<Int>],
        codes: UnsafePointer<UInt8>,
        gradients: UnsafePointer<Pair>,
        rows: UnsafeMutableBufferPointer<Int32>,
        features: [Int]
    ) -> [[Pair]] {
        var blocks: [(range: Int, rows: Range<Int>)] = []
        for (index, range) in ranges.enumerated() {
            var start = range.lowerBound
            repeat {
                let end = min(start + Self.blockRows, range.upperBound)
                blocks.append((index, start..<end))
                start = end
            } while start < range.upperBound
        }
        let slotCount = self.matrix.slotCount
        let featureCount = self.matrix.featureCount
        var partial = [Pair](repeating: .zero, count: blocks.count * slotCount)
        let featureOffsets = features.map { (feature: $0, slot: self.matrix.slotOffset[$0]) }
        let allFeatures = features.count == featureCount
        partial.withUnsafeMutableBufferPointer { partial in
            let partial = partial
            featureOffsets.withUnsafeBufferPointer { featureOffsets in
                self.matrix.slotOffset.withUnsafeBufferPointer { slotOffset in
                    self.parallel.forEach(blocks.count) { block in
                        let histogram = partial.baseAddress! + block * slotCount
                        if allFeatures {
                            Self.accumulate(
                                blocks[block].rows, into: histogram, codes: codes, featureCount: featureCount,
                                slotOffset: slotOffset.baseAddress!, gradients: gradients, rows: rows
                            )
                            return
                        }
                        for index in blocks[block].rows {
                            let row = Int(rows[index])
                            let pair = gradients[row]
                            let rowCodes = codes + row * featureCount
                            for entry in featureOffsets {
                                histogram[entry.slot + Int(rowCodes[entry.feature])] += pair
                            }
                        }
                    }
                }
            }
        }
        var result = [[Pair]](repeating: [], count: ranges.count)
        for (block, entry) in blocks.enumerated() {
            let slice = partial[(block * slotCount)..<((block + 1) * slotCount)]
            if result[entry.range].isEmpty {
                result[entry.range] = Array(slice)
            } else {
                result[entry.range].withUnsafeMutableBufferPointer { sum in
                    for (offset, value) in slice.enumerated() {
                        sum[offset] += value
                    }
                }
            }
        }
        return result
    }
}
