import Crypto
import Foundation
import Synchronization

/// Random 96-bit AES-GCM nonces, drawn from the operating system's CSPRNG a few kilobytes at a time.
///
/// Every nonce is 12 fresh bytes from `getentropy`, just as `AES.GCM.Nonce()` would draw them, but one refill
/// (16 system calls) serves 341 seals, where `AES.GCM.Nonce()` makes two `getrandom` calls per seal. The
/// construction stays "random nonce", so the usual bound applies: at most 2³² seals per data key (NIST SP
/// 800-38D §8.3), about 850 million payments at five seals each, before a new data key version is due.
///
/// GCM needs nonces to be unique, not secret, so nonces waiting in memory give nothing away. A child made by
/// `fork()` would hand out the parent's waiting nonces a second time under the same key, so a fork handler marks
/// every pool stale and the child refills before its first seal.
final class NonceSource: Sendable {
    private let pool = Mutex(RandomPool())

    init() {
        NonceSource.watchForks()
    }

    /// A nonce never handed out before.
    func next() -> AES.GCM.Nonce {
        let generation = forkGeneration.load(ordering: .relaxed)
        let (low, high) = pool.withLock { pool in pool.take(generation: generation) }
        return withUnsafeTemporaryAllocation(byteCount: RandomPool.nonceByteCount, alignment: 8) { buffer in
            buffer.storeBytes(of: low, toByteOffset: 0, as: UInt64.self)
            buffer.storeBytes(of: high, toByteOffset: 8, as: UInt32.self)
            // A 12-byte nonce is the size `AES.GCM.Nonce(data:)` asks for.
            return try! AES.GCM.Nonce(data: UnsafeRawBufferPointer(buffer))
        }
    }

    /// Registers the fork handler once per process.
    private static func watchForks() {
        _ = forkHandlerRegistered
    }
}

/// Bumped in the child after every `fork()`; a pool filled under an older value is discarded.
private let forkGeneration = Atomic<UInt64>(0)

private let forkHandlerRegistered: Bool = {
    pthread_atfork(nil, nil) { forkGeneration.add(1, ordering: .relaxed) }
    return true
}()

/// Random bytes waiting to become nonces.
struct RandomPool: ~Copyable {
    static let nonceByteCount = 12
    /// Nonces per refill: 4 KiB of randomness.
    static let capacity = 341

    private var bytes = [UInt8](repeating: 0, count: capacity * nonceByteCount)
    /// Where the next unused nonce starts; a full offset means empty.
    private var offset = capacity * nonceByteCount
    private var generation: UInt64 = 0

    /// The next 12 bytes as words (nonces are opaque bytes; the words only carry them out of the lock).
    mutating func take(generation current: UInt64) -> (UInt64, UInt32) {
        if offset == bytes.count || generation != current {
            refill()
            generation = current
        }
        defer { offset += Self.nonceByteCount }
        return bytes.withUnsafeBytes { raw in
            (raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self), raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        }
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
