/// A monotone map from a model's probabilities to calibrated ones, fitted on held-out rows.
///
/// Isotonic regression by pool-adjacent-violators: held-out rows sorted by predicted probability are pooled
/// into blocks whose positive rates rise strictly. Each block becomes a breakpoint (its mean prediction, its
/// positive rate), and ``apply(_:)`` interpolates linearly between breakpoints, holding the end values
/// beyond them. The map is continuous and non-decreasing, so it never reorders scores, and it corrects any
/// monotone miscalibration, which a two-parameter Platt fit cannot do.
public struct Calibration: Sendable, Equatable {
    /// Breakpoint inputs: block mean predictions, strictly increasing.
    public let inputs: [Double]
    /// Breakpoint outputs: block positive rates, strictly increasing, in [0, 1].
    public let outputs: [Double]

    /// - Throws: ``TrainingError/Code/invalidCalibration`` unless there is at least one breakpoint, the
    ///   inputs and outputs are equally many, finite, in [0, 1] and strictly increasing.
    public init(inputs: [Double], outputs: [Double]) throws(TrainingError) {
        func fail(_ message: String) -> TrainingError {
            TrainingError(code: .invalidCalibration, message: message)
        }
        guard !inputs.isEmpty, inputs.count == outputs.count else {
            throw fail("\(inputs.count) inputs and \(outputs.count) outputs; expected equally many, at least one")
        }
        for values in [inputs, outputs] {
            if let bad = values.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
                throw fail("breakpoint \(bad) is \(values[bad]); expected a probability in [0, 1]")
            }
            if let bad = values.indices.dropFirst().first(where: { values[$0] <= values[$0 - 1] }) {
                throw fail("breakpoint \(bad) is not above breakpoint \(bad - 1); expected strictly increasing")
            }
        }
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Fits isotonic regression of `labels` on `probabilities`.
    /// - Throws: ``TrainingError/Code/invalidData`` when there are no rows, the counts differ, or a
    ///   probability is not in [0, 1].
    public static func isotonic(probabilities: [Double], labels: [Float]) throws(TrainingError) -> Calibration {
        guard !probabilities.isEmpty, probabilities.count == labels.count else {
            throw TrainingError(
                code: .invalidData,
                message: "\(probabilities.count) probabilities and \(labels.count) labels; expected equally many rows"
            )
        }
        if let bad = probabilities.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw TrainingError(code: .invalidData, message: "probability \(bad) is \(probabilities[bad])")
        }
        struct Block {
            var count: Double
            var predictionSum: Double
            var labelSum: Double
            var rate: Double { self.labelSum / self.count }
        }
        let order = probabilities.indices.sorted { probabilities[$0] < probabilities[$1] }
        var blocks: [Block] = []
        var index = 0
        while index < order.count {
            // Equal predictions cannot be told apart, so they start in one block.
            let prediction = probabilities[order[index]]
            var block = Block(count: 0, predictionSum: 0, labelSum: 0)
            while index < order.count && probabilities[order[index]] == prediction {
                block.count += 1
                block.predictionSum += prediction
                block.labelSum += Double(labels[order[index]])
                index += 1
            }
            while let last = blocks.last, last.rate >= block.rate {
                block.count += last.count
                block.predictionSum += last.predictionSum
                block.labelSum += last.labelSum
                blocks.removeLast()
            }
            blocks.append(block)
        }
        var inputs: [Double] = []
        var outputs: [Double] = []
        for block in blocks {
            let centre = min(max(block.predictionSum / block.count, 0), 1)
            // Rounding can make two block means equal; the later, higher block wins the breakpoint.
            if let last = inputs.last, centre <= last {
                inputs.removeLast()
                outputs.removeLast()
            }
            inputs.append(centre)
            outputs.append(block.rate)
        }
        return try Calibration(inputs: inputs, outputs: outputs)
    }

    /// The calibrated probability of `p`.
    public func apply(_ p: Double) -> Double {
        if p.isNaN {
            return p
        }
        guard p > self.inputs[0] else {
            return self.outputs[0]
        }
        guard p < self.inputs[self.inputs.count - 1] else {
            return self.outputs[self.outputs.count - 1]
        }
        var low = 0
        var high = self.inputs.count - 1
        while high - low > 1 {
            let middle = (low + high) / 2
            if self.inputs[middle] <= p {
                low = middle
            } else {
                high = middle
            }
        }
        let fraction = (p - self.inputs[low]) / (self.inputs[high] - self.inputs[low])
        return self.outputs[low] + fraction * (self.outputs[high] - self.outputs[low])
    }

    /// A compact JSON text, `{"method":"isotonic","x":[…],"y":[…]}`, for a model file's string attributes;
    /// numbers are written in their shortest form that reads back exactly.
    public var encoded: String {
        #"{"method":"isotonic","x":["# + self.inputs.map(\.description).joined(separator: ",")
            + #"],"y":["# + self.outputs.map(\.description).joined(separator: ",") + "]}"
    }

    /// Reads an ``encoded`` text.
    /// - Throws: ``TrainingError/Code/invalidCalibration`` for any other text.
    public init(encoded: String) throws(TrainingError) {
        var reader = CalibrationReader(Array(encoded.utf8))
        let (method, x, y) = try reader.read()
        guard method == "isotonic" else {
            throw TrainingError(code: .invalidCalibration, message: "method is \"\(method)\"; expected \"isotonic\"")
        }
        try self.init(inputs: x, outputs: y)
    }
}

