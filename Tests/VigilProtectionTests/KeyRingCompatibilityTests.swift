import Foundation
import Testing
import VigilDomain
import VigilProtection

/// A key directory made outside Vigil (Python `cryptography`, `hmac`): fixed master, token and data keys, so the
/// tokens and seals below are independent of Vigil's own code and pin its output across changes to it.
enum FixedKeys {
    static let masterHex = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    // token key 00 01 … 1f, data key 20 21 … 3f, each wrapped with a fixed nonce under the master key.
    static let keyFile = """
        {"format": 1,
         "tokenKeys": [{"version": 1, "wrapped": "010101010101010101010101b3e488c9a6057f8d517edb8bd72c2bdb510c3f17a5b26d66533fdda1c248234c752bd6d9820eae954ce1f37e86a13ae6"}],
         "dataKeys": [{"version": 1, "wrapped": "0202020202020202020202026d08b54788c343d4afd9f7c6de7f992603c6743daf6ef775f4fc0ce9689f928bea064542a1fc62d56c57ba7a1bc482da"}]}
        """

    static func keyRing(tokenKeyWrapped: String? = nil) throws -> KeyRing {
        let dir = try directory(tokenKeyWrapped: tokenKeyWrapped)
        return try KeyRing.open(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
    }

    /// A fresh directory holding the fixed master key and key file.
    static func directory(tokenKeyWrapped: String? = nil) throws -> String {
        var keyFile = keyFile
        if let tokenKeyWrapped {
            keyFile = keyFile.replacingOccurrences(
                of: "010101010101010101010101b3e488c9a6057f8d517edb8bd72c2bdb510c3f17a5b26d66533fdda1c248234c752bd6d9820eae954ce1f37e86a13ae6",
                with: tokenKeyWrapped
            )
        }
        let dir = NSTemporaryDirectory() + "vigil-fixed-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: dir + "/master.key", contents: Data(masterHex.utf8), attributes: [.posixPermissions: 0o600]))
        #expect(FileManager.default.createFile(atPath: dir + "/keys.json", contents: Data(keyFile.utf8)))
        return dir
    }
}

struct KeyRingCompatibilityTests {
    /// HMAC-SHA-256(token key, kind ‖ 0x00 ‖ value), computed with Python's `hmac`.
    @Test(arguments: [
        (PIIKind.account, "gb:404142:12345678", "de420fb76fb8c38134e82e9398879cdbc8b966129e68601bfe7f4fe7e2c086dc"),
        (.account, "gb:123456:98765432", "c9970a43e27818408b0deebcd2b343479b7be305e8588534b57e0b2af4e52714"),
        (.name, "ALICE EXAMPLE", "42d6e553657228c8059b561494ae4200875c24f8818e2d3b102da26531296558"),
        (.name, "", "99b0f0a9e0b172b6c82d413d6e7342a0ea8005867a42f8f30324ea8822dde1bd"),
        (.device, "dev-1", "4be79b8146ff92de4bc3dcea7a6ab01d178b08d7bc4f7ac769247d102651f696"),
        (.ip, "203.0.113.9", "4e74cc189a89466ef1fcfdd997f376a4970838527e1ee017af7eb4dee7d5cd4f"),
        (.reference, "rent", "52f5b1f86d0f279381f6c5a40f57a09033a5edb4872ab7f002d8a2c7599bcedb"),
        (.customer, "bank-a:C-1001", "0e03e151e92377f16ee738b3ca50f93e2a191f31c6e34f55f5786bb46bd180e8"),
        (.card, "4111111111111111", "4ccba6bae70bd097a5dd85cb5e0d9262e37dede454bce7d1aab12aaa96227811"),
    ])
    func tokensArePinnedForAFixedKey(kind: PIIKind, value: String, hex: String) throws {
        let keys = try FixedKeys.keyRing()
        #expect(keys.token(kind, Array(value.utf8)).hex == hex)
        #expect(keys.token(kind, value.utf8).hex == hex)
        #expect(keys.token(kind, Array(value.utf8)[...]).hex == hex)
    }

