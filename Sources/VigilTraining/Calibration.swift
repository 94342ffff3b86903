import VigilTrees

/// A strictly increasing map from a model's probabilities to calibrated ones, fitted on held-out rows.
///
/// Strictly increasing matters more than any calibration detail: a map with flat stretches gives payments the
/// model ranked apart the same score, which costs ranking quality (ROC-AUC) and can cap every score below a
/// decision threshold. Both fitted forms work on the logit scale, where a tree model's margin lives:
///
/// - **Isotonic** (``isotonic(probabilities:labels:)``, at least ``isotonicMinimumPositives`` positives):
///   pool-adjacent-violators blocks whose positive rates rise strictly; each block with a rate strictly between
///   0 and 1 becomes a knot (its mean margin, the logit of its rate). Between knots the calibrated logit is linear
///   in the margin, at least ``minimumSegmentSlope`` of the Platt slope steep; beyond the end knots it continues
///   with the slope of a Platt fit on the same rows. An end block of rate 0 or 1 has no finite logit and is
///   covered by that tail, so no stretch of margins is flat.
/// - **Platt** (``platt(probabilities:labels:)``): `logit(calibrated) = slope × margin + intercept`, a logistic
///   regression on the margin fitted by Newton's method with a Gaussian prior centred on the identity map (slope 1,
///   intercept 0: the trees' own probabilities, which log-loss training already calibrates on the training rows)
///   and worth ``plattPriorStrength`` positives. With a handful of validation positives the map stays near the
///   model's own probabilities instead of following one payment; with hundreds the data decides. The prior also
///   keeps the fit finite when the classes separate.
///
/// Both need a positive slope: a model whose validation probabilities fall as the fraud rate rises is refused.
/// ``legacyIsotonic(inputs:outputs:)`` reads the form model files carried before (linear in probability between
/// breakpoints, flat beyond them) and scores such files exactly as they were evaluated.
public struct Calibration: Sendable, Equatable {
    /// How the map is stored and applied.
    public enum Form: Sendable, Equatable {
        /// `logit(calibrated) = slope × margin + intercept`.
        case platt(slope: Double, intercept: Double)
        /// Knots `(margins[i], logits[i])`, both strictly increasing; linear between them, `slope` beyond them.
        case isotonic(margins: [Double], logits: [Double], slope: Double)
        /// Breakpoints in probability, linear between them and flat beyond them (model files from before the
        /// logit form; kept as they are so a deployed model's scores do not move).
        case legacyIsotonic(inputs: [Double], outputs: [Double])
    }

    /// The method's name, as stored in `vigil_calibration`.
    public enum Method: String, Sendable {
        case isotonic
        case platt
    }

    /// Fewer positives than this on the held-out rows and ``fit(probabilities:labels:)`` uses Platt scaling:
    /// isotonic blocks then hold one or two frauds each, and their rates are noise.
    public static let isotonicMinimumPositives = 50
    /// The weight of the Platt fit's prior, in positives: the Fisher information a rare positive class brings to the
    /// fit is about one unit per positive, so 10 means the prior counts as much as 10 validation frauds.
    public static let plattPriorStrength = 10.0

    public let form: Form

    public var method: Method {
        switch self.form {
        case .platt: .platt
        case .isotonic, .legacyIsotonic: .isotonic
        }
    }

