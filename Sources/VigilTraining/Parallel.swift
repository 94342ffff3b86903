import Dispatch

/// Runs independent pieces of work on all cores.
///
/// Work is split into pieces by size, never by the number of cores or by timing, and every piece writes
/// to its own place; results are combined afterwards in piece order, so a model does not depend on how
/// the threads were scheduled.
enum Parallel {
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            if count == 1 {
                body(0)
            }
            return
        }
        // Dispatch asks for a @Sendable closure; the callers' closures capture buffers that every piece
        // writes at its own indices only, which is what makes sharing them sound.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
        }
    }

    /// Calls `body` with consecutive ranges of at most `blockSize` of `0..<count`, in parallel.
    static func forEachBlock(_ count: Int, blockSize: Int, _ body: (Int, Range<Int>) -> Void) {
        let blocks = (count + blockSize - 1) / blockSize
        self.forEach(blocks) { block in
            let start = block * blockSize
            body(block, start..<min(start + blockSize, count))
        }
    }
}

private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}
