import Testing
import VigilEventLog

struct CRC32CTests {
    /// Vectors from RFC 3720 appendix B.4 and the common "123456789" check value.
    @Test(arguments: [
        (Array("123456789".utf8), UInt32(0xE306_9283)),
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        (Array(0..<32), 0x46DD_794E),
        (Array((0..<32).reversed()), 0x113F_DB5C),
        ([], 0),
    ] as [([UInt8], UInt32)])
    func knownVectors(bytes: [UInt8], expected: UInt32) {
        #expect(CRC32C.checksum(bytes) == expected)
        #expect(bytes.withUnsafeBytes { CRC32C.checksum($0) } == expected)
    }

    /// The 8-byte and 1-byte paths must agree at every split and alignment.
    @Test func unalignedAndIncrementalMatchWhole() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = CRC32C.checksum(bytes)
        #expect(whole == Self.bitwise(bytes))
        bytes.withUnsafeBytes { buffer in
            for split in [0, 1, 3, 7, 8, 9, 500, 999, 1000] {
                let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[..<split]))
                let both = CRC32C.checksum(continuing: first, UnsafeRawBufferPointer(rebasing: buffer[split...]))
                #expect(both == whole, "split at \(split)")
            }
            for offset in 1..<8 {
                let tail = UnsafeRawBufferPointer(rebasing: buffer[offset...])
                #expect(CRC32C.checksum(tail) == Self.bitwise(Array(bytes[offset...])), "offset \(offset)")
            }
        }
    }

    /// A bit-at-a-time reference implementation.
    private static func bitwise(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = ~0
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }
}
