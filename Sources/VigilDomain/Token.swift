/// A keyed token standing in for a piece of personal data (an account, a name, a device, an IP).
///
/// Tokens are HMAC-SHA-256 outputs made at the gateway. They are stable across tenants, so the
/// same account is the same token whichever bank sends it, but they cannot be turned back into the
/// value without the tokenisation key.
public struct Token: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var a: UInt64
    public var b: UInt64
    public var c: UInt64
    public var d: UInt64

    public init(a: UInt64, b: UInt64, c: UInt64, d: UInt64) {
        self.a = a
        self.b = b
        self.c = c
        self.d = d
    }

    /// Builds a token from the first 32 bytes of `bytes` (big-endian words).
    public init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count >= 32, "a token needs 32 bytes")
        self.init(
            a: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            b: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            c: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            d: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        )
    }

    public init(bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { Token(bytes: $0) }
    }

    /// Parses the 64-character lower-case hex form written by `hex`.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, ch) in utf8.enumerated() {
            guard let nibble = Hex.nibble(ch) else { return nil }
            words[i / 16] = words[i / 16] << 4 | UInt64(nibble)
        }
        self.init(a: words[0], b: words[1], c: words[2], d: words[3])
    }

    public var hex: String { Hex.encode(a) + Hex.encode(b) + Hex.encode(c) + Hex.encode(d) }

    /// A 64-bit digest of the token, for compact sets of counterparties.
    public var short: UInt64 { a }

    public var description: String { "tok:" + Hex.encode(a) }

    public static func < (lhs: Token, rhs: Token) -> Bool {
        (lhs.a, lhs.b, lhs.c, lhs.d) < (rhs.a, rhs.b, rhs.c, rhs.d)
    }
}

extension Token: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let token = Token(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a token"))
        }
        self = token
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// Lower-case hex helpers shared by tokens and sealed values.
public enum Hex {
    public static func nibble(_ ch: UInt8) -> UInt8? {
        switch ch {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): ch - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): ch - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): ch - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    public static func encode(_ word: UInt64) -> String {
        let digits = String(word, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for byte in bytes {
                out[i] = digit(byte >> 4)
                out[i + 1] = digit(byte & 0x0f)
                i += 2
            }
            return i
        }
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    @inline(__always)
    static func digit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? nibble + 48 : nibble + 87 }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(bytes: text.utf8)
    }

    /// Hex digits (either case) to bytes; nil for an odd count or a non-digit.
    public static func decode(bytes text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var high: UInt8?
        for byte in text {
            guard let value = nibble(byte) else { return nil }
            if let hi = high {
                out.append(hi << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return out
    }
}

/// FNV-1a, 64-bit: a fast, stable, non-cryptographic fingerprint (bank ids, model files). Never for personal data.
public enum FNV1a {
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            h ^= UInt64(byte)
            h &*= 0x100_0000_01b3
        }
        return h
    }
}
