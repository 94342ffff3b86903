/// SipHash-1-3 (the variant Swift's `Hasher` uses) under a 128-bit key the caller holds, so a digest can be computed
/// again in another process that has the key: what lets the duplicate index's digests live in a snapshot.
struct SipHash13 {
    private var v0: UInt64
    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64
    private var tail: UInt64 = 0
    private var tailBytes: UInt64 = 0
    private var length: UInt64 = 0

    init(key: (UInt64, UInt64)) {
        v0 = key.0 ^ 0x736F_6D65_7073_6575
        v1 = key.1 ^ 0x646F_7261_6E64_6F6D
        v2 = key.0 ^ 0x6C79_6765_6E65_7261
        v3 = key.1 ^ 0x7465_6462_7974_6573
    }

    @inline(__always)
    private mutating func round() {
        v0 = v0 &+ v1
        v1 = v1.rotateLeft(13) ^ v0
        v0 = v0.rotateLeft(32)
        v2 = v2 &+ v3
        v3 = v3.rotateLeft(16) ^ v2
        v0 = v0 &+ v3
        v3 = v3.rotateLeft(21) ^ v0
        v2 = v2 &+ v1
        v1 = v1.rotateLeft(17) ^ v2
        v2 = v2.rotateLeft(32)
    }

    @inline(__always)
    private mutating func compress(_ m: UInt64) {
        v3 ^= m
        round()
        v0 ^= m
    }

    mutating func combine(byte: UInt8) {
        tail |= UInt64(byte) << (tailBytes * 8)
        tailBytes += 1
        length += 1
        if tailBytes == 8 {
            compress(tail)
            tail = 0
            tailBytes = 0
        }
    }

    mutating func combine(_ word: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { combine(byte: UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
    }

    /// The string's UTF-8 bytes, then 0xFF (which UTF-8 never holds), so ("ab", "c") and ("a", "bc") differ.
    mutating func combine(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var index = 0
            // Whole words while none is pending: the common case, ids of a few dozen bytes.
            if tailBytes == 0 {
                while bytes.count - index >= 8 {
                    compress(UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self)))
                    index += 8
                    length += 8
                }
            }
            while index < bytes.count {
                combine(byte: bytes[index])
                index += 1
            }
        }
        combine(byte: 0xFF)
    }

    consuming func finalize() -> UInt64 {
        compress(tail | (length & 0xFF) << 56)
        v2 ^= 0xFF
        round()
        round()
        round()
        return v0 ^ v1 ^ v2 ^ v3
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotateLeft(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}