    /// Every token starts from the same prepared hash states; tokens made at once on several tasks must
    /// neither disturb those states nor each other.
    @Test func tokensMadeConcurrentlyAreTheSame() async throws {
        let keys = try FixedKeys.keyRing()
        let values = (0..<200).map { Array("gb:404142:\(10_000_000 + $0)".utf8) }
        let expected = values.map { keys.token(.account, $0) }
        let results = await withTaskGroup(of: [Token].self) { group in
            for _ in 0..<4 {
                group.addTask { (0..<20).flatMap { _ in values.map { keys.token(.account, $0) } } }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for tokens in results {
            #expect(tokens == Array((0..<20).map { _ in expected }.joined()))
        }
        #expect(keys.token(.account, Array("gb:404142:12345678".utf8)).hex == "de420fb76fb8c38134e82e9398879cdbc8b966129e68601bfe7f4fe7e2c086dc")
    }

    /// `nonce ‖ ciphertext ‖ tag` made by Python's `AESGCM` under data key version 1, the kind as associated data.
    @Test(arguments: [
        (PIIKind.account, "gb:404142:12345678", "a0a1a2a3a4a5a6a7a8a9aaab195e9e00f4e3b19e93129c8815694390a6471229b03e47a2e0375afade62c0f1c395"),
        (.name, "Alice Example", "b0b1b2b3b4b5b6b7b8b9babb77964324f7038d7653606d9666a0efbe483a80448a988d642ab8ca3881"),
    ])
    func sealsMadeEarlierStillOpen(kind: PIIKind, value: String, hex: String) throws {
        let keys = try FixedKeys.keyRing()
        let sealed = SealedValue(keyVersion: 1, bytes: try #require(Hex.decode(hex)))
        #expect(try keys.open(kind, sealed) == Array(value.utf8))
    }

    @Test func aSealIsNonceCiphertextTagUnderTheCurrentKey() throws {
        let keys = try FixedKeys.keyRing()
        let value = Array("gb:404142:12345678".utf8)
        let sealed = keys.seal(.account, value)
        #expect(sealed.keyVersion == 1)
        #expect(sealed.bytes.count == 12 + value.count + 16)
        #expect(try keys.open(.account, sealed) == value)
        #expect(keys.seal(.account, value.lazy.map { $0 }).bytes.count == sealed.bytes.count)
        #expect(try keys.open(.name, keys.seal(.name, "Zoë".utf8)) == Array("Zoë".utf8))
        #expect(try keys.open(.reference, keys.seal(.reference, [UInt8]())) == [])
    }

    /// HMAC pads a key shorter than the SHA-256 block and hashes one longer than it (RFC 2104). Vigil makes
    /// 32-byte keys, but a key file may hold any length: token keys of 16, 64, 65 and 100 bytes (byte i is
    /// 7i + 3 mod 256), wrapped and tokenised with Python.
    @Test(arguments: [
        (16, "101010101010101010101010b0d98ad07f7481c5e33d344eed00994ca26168d33f52412e9cdb366e04d8c1ad", "d8ec1549ad72e56365e5e7861d12dd40d14fe10493ecab2faf4b4815e70754e1"),
        (64, "404040404040404040404040cf82875bd3616073aaa466db08c657457f502d368696131e9137ebeea4627a4d2435182b10c1786afe9e3c4aee6a63e0323e9b19083050dd9059131b0d433a4aa9af7b1631c28c605e22ab724d73bde0", "d61bcb1a926093c4cb495ff48e558d1bae73624ad8b9086401630eb1c8f017a1"),
        (65, "4141414141414141414141414801d87a275eba1e8e465a0878f9b8f760a12b653855cc5fd7374380f74793291b1547ba916fc1e5dfdf8e4d25828bfdae441896c20b2542d49150ae2311ea26849825388d142e16ed33f44062d706415a", "c4a76620ff7b6d2ffe6f0fc06e1b577516de5ef6e46852f4565a85575c10e252"),
        (100, "646464646464646464646464b168ade81c2a6d9addca03751f2992eefaa717db8950528c137fdf2c27ae3e5bd3e781a9c096fd86d391f8a03029281bede9682f6bf1e2e0a214addfc3b48e4cf7e5081565c893f6797ccd711a86e29cc04655b43159ee44d123c7136a03e1b40bd186f4f5e0e517f38cd770abb35dc96f94acf1", "aa185dd966a0533eb1896cd502f70f784cf4825a998ef8c229cd42aea39b22cb"),
    ])
    func tokenKeysOfAnyLengthFollowHMAC(length: Int, wrapped: String, hex: String) throws {
        let keys = try FixedKeys.keyRing(tokenKeyWrapped: wrapped)
        #expect(keys.token(.account, "gb:404142:12345678".utf8).hex == hex)
    }
}
