import VigilTraining

/// Generated rows with a known signal: the label is 1 when `x0 > 0.3` and (`x1` is missing or `x2 < -1`),
/// flipped with probability `noise`. `x1` is missing in a quarter of rows; `x3` is pure noise.
enum SyntheticData {
    static let featureNames = ["x0", "x1", "x2", "x3"]

    static func make(rows: Int, seed: UInt64, noise: Double = 0.05) -> TrainingSet {
        var generator = TestGenerator(seed: seed)
        var values: [Float] = []
        var labels: [Float] = []
        values.reserveCapacity(rows * 4)
        for _ in 0..<rows {
            let x0 = Float(generator.unit() * 2 - 1)
            let x1: Float = generator.unit() < 0.25 ? .nan : Float(generator.unit() * 4 - 2)
            let x2 = Float(generator.unit() * 4 - 2)
            let x3 = Float(generator.unit())
            var label = x0 > 0.3 && (x1.isNaN || x2 < -1)
            if generator.unit() < noise {
                label.toggle()
            }
            values += [x0, x1, x2, x3]
            labels.append(label ? 1 : 0)
        }
        return try! TrainingSet(featureNames: Self.featureNames, rows: rows, values: values, labels: labels)
    }

    static func row(_ set: TrainingSet, _ row: Int) -> [Float] {
        Array(set.values[(row * set.featureCount)..<((row + 1) * set.featureCount)])
    }
}

/// SplitMix64, so test data does not depend on the trainer's own generator.
struct TestGenerator {
    var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double {
        Double(self.next() >> 11) * 0x1p-53
    }
}

extension TrainedModel {
    func probability(_ row: [Float]) -> Double {
        row.withUnsafeBufferPointer { self.probability($0) }
    }

    func margin(_ row: [Float]) -> Double {
        row.withUnsafeBufferPointer { self.margin($0) }
    }
}
