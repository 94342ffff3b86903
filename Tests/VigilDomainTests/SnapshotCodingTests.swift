import Testing
import VigilDomain

/// Length-prefixed parts: written by ``SnapshotWriter/lengthPrefixed(_:)``, found by ``SnapshotReader/parts(_:)`` and
/// decoded on all cores; a damaged length is refused with an error naming what is wrong, never read past.
struct SnapshotCodingTests {
    /// Three parts of 1, 3 and 2 words, then a trailing word.
    static func written() -> [UInt8] {
        var out = SnapshotWriter()
        for words in [[7], [1, 2, 3], [40, 50]] as [[UInt64]] {
            out.lengthPrefixed { part in for word in words { part.word(word) } }
        }
        out.word(99)
        return out.take()
    }

    /// Reads the parts' words to their ends, on all cores.
    static func decode(_ bytes: [UInt8], reading wordsPerPart: [Int]? = nil) throws(SnapshotDecodingError) -> [[UInt64]] {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(SnapshotDecodingError) in
                var input = SnapshotReader(raw)
                let parts = try input.parts(3, what: "test part")
                let words = try SnapshotReader.decodeConcurrently(parts, what: "test part") { (part) throws(SnapshotDecodingError) in
                    var words: [UInt64] = []
                    while !part.isAtEnd { words.append(try part.word()) }
                    return words
                }
                let last = try input.word()
                #expect(last == 99, "the reader is left after the last part")
                return words
            }
        }
        return try result.get()
    }

    @Test func partsComeBackInTheirOrder() throws {
        let bytes = Self.written()
        #expect(bytes.count == 3 * 8 + 6 * 8 + 8)
        #expect(Array(bytes[0..<8]) == [8, 0, 0, 0, 0, 0, 0, 0], "the first part's byte length, little-endian")
        #expect(try Self.decode(bytes) == [[7], [1, 2, 3], [40, 50]])
    }

    /// The second part's length (at byte 16) or the third's (at 48) damaged: each way is refused, with the reason.
    @Test(arguments: [
        (16, UInt64.max, "test part 1: a length of 18446744073709551615 bytes past the 56 that remain"),
        (16, 1 << 40, "test part 1: a length of 1099511627776 bytes past the 56 that remain"),
        // The second part empty: the third's length is then its first word (1), and it ends inside a word.
        (16, 0, "test part 2: the bytes end inside a value"),
        (48, 15, "test part 2: the bytes end inside a value"),
        (48, 17, "test part 2: the bytes end inside a value"),
    ] as [(Int, UInt64, String)])
    func aDamagedPartLengthIsRefused(offset: Int, length: UInt64, reason: String) {
        var bytes = Self.written()
        withUnsafeBytes(of: length.littleEndian) { for (i, byte) in $0.enumerated() { bytes[offset + i] = byte } }
        #expect {
            _ = try Self.decode(bytes)
        } throws: { error in
            (error as? SnapshotDecodingError)?.description.contains(reason) == true
        }
    }

    /// A part one word shorter than it says, the reader stopping short: its decoder must read its part to the end.
    @Test func aPartNotReadToItsEndIsRefused() {
        let bytes = Self.written()
        #expect {
            _ = try bytes.withUnsafeBytes { raw throws(SnapshotDecodingError) in
                var input = SnapshotReader(raw)
                let parts = try input.parts(3, what: "test part")
                return try SnapshotReader.decodeConcurrently(parts, what: "test part") { (part) throws(SnapshotDecodingError) in try part.word() }
            }
        } throws: { error in
            (error as? SnapshotDecodingError)?.description == "test part 1: 16 bytes past the end of test part"
        }
    }

    /// Of several failing parts, the first by index is reported, however the threads ran.
    @Test func theFirstFailingPartIsReported() {
        let parts = Array(repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: 40)
        for _ in 0..<20 {
            #expect {
                _ = try SnapshotReader.decodeConcurrently(parts, what: "part") { (part) throws(SnapshotDecodingError) -> Int in
                    try part.byte() == 0 ? 0 : 1
                }
            } throws: { error in
                (error as? SnapshotDecodingError)?.description == "part 0: the bytes end inside a value"
            }
        }
    }
}
