import Crypto
import VigilDomain

/// Random 96-bit AES-GCM nonces, 12 fresh bytes each from the buffered CSPRNG (``RandomBytes``).
///
/// Each nonce is fresh `getentropy` output, as `AES.GCM.Nonce()` would draw it, without its two `getrandom` calls per
/// seal. The construction stays "random nonce", so the usual bound applies: at most 2³² seals per data key (NIST SP
/// 800-38D §8.3), about 850 million payments at five seals each, before a new data key version is due. GCM needs
/// nonces to be unique, not secret; the pool's fork handler keeps a forked child from reusing its parent's.
final class NonceSource: Sendable {
    static let byteCount = 12

    private let random = RandomBytes()

    /// A nonce never handed out before.
    func next() -> AES.GCM.Nonce {
        withUnsafeTemporaryAllocation(byteCount: Self.byteCount, alignment: 8) { buffer in
            random.fill(buffer)
            // A 12-byte nonce is the size `AES.GCM.Nonce(data:)` asks for.
            return try! AES.GCM.Nonce(data: UnsafeRawBufferPointer(buffer))
        }
    }
}
