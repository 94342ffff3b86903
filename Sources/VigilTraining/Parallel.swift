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
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
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
