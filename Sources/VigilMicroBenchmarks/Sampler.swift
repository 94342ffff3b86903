/// Runs timed batches until a time budget is spent, and reports the median batch.
///
/// A batch is one pass over the workload. The batch body times only its own measured loop and returns
/// that duration, so it may prepare its inputs (for example shift the workload in time) untimed.
struct Sampler {
    /// Time budget per stage, counting only measured time.
    let seconds: Double
    /// Batches run even when the budget is spent sooner, so the median means something.
    let minimumBatches = 3

    /// Runs `batch(pass)` for pass 0, 1, 2, … and returns the median cost per payment.
    func run(payments: Int, _ batch: (_ pass: Int) async throws -> Duration) async rethrows -> Measurement {
        var perPayment: [Double] = []
        var measured = Duration.zero
        while perPayment.count < minimumBatches || measured < .seconds(seconds) {
            let duration = try await batch(perPayment.count)
            measured += duration
            perPayment.append(duration.nanoseconds / Double(payments))
        }
        perPayment.sort()
        return Measurement(nanosPerPayment: perPayment[perPayment.count / 2], batches: perPayment.count)
    }
}

/// The median cost of one payment over several batches.
struct Measurement {
    var nanosPerPayment: Double
    var batches: Int
    var perSecond: Double { 1e9 / nanosPerPayment }
}

extension Duration {
    var nanoseconds: Double { Double(components.seconds) * 1e9 + Double(components.attoseconds) / 1e9 }
}