/// Reads the one JSON shape ``Calibration/encoded`` writes: an object with a string `method` and number
/// arrays `x` and `y`, in any order, with any whitespace.
private struct CalibrationReader {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func read() throws(TrainingError) -> (String, [Double], [Double]) {
        var method: String?
        var x: [Double]?
        var y: [Double]?
        try self.expect("{")
        repeat {
            let key = try self.string()
            try self.expect(":")
            switch key {
            case "method" where method == nil: method = try self.string()
            case "x" where x == nil: x = try self.numbers()
            case "y" where y == nil: y = try self.numbers()
            default: throw self.error("unexpected or repeated key \"\(key)\"")
            }
        } while try self.consume(",")
        try self.expect("}")
        self.skipSpace()
        guard self.position == self.bytes.count else {
            throw self.error("text after the object")
        }
        guard let method, let x, let y else {
            throw self.error("expected the keys method, x and y")
        }
        return (method, x, y)
    }

    private mutating func numbers() throws(TrainingError) -> [Double] {
        try self.expect("[")
        var values: [Double] = []
        if try self.consume("]") {
            return values
        }
        repeat {
            self.skipSpace()
            let start = self.position
            while self.position < self.bytes.count, Self.isNumberByte(self.bytes[self.position]) {
                self.position += 1
            }
            let text = String(decoding: self.bytes[start..<self.position], as: UTF8.self)
            guard let value = Double(text), value.isFinite else {
                throw self.error("expected a number")
            }
            values.append(value)
        } while try self.consume(",")
        try self.expect("]")
        return values
    }

    private mutating func string() throws(TrainingError) -> String {
        try self.expect("\"")
        let start = self.position
        while self.position < self.bytes.count, self.bytes[self.position] != UInt8(ascii: "\"") {
            guard self.bytes[self.position] != UInt8(ascii: "\\") else {
                throw self.error("escapes are not expected")
            }
            self.position += 1
        }
        guard self.position < self.bytes.count else {
            throw self.error("unterminated string")
        }
        self.position += 1
        return String(decoding: self.bytes[start..<(self.position - 1)], as: UTF8.self)
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e")
            || byte == UInt8(ascii: "E")
    }

    private mutating func skipSpace() {
        while self.position < self.bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(self.bytes[self.position]) {
            self.position += 1
        }
    }

    private mutating func consume(_ character: Unicode.Scalar) throws(TrainingError) -> Bool {
        self.skipSpace()
        guard self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: character) else {
            return false
        }
        self.position += 1
        return true
    }

    private mutating func expect(_ character: Unicode.Scalar) throws(TrainingError) {
        guard try self.consume(character) else {
            throw self.error("expected '\(character)'")
        }
    }

    private func error(_ message: String) -> TrainingError {
        TrainingError(code: .invalidCalibration, message: "calibration text at byte \(self.position): \(message)")
    }
}
