/// Redis Cluster's key-to-slot function: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384.
public enum HashSlot {
    public static let count = 16384

    /// The slot of `key`. When the key holds `{…}` with at least one byte between the first `{` and the next `}`,
    /// only those bytes are hashed, so keys sharing a tag share a slot (and can be used together in one script).
    public static func slot<Bytes: Collection>(of key: Bytes) -> Int where Bytes.Element == UInt8 {
        let bytes = Array(key)
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            return Int(crc16(bytes[(open + 1)..<close]) % UInt16(count))
        }
        return Int(crc16(bytes[...]) % UInt16(count))
    }

    public static func slot(of key: String) -> Int { slot(of: Array(key.utf8)) }

    /// CRC16-CCITT as Redis uses it: polynomial 0x1021, initial value 0, no reflection.
    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }
}
