#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Fresh bytes from the operating system's CSPRNG, drawn 4 KiB at a time.
///
/// Every byte handed out is new `getentropy` output, exactly what a per-call system random call would give, but one
/// refill (16 system calls) serves hundreds of callers: seal nonces (12 bytes) and score ids (16 bytes) are needed on
/// every payment, and a system call each, or `UUID()`'s open-read-close of `/dev/urandom`, cost more than the work
/// around them. Bytes waiting in memory are not secret from this process's own memory, which holds the keys anyway.
///
/// A child made by `fork()` would hand out the parent's waiting bytes a second time (for nonces, a nonce reused under
/// the same key), so a fork handler marks every pool stale and the child refills before its first draw.
public final class RandomBytes: Sendable {
    /// The most one draw may take.
    public static let maxDraw = 64

    private let pool = Mutex(Pool())

    public init() {
        _ = forkHandlerRegistered
    }

    /// Fills `destination` (at most ``maxDraw`` bytes) with bytes never handed out before.
    public func fill(_ destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count <= Self.maxDraw, "draw at most \(Self.maxDraw) random bytes at a time")
        let generation = forkGeneration.load(ordering: .relaxed)
        pool.withLock { $0.take(into: destination, generation: generation) }
    }

    /// Two fresh words.
    public func next128() -> (UInt64, UInt64) {
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &words) { fill($0) }
        return words
    }

    struct Pool: ~Copyable {
        static let size = 4096

        private var bytes = [UInt8](repeating: 0, count: size)
        /// Where the next unused byte is; `size` means empty.
        private var offset = size
        private var generation: UInt64 = 0

        mutating func take(into destination: UnsafeMutableRawBufferPointer, generation current: UInt64) {
            if Self.size - offset < destination.count || generation != current {
                refill()
                generation = current
            }
            bytes.withUnsafeBytes { raw in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + destination.count]))
            }
            offset += destination.count
        }

        private mutating func refill() {
            bytes.withUnsafeMutableBytes { buffer in
                var filled = 0
                while filled < buffer.count {
                    // getentropy gives at most 256 bytes per call.
                    let count = min(256, buffer.count - filled)
                    guard getentropy(buffer.baseAddress! + filled, count) == 0 else { break }
                    filled += count
                }
                // Without getentropy (an old kernel), the standard library's generator, which traps rather than
                // return anything but fresh system randomness.
                var generator = SystemRandomNumberGenerator()
                while filled < buffer.count {
                    buffer[filled] = generator.next()
                    filled += 1
                }
            }
            offset = 0
        }
    }
}

/// Bumped in the child after every `fork()`; a pool filled under an older value is discarded.
private let forkGeneration = Atomic<UInt64>(0)

private let forkHandlerRegistered: Bool = {
    pthread_atfork(nil, nil) { forkGeneration.add(1, ordering: .relaxed) }
    return true
}()
