import Foundation
import Logging
import Testing
import VigilDomain
import VigilEngine
import VigilProtection
import VigilServer

/// The administration works only on a data directory `vigil serve` set up, checks arguments before it opens a
/// file, and audits every change.
struct AdministrationTests {
    func contents(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// A data directory as `vigil serve` leaves it after its first start: a tenant file with one tenant.
    func initialised() throws -> (String, Administration, String) {
        let dir = temporaryDataDirectory()
        let admin = Administration(dataDirectory: dir, provider: FileKeyProvider(path: dir + "/master.key"), actor: AuditLog.Actor(name: "test"))
        let key = try admin.createTenant(name: "bank-a")
        return (dir, admin, key)
    }

    func auditActions(_ dir: String) throws -> [[String: Any]] {
        var records: [[String: Any]] = []
        try AuditLog(dataDirectory: dir).forEach { line in
            records.append(try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]))
        }
        return records
    }

    @Test func openRefusesAMissingDirectoryAndCreatesNothing() throws {
        let path = temporaryPath() + "/nested"
        let error = #expect(throws: UnusableDataDirectory.self) { try Administration.open(dataDirectory: path, actor: AuditLog.Actor(name: "test")) }
        #expect(error?.reason == .missing)
        #expect(error?.description.contains("vigil serve --data-dir \(path)") == true)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func openRefusesADirectoryTheServerNeverSetUp() throws {
        let dir = temporaryDataDirectory()
        let error = #expect(throws: UnusableDataDirectory.self) { try Administration.open(dataDirectory: dir, actor: AuditLog.Actor(name: "test")) }
        #expect(error?.reason == .uninitialised)
        #expect(contents(dir).isEmpty)

        let file = dir + "/plain-file"
        FileManager.default.createFile(atPath: file, contents: Data())
        #expect(throws: UnusableDataDirectory.self) { try Administration.open(dataDirectory: file, actor: AuditLog.Actor(name: "test")) }
    }

    @Test func openAcceptsAnInitialisedDirectory() throws {
        let (dir, _, _) = try initialised()
        let admin = try Administration.open(dataDirectory: dir, actor: AuditLog.Actor(name: "test"))
        #expect(try admin.tenants.load().byName["bank-a"] != nil)
    }

    @Test func aRefusedTenantNameLeavesNoFileBehind() throws {
        let dir = temporaryDataDirectory()
        let error = #expect(throws: TenantDirectory.Invalid.self) { try TenantDirectory(dataDirectory: dir).create(name: "Bank A") }
        #expect(error?.description.contains("lower-case") == true)
        #expect(contents(dir).isEmpty)
    }

    @Test func updatingATenantFileNeverCreatesTheDirectory() throws {
        let path = temporaryPath()
        #expect(throws: (any Error).self) { try TenantDirectory(dataDirectory: path).create(name: "bank-a") }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func thresholdsChangeOneOrBothAndAreAudited() throws {
        let (dir, admin, _) = try initialised()
        try admin.setThresholds(name: "bank-a", review: 500, block: nil)
        #expect(try admin.tenants.load().byName["bank-a"]?.config.thresholds == .init(review: 500, block: 900))
        try admin.setThresholds(name: "bank-a", review: 700, block: 800)
        #expect(try admin.tenants.load().byName["bank-a"]?.config.thresholds == .init(review: 700, block: 800))
        #expect(throws: TenantDirectory.Invalid.self) { try admin.setThresholds(name: "bank-a", review: nil, block: 600) }
        #expect(throws: TenantDirectory.Invalid.self) { try admin.setThresholds(name: "no-such-bank", review: 1, block: 2) }
        let records = try auditActions(dir).filter { $0["action"] as? String == "tenant.thresholds" }
        #expect(records.count == 2)
        #expect(records.last?["details"] as? [String: String] == ["review": "700", "block": "800"])
    }

    @Test func perspectivesAreSetInCanonicalOrderAndAudited() throws {
        let (dir, admin, _) = try initialised()
        try admin.setPerspectives(name: "bank-a", perspectives: [.receiving])
        #expect(try admin.tenants.load().byName["bank-a"]?.isEntitled(to: .sending) == false)
        try admin.setPerspectives(name: "bank-a", perspectives: [.receiving, .sending])
        #expect(try admin.tenants.load().byName["bank-a"]?.config.perspectives == [.sending, .receiving])
        #expect(throws: TenantDirectory.Invalid.self) { try admin.setPerspectives(name: "bank-a", perspectives: []) }
        let records = try auditActions(dir).filter { $0["action"] as? String == "tenant.perspectives" }
        #expect(records.map { ($0["details"] as? [String: String])?["perspectives"] } == ["receiving", "sending,receiving"])
    }

    @Test func anAddedKeyAuthenticatesAndARevokedOneNoLonger() throws {
        let (dir, admin, first) = try initialised()
        let second = try admin.addAPIKey(name: "bank-a")
        var table = try admin.tenants.load()
        #expect(table.tenant(forKey: first)?.config.name == "bank-a")
        #expect(table.tenant(forKey: second)?.config.name == "bank-a")

        let firstID = TenantConfig.keyID(hash: APIKey.hash(first))
        #expect(firstID.count == 12)
        #expect(try admin.revokeAPIKey(name: "bank-a", keyID: firstID) == 1)
        table = try admin.tenants.load()
        #expect(table.tenant(forKey: first) == nil)
        #expect(table.tenant(forKey: second)?.config.name == "bank-a")

        let before = try String(contentsOfFile: admin.tenants.path, encoding: .utf8)
        let error = #expect(throws: TenantDirectory.Invalid.self) { try admin.revokeAPIKey(name: "bank-a", keyID: firstID) }
        #expect(error?.description.contains("no API key with id") == true)
        #expect(try String(contentsOfFile: admin.tenants.path, encoding: .utf8) == before)

        let records = try auditActions(dir)
        #expect(records.map { $0["action"] as? String } == ["tenant.create", "tenant.api-key.add", "tenant.api-key.revoke"])
        // The audit log names keys by id only.
        let text = try String(contentsOfFile: dir + "/audit.log", encoding: .utf8)
        #expect(!text.contains(first) && !text.contains(second) && !text.contains(APIKey.hash(second)))
        #expect(text.contains(TenantConfig.keyID(hash: APIKey.hash(second))))
    }
}

