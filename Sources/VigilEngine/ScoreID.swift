import VigilDomain

/// Score ids: random (version 4) UUIDs in lower-case 8-4-4-4-12 text, one per scored payment.
///
/// Drawn from the buffered CSPRNG rather than `UUID()`, which opens, reads and closes `/dev/urandom` on every call
/// (about 4% of the server's CPU under load before this).
enum ScoreID {
    /// A new id from `random`, with the RFC 9562 version (4) and variant (10) bits set.
    static func random(_ random: RandomBytes) -> String {
        var (high, low) = random.next128()
        high = high & ~0xF000 | 0x4000
        low = low & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        return format((high, low))
    }

    /// The 16 bytes of a lower-case UUID in its 8-4-4-4-12 text form; nil for any other text, which could not be
    /// given back as it was.
    static func pack(_ text: String) -> (UInt64, UInt64)? {
        var text = text
        return text.withUTF8 { bytes -> (UInt64, UInt64)? in
            guard bytes.count == 36 else { return nil }
            var halves: (UInt64, UInt64) = (0, 0)
            var digits = 0
            for (i, byte) in bytes.enumerated() {
                if i == 8 || i == 13 || i == 18 || i == 23 {
                    guard byte == UInt8(ascii: "-") else { return nil }
                    continue
                }
                let nibble: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
                default: return nil
                }
                if digits < 16 { halves.0 = halves.0 << 4 | UInt64(nibble) } else { halves.1 = halves.1 << 4 | UInt64(nibble) }
                digits += 1
            }
            return halves
        }
    }

    /// The text of a UUID's 16 bytes (big-endian halves).
    static func format(_ halves: (UInt64, UInt64)) -> String {
        String(unsafeUninitializedCapacity: 36) { out in
            var at = 0
            for digit in 0..<32 {
                if digit == 8 || digit == 12 || digit == 16 || digit == 20 {
                    out[at] = UInt8(ascii: "-")
                    at += 1
                }
                let word = digit < 16 ? halves.0 : halves.1
                let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * (digit & 15))) & 0xF
                out[at] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
                at += 1
            }
            return at
        }
    }
}
