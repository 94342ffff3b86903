import Dispatch

/// Runs independent pieces of work on up to `threads` threads.
///
/// Work is split into pieces by size, never by the number of threads or by timing, and every piece writes
/// to its own place; results are combined afterwards in piece order, so a model does not depend on how
/// the threads were scheduled, nor on how many there were.
struct Parallel: Sendable {
    /// The most threads to use; `nil` lets Dispatch use every core.
    let threads: Int?

    init(threads: Int? = nil) {
        self.threads = threads
    }

    func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || self.threads == 1 {
            for piece in 0..<count {
                body(piece)
            }
            return
        }
        // Dispatch asks for a @Sendable closure; the callers' closures capture buffers that every piece
        // writes at its own indices only, which is what makes sharing them sound.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            if let threads = self.threads, threads < count {
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    for piece in stride(from: worker, to: count, by: threads) {
                        shared.value(piece)
                    }
                }
            } else {
                DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
            }
        }
    }

    /// Calls `body` with consecutive ranges of at most `blockSize` of `0..<count`, in parallel.
    func forEachBlock(_ count: Int, blockSize: Int, _ body: (Int, Range<Int>) -> Void) {
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