/// `vigil config check` and `vigil serve` check a configuration the same way, before anything is created.
struct ConfigurationCheckTests {
    @Test func aMissingModelIsRefusedBeforeTheDataDirectoryIsCreated() async throws {
        var configuration = VigilConfiguration()
        configuration.dataDirectory = temporaryPath()
        configuration.modelPath = temporaryPath() + ".json"
        configuration.port = 0
        let error = #expect(throws: StartupError.self) { try ConfigurationCheck(configuration) }
        #expect(error?.description.hasPrefix("model: ") == true)
        await #expect(throws: StartupError.self) {
            _ = try await buildApplication(configuration: configuration, logger: Logger(label: "test"))
        }
        #expect(!FileManager.default.fileExists(atPath: configuration.dataDirectory))
    }

    @Test func reportsTheDataDirectoryStateWithoutCreatingIt() throws {
        var configuration = VigilConfiguration()
        configuration.dataDirectory = temporaryPath()
        #expect(try ConfigurationCheck(configuration).dataDirectoryState?.reason == .missing)
        #expect(!FileManager.default.fileExists(atPath: configuration.dataDirectory))

        configuration.dataDirectory = temporaryDataDirectory()
        #expect(try ConfigurationCheck(configuration).dataDirectoryState?.reason == .uninitialised)

        configuration.dataDirectory = configuration.dataDirectory + "/file"
        FileManager.default.createFile(atPath: configuration.dataDirectory, contents: Data())
        #expect(throws: StartupError.self) { try ConfigurationCheck(configuration) }
    }

    @Test func settingsThatGoTogetherAndAnEnvMasterKeyAreChecked() throws {
        var configuration = VigilConfiguration()
        configuration.dataDirectory = temporaryPath()
        configuration.tlsKeyPath = "/etc/vigil/key.pem"
        #expect(throws: StartupError.self) { try ConfigurationCheck(configuration) }

        configuration.tlsKeyPath = nil
        configuration.masterKeySource = .env
        // The test process has no VIGIL_MASTER_KEY.
        let error = #expect(throws: StartupError.self) { try ConfigurationCheck(configuration) }
        #expect(error?.description.contains("VIGIL_MASTER_KEY") == true)
    }
}
