public import Crypto
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Keeps key material out of swap and wipes plaintext buffers.
///
/// swift-crypto's `SymmetricKey` zeroes its storage when released; `lock` additionally pins the pages that hold
/// it in RAM (`mlock`), so the kernel never writes them to swap. Pages are left locked when the key is released
/// (another key may share the page, and `mlock` does not count), which bounds the locked memory by the number of
/// keys ever held, a few pages. What Swift cannot wipe (copies inside `String`s) is listed in docs/security.md.
public enum LockedMemory {
    private static let failures = Atomic<Int>(0)
    private static let locks = Atomic<Int>(0)

    /// Pins the pages holding `key`'s bytes. A failure (RLIMIT_MEMLOCK too small) is counted, not fatal.
    public static func lock(_ key: SymmetricKey) {
        key.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            if mlock(base, bytes.count) == 0 {
                locks.add(1, ordering: .relaxed)
            } else {
                failures.add(1, ordering: .relaxed)
            }
        }
    }

    /// Keys pinned so far, and keys that could not be pinned.
    public static var counts: (locked: Int, failed: Int) {
        (locks.load(ordering: .relaxed), failures.load(ordering: .relaxed))
    }

    /// Overwrites the array's elements with zeros (through `explicit_bzero`, which the optimiser cannot drop), then
    /// releases it. Only the current storage is wiped: bytes left behind by an earlier reallocation are not, so
    /// fill buffers that will be wiped at their final size.
    ///
    /// The array must not share its storage with another copy: a shared array is copied before it is written, and
    /// the copy would be wiped instead.
    public static func wipe(_ bytes: inout [UInt8]) {
        zero(&bytes)
        bytes.removeAll(keepingCapacity: false)
    }

    /// Overwrites the array's elements with zeros in place.
    public static func zero(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            explicit_bzero(base, buffer.count)
        }
    }
}
