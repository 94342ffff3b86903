import Testing
import VigilDomain
@testable import VigilEngine

/// The keyed digest behind the duplicate index: the same under the same key in any process, different under another.
struct SipHash13Tests {
    static func digest(_ text: String, key: (UInt64, UInt64), byBytes: Bool) -> UInt64 {
        var hash = SipHash13(key: key)
        hash.combine(0x5649_4749_4C31 as UInt64)
        if byBytes {
            for byte in text.utf8 { hash.combine(byte: byte) }
            hash.combine(byte: 0xFF)
        } else {
            hash.combine(text)
        }
        return hash.finalize()
    }

    /// Strings are hashed a word at a time when they can be; that must equal hashing them byte by byte.
    @Test(arguments: ["", "a", "1234567", "12345678", "123456789", "payment-0123456789abcdef-with-a-long-id", "zürich-ünïcødé"])
    func wordsAndBytesGiveTheSameDigest(text: String) {
        let key: (UInt64, UInt64) = (0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908)
        #expect(Self.digest(text, key: key, byBytes: false) == Self.digest(text, key: key, byBytes: true))
    }

    @Test func theKeyDecidesTheDigest() {
        let a = Self.digest("bank-a/p1", key: (1, 2), byBytes: false)
        #expect(a == Self.digest("bank-a/p1", key: (1, 2), byBytes: false))
        #expect(a != Self.digest("bank-a/p1", key: (1, 3), byBytes: false))
        #expect(a != Self.digest("bank-a/p2", key: (1, 2), byBytes: false))
    }

    /// An index restored from another index's image finds its answers: the digests' key travels with the image.
    @Test func aRestoredIndexRecognisesTheIdsOfTheOriginal() {
        let original = DuplicateIndex()
        let response = ScoreResponse(
            paymentId: "p1", scoreId: "sc_00000000000000000000000000000001", score: 10, decision: .allow, reasons: [], rules: [],
            duplicate: false, modelVersion: "m1", processingMicros: 5)
        original.record(tenant: "bank-a", paymentId: "p1", fingerprint: 7, response: response, atMillis: 1000)
        let restored = DuplicateIndex()
        #expect(restored.seed != original.seed)
        restored.restore(original.capture())
        #expect(restored.reserve(tenant: "bank-a", paymentId: "p1", fingerprint: 7, nowMillis: 2000) == .duplicate(response))
        #expect(restored.reserve(tenant: "bank-b", paymentId: "p1", fingerprint: 7, nowMillis: 2000) == .reserved)
    }
}
