import Testing
import VigilDomain

struct TokenTests {
    @Test func hexRoundTrips() throws {
        let bytes = (0..<32).map { UInt8($0 * 7 % 256) }
        let token = Token(bytes: bytes)
        #expect(Hex.encode(bytes) == token.hex)
        #expect(Token(hex: token.hex) == token)
        #expect(Token(hex: "zz") == nil)
        #expect(token.description.hasPrefix("tok:"))
        #expect(token.description.count == 20)
    }
}
