import Foundation
import Testing
import VigilDomain
import VigilProtection

struct KeyRingTests {
    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "vigil-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func createsAMasterKeyFileWithMode0600() throws {
        let dir = try tempDir()
        _ = try KeyRing.open(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/master.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let keyFile = String(decoding: FileManager.default.contents(atPath: dir + "/keys.json")!, as: UTF8.self)
        #expect(keyFile.contains("wrapped"))
    }

    @Test func tokensAreStableAcrossRestartsAndDistinctPerKind() throws {
        let dir = try tempDir()
        let first = try KeyRing.open(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
        let second = try KeyRing.open(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
        let value = Array("gb:404142:12345678".utf8)
        #expect(first.token(.account, value) == second.token(.account, value))
        #expect(first.token(.account, value) != first.token(.device, value))
        #expect(first.token(.account, value) != first.token(.account, Array("gb:404142:12345679".utf8)))
    }

    @Test func sealsOpenOnlyForTheirKind() throws {
        let dir = try tempDir()
        let keys = try KeyRing.open(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
        let sealed = keys.seal(.name, Array("Alice".utf8))
        #expect(sealed.keyVersion == 1)
        #expect(try keys.open(.name, sealed) == Array("Alice".utf8))
        #expect(throws: KeyError.self) { try keys.open(.account, sealed) }
        var tampered = sealed
        tampered.bytes[tampered.bytes.count - 1] ^= 1
        #expect(throws: KeyError.self) { try keys.open(.name, tampered) }
        #expect(keys.seal(.name, Array("Alice".utf8)) != sealed)
    }

    @Test func refusesAMasterKeyReadableByOthers() throws {
        let dir = try tempDir()
        let path = dir + "/master.key"
        _ = try FileKeyProvider(path: path).masterKey()
        chmod(path, 0o644)
        #expect(throws: KeyError.self) { try FileKeyProvider(path: path).masterKey() }
    }

    @Test func aWrongMasterKeyCannotOpenTheKeyFile() throws {
        let dir = try tempDir()
        _ = try KeyRing.open(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
        let other = try tempDir()
        let error = #expect(throws: KeyError.self) {
            try KeyRing.open(directory: dir, provider: FileKeyProvider(path: other + "/master.key"))
        }
        #expect(error?.code == .cannotUnwrap)
    }

    @Test func environmentProviderReadsHexOrBase64() throws {
        setenv("VIGIL_TEST_KEY", String(repeating: "ab", count: 32), 1)
        #expect(throws: Never.self) { try EnvironmentKeyProvider(variable: "VIGIL_TEST_KEY").masterKey() }
        setenv("VIGIL_TEST_KEY", "too-short", 1)
        #expect(throws: KeyError.self) { try EnvironmentKeyProvider(variable: "VIGIL_TEST_KEY").masterKey() }
        unsetenv("VIGIL_TEST_KEY")
        #expect(throws: KeyError.self) { try EnvironmentKeyProvider(variable: "VIGIL_TEST_KEY").masterKey() }
    }

    @Test func apiKeysAreRandomAndHashed() {
        let a = APIKey.generate()
        #expect(a.hasPrefix("vgl_"))
        #expect(a != APIKey.generate())
        #expect(APIKey.hash(a).count == 64)
        #expect(APIKey.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
