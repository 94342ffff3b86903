import Crypto
import Foundation
import Testing
import VigilDomain
import VigilProtection

struct KeyStoreTests {
    func store() throws -> KeyStore {
        let dir = NSTemporaryDirectory() + "vigil-keystore-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return KeyStore(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
    }

    @Test func eachTenantSealsUnderItsOwnKey() throws {
        let keys = try store()
        #expect(try keys.ensureDataKeys { ["bank-a", "bank-b"] } == ["bank-a", "bank-b"])
        #expect(try keys.ensureDataKeys { ["bank-a", "bank-b"] } == [])
        let ring = try keys.open()
        let a = try #require(ring.scoped(to: "bank-a"))
        let b = try #require(ring.scoped(to: "bank-b"))
        #expect(a.currentDataKeyVersion != b.currentDataKeyVersion)
        #expect(a.currentDataKeyVersion != ring.currentDataKeyVersion)
        #expect(ring.scoped(to: "bank-c") == nil)
        let sealed = a.seal(.account, Array("gb:404142:12345678".utf8))
        #expect(sealed.keyVersion == a.currentDataKeyVersion)
        // Any ring of the directory opens it: the version names the key.
        #expect(try b.open(.account, sealed) == Array("gb:404142:12345678".utf8))
        // Tokens do not depend on the tenant: the same account is the same token whichever bank sends it.
        #expect(a.token(.account, Array("x".utf8)) == b.token(.account, Array("x".utf8)))
    }

    @Test func rotationAddsAVersionAndOldSealsStillOpen() throws {
        let keys = try store()
        try keys.ensureDataKeys { ["bank-a", "bank-b"] }
        let before = try #require(try keys.open().scoped(to: "bank-a"))
        let bankB = try #require(try keys.open().scoped(to: "bank-b")).currentDataKeyVersion
        let old = before.seal(.name, Array("Alice".utf8))
        let rotated = try keys.rotateDataKeys(tenants: ["bank-a"])
        #expect(rotated.map(\.tenant) == ["bank-a"])
        let after = try #require(try keys.open().scoped(to: "bank-a"))
        #expect(after.currentDataKeyVersion == rotated[0].version)
        #expect(after.currentDataKeyVersion > before.currentDataKeyVersion)
        #expect(after.seal(.name, Array("Alice".utf8)).keyVersion == rotated[0].version)
        #expect(try after.open(.name, old) == Array("Alice".utf8))
        // bank-b is untouched by bank-a's rotation.
        #expect(try keys.open().scoped(to: "bank-b")?.currentDataKeyVersion == bankB)
        let all = try keys.rotateDataKeys(tenants: nil)
        #expect(Set(all.map(\.tenant)) == ["bank-a", "bank-b"])
        #expect(throws: KeyError.self) { try keys.rotateDataKeys(tenants: ["nobody"]) }
    }

    @Test func erasureMakesATenantsSealsUnreadableForGood() throws {
        let keys = try store()
        try keys.ensureDataKeys { ["bank-a", "bank-b"] }
        try keys.rotateDataKeys(tenants: ["bank-a"])
        let ring = try keys.open()
        let first = try #require(ring.scoped(to: "bank-a"))
        let sealedA = first.seal(.account, Array("gb:404142:12345678".utf8))
        let sealedB = try #require(ring.scoped(to: "bank-b")).seal(.account, Array("gb:404142:87654321".utf8))
        let destroyed = try keys.erase(tenant: "bank-a", at: 1_800_000_000)
        #expect(destroyed.count == 2)
        let reopened = try keys.open()
        let error = #expect(throws: KeyError.self) { try reopened.open(.account, sealedA) }
        #expect(error?.code == .erased)
        #expect(reopened.scoped(to: "bank-a") == nil)
        // Nothing of the key is left in the file, and the other tenant is unaffected.
        let file = String(decoding: FileManager.default.contents(atPath: keys.path)!, as: UTF8.self)
        #expect(!destroyed.contains { file.contains("\"version\" : \($0),\n      \"wrapped\"") })
        #expect(try reopened.open(.account, sealedB) == Array("gb:404142:87654321".utf8))
        // A tenant of the same name created later gets a new version, never an erased one.
        try keys.ensureDataKeys { ["bank-a"] }
        let again = try #require(try keys.open().scoped(to: "bank-a"))
        #expect(!destroyed.contains(again.currentDataKeyVersion))
        #expect(throws: KeyError.self) { try again.open(.account, sealedA) }
        #expect(throws: KeyError.self) { try keys.erase(tenant: "nobody", at: 0) }
    }

    @Test func aKeyMovedToAnotherTenantInTheFileDoesNotOpen() throws {
        let keys = try store()
        try keys.ensureDataKeys { ["bank-a", "bank-b"] }
        var text = String(decoding: FileManager.default.contents(atPath: keys.path)!, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"bank-a\"", with: "\"bank-x\"")
        try Data(text.utf8).write(to: URL(fileURLWithPath: keys.path))
        let error = #expect(throws: KeyError.self) { try keys.open() }
        #expect(error?.code == .cannotUnwrap)
    }

    @Test func aFormatOneFileKeepsItsKeysAndGainsTenantKeys() throws {
        let dir = try FixedKeys.directory()
        let legacy = try KeyRing.open(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
        let sealed = legacy.seal(.name, Array("Zoë".utf8))
        #expect(sealed.keyVersion == 1)
        let keys = KeyStore(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
        try keys.ensureDataKeys { ["bank-a"] }
        let ring = try keys.open()
        #expect(try ring.open(.name, sealed) == Array("Zoë".utf8))
        #expect(ring.scoped(to: "bank-a")?.currentDataKeyVersion == 2)
        #expect(ring.token(.account, Array("gb:404142:12345678".utf8)) == legacy.token(.account, Array("gb:404142:12345678".utf8)))
    }

    @Test(arguments: [
        ("404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n", true),
        ("  QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=  ", true),
        ("404142", false),
        ("QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8", false),
        ("", false),
        ("zz4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f", false),
    ])
    func masterKeyText(text: String, valid: Bool) throws {
        let dir = NSTemporaryDirectory() + "vigil-master-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: dir + "/master.key", contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
        let provider = FileKeyProvider(path: dir + "/master.key")
        if valid {
            let key = try provider.masterKey()
            #expect(key.withUnsafeBytes { Array($0) } == Array(0x40...0x5f))
        } else {
            let error = #expect(throws: KeyError.self) { try provider.masterKey() }
            #expect(error?.code == .malformed)
        }
    }

    @Test func keysAreLockedInMemory() throws {
        let before = LockedMemory.counts
        _ = try store().open()
        let after = LockedMemory.counts
        // The master key, the token key and the shared data key, each pinned or counted as failed (RLIMIT_MEMLOCK),
        // never silently skipped.
        #expect((after.locked + after.failed) - (before.locked + before.failed) >= 3)
    }

    @Test func zeroOverwritesEveryByteInPlace() {
        var bytes: [UInt8] = Array("gb:404142:12345678".utf8)
        let storage = bytes.withUnsafeBufferPointer { $0.baseAddress }
        LockedMemory.zero(&bytes)
        #expect(bytes == [UInt8](repeating: 0, count: 18))
        #expect(bytes.withUnsafeBufferPointer { $0.baseAddress } == storage)
    }
}
