import Foundation
import Testing
import VigilProtection

struct Base64URLTests {
    /// RFC 4648 §10's vectors, in the URL alphabet without padding.
    @Test(arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
    ])
    func encodesAndDecodesTheRFCVectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(Array(encoded.utf8)) == Array(plain.utf8))
    }

    @Test func usesTheURLAlphabet() {
        #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
        #expect(Base64URL.decode(Array("-_8".utf8)) == [0xfb, 0xff])
    }

    @Test func roundTripsEveryLength() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64URL.decode(Array(Base64URL.encode(bytes).utf8)) == bytes)
        }
    }

    /// Padding, the standard alphabet, whitespace, a length no encoder writes and non-zero unused bits all have
    /// another canonical spelling or none, so each is refused.
    @Test(arguments: ["Zg==", "Zm8=", "+/8", "Zm9v Yg", "Zm9vY", "Zh", "Zm9", "Zg\n"])
    func refusesNonCanonicalText(text: String) {
        #expect(Base64URL.decode(Array(text.utf8)) == nil)
    }
}
