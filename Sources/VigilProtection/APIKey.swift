import Crypto
import Foundation
import VigilDomain

/// Tenant API keys: random bearer secrets of which only the SHA-256 hash is ever stored.
public enum APIKey {
    /// A new key: `vgl_` and 43 base64url characters (256 random bits).
    public static func generate() -> String {
        let key = SymmetricKey(size: .bits256)
        let base64 = key.withUnsafeBytes { Data($0).base64EncodedString() }
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "vgl_" + base64
    }

    /// Lower-case hex SHA-256 of the key, the only form written to disk.
    public static func hash(_ key: some StringProtocol) -> String {
        SHA256.hash(data: Array(key.utf8)).withUnsafeBytes { Hex.encode($0) }
    }
}
