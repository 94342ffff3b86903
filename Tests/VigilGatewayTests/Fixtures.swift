import Foundation
import VigilProtection

/// A valid request body, as a dictionary to mutate per test.
func validBody() -> [String: Any] {
    [
        "paymentId": "e2e-0001",
        "perspective": "sending",
        "type": "push",
        "scheme": "FPS",
        "channel": "mobile",
        "amount": "250.00",
        "currency": "GBP",
        "createdAt": "2026-11-22T09:30:00Z",
        "debtor": ["name": "Alice Example", "account": ["sortCode": "404142", "accountNumber": "12345678"], "agent": "NWBKGB2L"],
        "creditor": ["account": ["iban": "GB82WEST12345698765432"]],
        "payee": ["confirmationOfPayee": "no_match", "firstSeenAt": "2026-11-01T00:00:00Z"],
        "device": ["id": "dev-1", "ip": "203.0.113.9"],
        "reference": "rent",
    ]
}

func encoded(_ object: [String: Any]) -> [UInt8] {
    Array(try! JSONSerialization.data(withJSONObject: object))
}

/// A key ring over fixed keys (token key 00…1f, data key 20…3f, wrapped under master key 40…5f outside Vigil),
/// so tests can pin tokens to values computed independently.
func fixedKeyRing() throws -> KeyRing {
    let dir = NSTemporaryDirectory() + "vigil-gw-fixed-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let master = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    let keyFile = """
        {"format": 1,
         "tokenKeys": [{"version": 1, "wrapped": "010101010101010101010101b3e488c9a6057f8d517edb8bd72c2bdb510c3f17a5b26d66533fdda1c248234c752bd6d9820eae954ce1f37e86a13ae6"}],
         "dataKeys": [{"version": 1, "wrapped": "0202020202020202020202026d08b54788c343d4afd9f7c6de7f992603c6743daf6ef775f4fc0ce9689f928bea064542a1fc62d56c57ba7a1bc482da"}]}
        """
    guard FileManager.default.createFile(atPath: dir + "/master.key", contents: Data(master.utf8), attributes: [.posixPermissions: 0o600]),
        FileManager.default.createFile(atPath: dir + "/keys.json", contents: Data(keyFile.utf8))
    else { throw CocoaError(.fileWriteUnknown) }
    return try KeyRing.open(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
}
