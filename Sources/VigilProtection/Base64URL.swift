/// Base64url without padding (RFC 4648 §5), the encoding of every part of a JWS (RFC 7515 §2).
///
/// Decoding is strict so that one token has exactly one spelling: padding, characters outside the alphabet, a
/// length no encoder produces and unused low bits that are not zero are all refused.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        switch input.count - i {
        case 1:
            let n = UInt32(input[i]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)]]
        case 2:
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        default:
            break
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes, or nil when the text is not canonical unpadded base64url.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var buffer: UInt32 = 0
        var count = 0
        for character in text {
            guard let value = sextet(character) else { return nil }
            buffer = buffer << 6 | UInt32(value)
            count += 1
            if count == 4 {
                out += [UInt8(buffer >> 16), UInt8(buffer >> 8 & 0xff), UInt8(buffer & 0xff)]
                buffer = 0
                count = 0
            }
        }
        switch count {
        case 0:
            break
        case 2:
            // 12 bits carry one byte; the low 4 must be zero.
            guard buffer & 0xf == 0 else { return nil }
            out.append(UInt8(buffer >> 4))
        case 3:
            // 18 bits carry two bytes; the low 2 must be zero.
            guard buffer & 0x3 == 0 else { return nil }
            out += [UInt8(buffer >> 10), UInt8(buffer >> 2 & 0xff)]
        default:
            // A single trailing character carries 6 bits, not a whole byte: no encoder writes that.
            return nil
        }
        return out
    }

    private static func sextet(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
