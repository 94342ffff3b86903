/// A personal-data value encrypted at the gateway (AES-256-GCM under a versioned data key).
///
/// Only the gateway's key ring can open it; everything downstream stores and forwards it as is.
/// The bytes are `nonce ‖ ciphertext ‖ tag`; `keyVersion` names the data key that sealed it.
public struct SealedValue: Hashable, Sendable, Codable {
    public var keyVersion: UInt32
    public var bytes: [UInt8]

    public init(keyVersion: UInt32, bytes: [UInt8]) {
        self.keyVersion = keyVersion
        self.bytes = bytes
    }

    enum CodingKeys: String, CodingKey {
        case keyVersion = "k"
        case bytes = "c"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        keyVersion = try container.decode(UInt32.self, forKey: .keyVersion)
        let hex = try container.decode(String.self, forKey: .bytes)
        guard let bytes = Hex.decode(hex) else {
            throw DecodingError.dataCorruptedError(forKey: .bytes, in: container, debugDescription: "not hex")
        }
        self.bytes = bytes
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(keyVersion, forKey: .keyVersion)
        try container.encode(Hex.encode(bytes), forKey: .bytes)
    }
}