    /// - Throws: ``TrainingError/Code/invalidCalibration`` unless every number is finite and the form is
    ///   strictly increasing: a positive slope, knots (or breakpoints in [0, 1]) equally many, at least one, and
    ///   strictly increasing in both coordinates.
    public init(_ form: Form) throws(TrainingError) {
        func fail(_ message: String) -> TrainingError {
            TrainingError(code: .invalidCalibration, message: message)
        }
        func checkIncreasing(_ values: [Double], _ name: String) throws(TrainingError) {
            if let bad = values.indices.dropFirst().first(where: { values[$0] <= values[$0 - 1] }) {
                throw fail("\(name) \(bad) is not above \(name) \(bad - 1); expected strictly increasing")
            }
        }
        func checkSlope(_ slope: Double) throws(TrainingError) {
            guard slope.isFinite, slope > 0 else {
                throw fail("slope is \(slope); expected a positive number")
            }
        }
        switch form {
        case .platt(let slope, let intercept):
            try checkSlope(slope)
            guard intercept.isFinite else { throw fail("intercept is \(intercept); expected a number") }
        case .isotonic(let margins, let logits, let slope):
            try checkSlope(slope)
            guard !margins.isEmpty, margins.count == logits.count else {
                throw fail("\(margins.count) margins and \(logits.count) logits; expected equally many, at least one")
            }
            for (values, name) in [(margins, "margin"), (logits, "logit")] {
                if let bad = values.firstIndex(where: { !$0.isFinite }) {
                    throw fail("\(name) \(bad) is \(values[bad]); expected a number")
                }
                try checkIncreasing(values, name)
            }
        case .legacyIsotonic(let inputs, let outputs):
            guard !inputs.isEmpty, inputs.count == outputs.count else {
                throw fail("\(inputs.count) inputs and \(outputs.count) outputs; expected equally many, at least one")
            }
            for values in [inputs, outputs] {
                if let bad = values.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
                    throw fail("breakpoint \(bad) is \(values[bad]); expected a probability in [0, 1]")
                }
                try checkIncreasing(values, "breakpoint")
            }
        }
        self.form = form
    }

    /// Fits the calibration for held-out rows: isotonic with Platt tails when they hold at least
    /// ``isotonicMinimumPositives`` positives and as many negatives, Platt scaling otherwise.
    /// - Throws: ``TrainingError/Code/invalidData`` as ``platt(probabilities:labels:)`` does.
    public static func fit(probabilities: [Double], labels: [Float]) throws(TrainingError) -> Calibration {
        let positives = labels.count(where: { $0 > 0.5 })
        if positives >= Self.isotonicMinimumPositives && labels.count - positives >= Self.isotonicMinimumPositives {
            return try Self.isotonic(probabilities: probabilities, labels: labels)
        }
        return try Self.platt(probabilities: probabilities, labels: labels)
    }

    /// Fits isotonic regression of `labels` on `probabilities`, in logit space, with Platt tails (see the type);
    /// Platt scaling alone when no block has a rate strictly between 0 and 1.
    /// - Throws: ``TrainingError/Code/invalidData`` as ``platt(probabilities:labels:)`` does.
    public static func isotonic(probabilities: [Double], labels: [Float]) throws(TrainingError) -> Calibration {
        let margins = try Self.margins(probabilities, labels: labels)
        let (slope, intercept) = try Self.plattFit(margins: margins, labels: labels)
        struct Block {
            var count: Double
            var marginSum: Double
            var labelSum: Double
            var rate: Double { self.labelSum / self.count }
        }
        let order = margins.indices.sorted { margins[$0] < margins[$1] }
        var blocks: [Block] = []
        var index = 0
        while index < order.count {
            // Equal predictions cannot be told apart, so they start in one block.
            let margin = margins[order[index]]
            var block = Block(count: 0, marginSum: 0, labelSum: 0)
            while index < order.count && margins[order[index]] == margin {
                block.count += 1
                block.marginSum += margin
                block.labelSum += labels[order[index]] > 0.5 ? 1 : 0
                index += 1
            }
            while let last = blocks.last, last.rate >= block.rate {
                block.count += last.count
                block.marginSum += last.marginSum
                block.labelSum += last.labelSum
                blocks.removeLast()
            }
            blocks.append(block)
        }
        var knotMargins: [Double] = []
        var knotLogits: [Double] = []
        for block in blocks where block.labelSum > 0 && block.labelSum < block.count {
            let centre = block.marginSum / block.count
            // Rounding can make two block means equal; the later, higher block wins the knot.
            if let last = knotMargins.last, centre <= last {
                knotMargins.removeLast()
                knotLogits.removeLast()
            }
            knotMargins.append(centre)
            knotLogits.append(Logistic.logit(block.rate))
        }
        guard !knotMargins.isEmpty else {
            return try Calibration(.platt(slope: slope, intercept: intercept))
        }
        Self.steepen(knotLogits, margins: knotMargins, minimumSlope: Self.minimumSegmentSlope * slope).map { knotLogits = $0 }
        return try Calibration(.isotonic(margins: knotMargins, logits: knotLogits, slope: slope))
    }

    /// An isotonic segment rises at least this share of the Platt slope: two adjacent blocks with nearly equal rates
    /// would otherwise make a stretch of margins so shallow that the integer score cannot tell its payments apart.
    public static let minimumSegmentSlope = 0.25

    /// Raises each segment to `minimumSlope` where it is shallower: a forward pass that lifts later knots and a
    /// backward pass that lowers earlier ones, averaged, so the correction is shared by both sides of a shallow
    /// segment. Each pass's segments are at least that steep, so their average is too. Nil when nothing changes.
    private static func steepen(_ logits: [Double], margins: [Double], minimumSlope: Double) -> [Double]? {
        var forward = logits
        var backward = logits
        for index in logits.indices.dropFirst() {
            forward[index] = max(forward[index], forward[index - 1] + minimumSlope * (margins[index] - margins[index - 1]))
        }
        for index in logits.indices.dropLast().reversed() {
            backward[index] = min(backward[index], backward[index + 1] - minimumSlope * (margins[index + 1] - margins[index]))
        }
        guard forward != logits || backward != logits else {
            return nil
        }
        return zip(forward, backward).map { ($0 + $1) / 2 }
    }

    /// Fits Platt scaling: a logistic regression of `labels` on the margins `logit(probabilities)`.
    /// - Throws: ``TrainingError/Code/invalidData`` when there are no rows, the counts differ, a probability is
    ///   not in [0, 1], either class is absent, or the fitted slope is not positive (the probabilities do not
    ///   rise with the positive rate, so no increasing map can calibrate them).
    public static func platt(probabilities: [Double], labels: [Float]) throws(TrainingError) -> Calibration {
        let margins = try Self.margins(probabilities, labels: labels)
        let (slope, intercept) = try Self.plattFit(margins: margins, labels: labels)
        return try Calibration(.platt(slope: slope, intercept: intercept))
    }

    /// Margins beyond this are clamped when fitting: `sigmoid(±40)` is 0 or 1 in a `Double` anyway.
    private static let marginLimit = 40.0

    private static func margins(_ probabilities: [Double], labels: [Float]) throws(TrainingError) -> [Double] {
        guard !probabilities.isEmpty, probabilities.count == labels.count else {
            throw TrainingError(
                code: .invalidData,
                message: "\(probabilities.count) probabilities and \(labels.count) labels; expected equally many rows"
            )
        }
        if let bad = probabilities.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw TrainingError(code: .invalidData, message: "probability \(bad) is \(probabilities[bad])")
        }
        let positives = labels.count(where: { $0 > 0.5 })
        guard positives > 0, positives < labels.count else {
            throw TrainingError(
                code: .invalidData,
                message: "\(positives) positives in \(labels.count) rows; calibration needs both classes"
            )
        }
        return probabilities.map { min(max(Logistic.logit($0), -Self.marginLimit), Self.marginLimit) }
    }

    /// Newton's method with a backtracking line search on the log-loss of the labels plus the prior's penalty,
    /// `plattPriorStrength / 2 × ((slope - 1)² + intercept²)`.
    private static func plattFit(margins: [Double], labels: [Float]) throws(TrainingError) -> (slope: Double, intercept: Double) {
        let targets = labels.map { $0 > 0.5 ? 1.0 : 0.0 }
        let prior = Self.plattPriorStrength
        func loss(_ a: Double, _ b: Double) -> Double {
            var sum = prior / 2 * ((a - 1) * (a - 1) + b * b)
            for (f, t) in zip(margins, targets) {
                let z = a * f + b
                sum += Logistic.softplus(z) - t * z
            }
            return sum
        }
        var a = 1.0
        var b = 0.0
        var current = loss(a, b)
        for _ in 0..<100 {
            var (ga, gb, haa, hab, hbb) = (prior * (a - 1), prior * b, prior, 0.0, prior)
            for (f, t) in zip(margins, targets) {
                let p = Logistic.sigmoid(a * f + b)
                let w = p * (1 - p)
                ga += (p - t) * f
                gb += p - t
                haa += w * f * f
                hab += w * f
                hbb += w
            }
            let determinant = haa * hbb - hab * hab
            let da = -(hbb * ga - hab * gb) / determinant
            let db = -(haa * gb - hab * ga) / determinant
            let descent = ga * da + gb * db
            // Half the Newton decrement estimates how far the loss is above its minimum.
            if -descent < 1e-12 * Double(margins.count) {
                break
            }
            var step = 1.0
            var moved = false
            while step >= 1e-10 {
                let candidate = loss(a + step * da, b + step * db)
                if candidate <= current + 1e-4 * step * descent {
                    a += step * da
                    b += step * db
                    current = candidate
                    moved = true
                    break
                }
                step /= 2
            }
            if !moved {
                break
            }
        }
        guard a > 0, a.isFinite, b.isFinite else {
            throw TrainingError(
                code: .invalidData,
                message: "the probabilities do not rise with the positive rate (Platt slope \(a)); "
                    + "a model that ranks no better than chance cannot be calibrated"
            )
        }
        return (a, b)
    }

    /// The calibrated probability of `p`: strictly increasing wherever the result is not 0 or 1 to a `Double`
    /// (non-decreasing for ``Form/legacyIsotonic(inputs:outputs:)``).
    public func apply(_ p: Double) -> Double {
        if p.isNaN {
            return p
        }
        switch self.form {
        case .platt(let slope, let intercept):
            return Logistic.sigmoid(slope * Logistic.logit(p) + intercept)
        case .isotonic(let margins, let logits, let slope):
            let margin = Logistic.logit(p)
            return Logistic.sigmoid(Self.interpolate(margin, margins, logits, below: slope, above: slope))
        case .legacyIsotonic(let inputs, let outputs):
            return Self.interpolate(p, inputs, outputs, below: 0, above: 0)
        }
    }

    /// Linear through the points `(xs[i], ys[i])`, and beyond the first and last with the given slopes.
    private static func interpolate(_ x: Double, _ xs: [Double], _ ys: [Double], below: Double, above: Double) -> Double {
        let last = xs.count - 1
        guard x > xs[0] else {
            return below == 0 ? ys[0] : ys[0] + below * (x - xs[0])
        }
        guard x < xs[last] else {
            return above == 0 ? ys[last] : ys[last] + above * (x - xs[last])
        }
        var low = 0
        var high = last
        while high - low > 1 {
            let middle = (low + high) / 2
            if xs[middle] <= x {
                low = middle
            } else {
                high = middle
            }
        }
        let fraction = (x - xs[low]) / (xs[high] - xs[low])
        return ys[low] + fraction * (ys[high] - ys[low])
    }

    /// A compact JSON text for a model file's string attributes; numbers are written in their shortest form that
    /// reads back exactly:
    /// - `{"method":"platt","slope":a,"intercept":b}`
    /// - `{"method":"isotonic","margins":[…],"logits":[…],"slope":a}`
    /// - `{"method":"isotonic","x":[…],"y":[…]}` (the legacy form).
    public var encoded: String {
        func list(_ values: [Double]) -> String {
            "[" + values.map(\.description).joined(separator: ",") + "]"
        }
        switch self.form {
        case .platt(let slope, let intercept):
            return #"{"method":"platt","slope":\#(slope),"intercept":\#(intercept)}"#
        case .isotonic(let margins, let logits, let slope):
            return #"{"method":"isotonic","margins":\#(list(margins)),"logits":\#(list(logits)),"slope":\#(slope)}"#
        case .legacyIsotonic(let inputs, let outputs):
            return #"{"method":"isotonic","x":\#(list(inputs)),"y":\#(list(outputs))}"#
        }
    }

    /// Reads an ``encoded`` text.
    /// - Throws: ``TrainingError/Code/invalidCalibration`` for any other text.
    public init(encoded: String) throws(TrainingError) {
        var reader = CalibrationReader(Array(encoded.utf8))
        var fields = try reader.read()
        func fail(_ message: String) -> TrainingError {
            TrainingError(code: .invalidCalibration, message: message)
        }
        func take(_ key: String) -> CalibrationReader.Value? {
            fields.removeValue(forKey: key)
        }
        func number(_ key: String) throws(TrainingError) -> Double {
            guard case .number(let value) = take(key) else { throw fail("expected a number \"\(key)\"") }
            return value
        }
        func numbers(_ key: String) throws(TrainingError) -> [Double] {
            guard case .numbers(let values) = take(key) else { throw fail("expected a number array \"\(key)\"") }
            return values
        }
        guard case .string(let name) = take("method"), let method = Method(rawValue: name) else {
            throw fail("expected \"method\": \"isotonic\" or \"platt\"")
        }
        let form: Form
        switch method {
        case .platt:
            form = .platt(slope: try number("slope"), intercept: try number("intercept"))
        case .isotonic where fields["x"] != nil:
            form = .legacyIsotonic(inputs: try numbers("x"), outputs: try numbers("y"))
        case .isotonic:
            form = .isotonic(margins: try numbers("margins"), logits: try numbers("logits"), slope: try number("slope"))
        }
        if let extra = fields.keys.sorted().first {
            throw fail("unexpected key \"\(extra)\" for method \"\(method.rawValue)\"")
        }
        try self.init(form)
    }
}

