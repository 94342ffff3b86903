import Foundation
import Testing
import VigilEventLog
import VigilServer

struct TenantDirectoryTests {
    @Test func createsTenantsWithHashedKeysOnly() throws {
        let dir = temporaryDataDirectory()
        let directory = TenantDirectory(dataDirectory: dir)
        let key = try directory.create(name: "bank-a")
        let text = try String(contentsOfFile: directory.path, encoding: .utf8)
        #expect(!text.contains(key))
        let table = try directory.load()
        #expect(table.tenant(forKey: key)?.config.name == "bank-a")
        #expect(table.tenant(forKey: key + "x") == nil)
        #expect(throws: TenantDirectory.Invalid.self) { try directory.create(name: "bank-a") }
        #expect(throws: TenantDirectory.Invalid.self) { try directory.create(name: "Bank A") }
    }

    @Test func refusesBadRulesAndThresholdsWithoutWriting() throws {
        let dir = temporaryDataDirectory()
        let directory = TenantDirectory(dataDirectory: dir)
        _ = try directory.create(name: "bank-a")
        let before = try String(contentsOfFile: directory.path, encoding: .utf8)
        let error = #expect(throws: TenantDirectory.Invalid.self) {
            try directory.update { $0[0].rules = "rule \"x\": creditor.nonsense > 1 -> review" }
        }
        #expect(error?.description.contains("line 1, column") == true)
        #expect(throws: TenantDirectory.Invalid.self) {
            try directory.update { $0[0].thresholds = .init(review: 900, block: 600) }
        }
        #expect(try String(contentsOfFile: directory.path, encoding: .utf8) == before)
    }
}

extension TenantDirectoryTests {
    /// The reload log and the audit log name each changed field, refusing API keys included; an explicit `true` is
    /// the default, not a change.
    @Test func changesNameEveryFieldThatChanged() throws {
        let directory = TenantDirectory(dataDirectory: temporaryDataDirectory())
        _ = try directory.create(name: "bank-a")
        let before = try directory.load()
        try directory.update { $0[0].acceptAPIKeys = true }
        #expect(TenantTable.changes(from: before, to: try directory.load()).isEmpty)
        try directory.update {
            $0[0].acceptAPIKeys = false
            $0[0].thresholds = .init(review: 500, block: 800)
        }
        #expect(TenantTable.changes(from: before, to: try directory.load()) == ["bank-a:thresholds", "bank-a:acceptAPIKeys"])
    }
}

struct VigilConfigurationTests {
    @Test func layersFileThenEnvironment() throws {
        let path = NSTemporaryDirectory() + "vigil-config-\(UUID().uuidString).json"
        try #"{"port": 9001, "durability": "async", "dataDirectory": "/tmp/x"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        var configuration = try VigilConfiguration.load(file: path)
        #expect(configuration.port == 9001)
        #expect(configuration.durability == .async)
        #expect(configuration.host == "127.0.0.1")
        try configuration.applyEnvironment(["VIGIL_PORT": "9002", "VIGIL_DURABILITY": "fsync"])
        #expect(configuration.port == 9002)
        #expect(configuration.durability == .fsync)
    }

    @Test func refusesUnknownKeysAndBadValues() throws {
        let path = NSTemporaryDirectory() + "vigil-config-\(UUID().uuidString).json"
        try #"{"prot": 9001}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: VigilConfiguration.Invalid.self) { try VigilConfiguration.load(file: path) }
        try #"{"durability": "sometimes"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: VigilConfiguration.Invalid.self) { try VigilConfiguration.load(file: path) }
        try #"{"port": 70000}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: VigilConfiguration.Invalid.self) { try VigilConfiguration.load(file: path) }
        var configuration = VigilConfiguration()
        #expect(throws: VigilConfiguration.Invalid.self) { try configuration.applyEnvironment(["VIGIL_PORT": "eighty"]) }
    }
}