/// Reads the JSON shape ``Calibration/encoded`` writes: one object whose values are strings without escapes,
/// numbers or arrays of numbers, in any order, with any whitespace, no key twice.
private struct CalibrationReader {
    enum Value {
        case string(String)
        case number(Double)
        case numbers([Double])
    }

    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func read() throws(TrainingError) -> [String: Value] {
        var fields: [String: Value] = [:]
        try self.expect("{")
        repeat {
            let key = try self.string()
            try self.expect(":")
            guard fields[key] == nil else {
                throw self.error("repeated key \"\(key)\"")
            }
            self.skipSpace()
            guard self.position < self.bytes.count else {
                throw self.error("expected a value")
            }
            switch self.bytes[self.position] {
            case UInt8(ascii: "\""): fields[key] = .string(try self.string())
            case UInt8(ascii: "["): fields[key] = .numbers(try self.numbers())
            default: fields[key] = .number(try self.number())
            }
        } while try self.consume(",")
        try self.expect("}")
        self.skipSpace()
        guard self.position == self.bytes.count else {
            throw self.error("text after the object")
        }
        return fields
    }

    private mutating func numbers() throws(TrainingError) -> [Double] {
        try self.expect("[")
        var values: [Double] = []
        if try self.consume("]") {
            return values
        }
        repeat {
            values.append(try self.number())
        } while try self.consume(",")
        try self.expect("]")
        return values
    }

    private mutating func number() throws(TrainingError) -> Double {
        self.skipSpace()
        let start = self.position
        while self.position < self.bytes.count, Self.isNumberByte(self.bytes[self.position]) {
            self.position += 1
        }
        let text = String(decoding: self.bytes[start..<self.position], as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw self.error("expected a number")
        }
        return value
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
