import Foundation
import Logging
import Synchronization
import Testing
import VigilDomain
import VigilEngine
import VigilPostgres
import VigilProtection
@testable import VigilServer

/// The control plane's behaviour, the same for the files and for PostgreSQL: every test runs against both.
@Suite(.timeLimit(.minutes(2)))
struct ControlPlaneTests {
    func admin(_ plane: any ControlPlane) -> Administration {
        Administration(plane: plane, provider: TestMasterKey(), actor: AuditLog.Actor(name: "test"))
    }

    func auditActions(_ plane: any ControlPlane) throws -> [String] {
        var actions: [String] = []
        try AuditLog(plane: plane).forEach { line in
            let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            actions.append(object?["action"] as? String ?? "?")
        }
        return actions
    }

    @Test(arguments: Store.allCases)
    func everyAdminVerbIsSeenByAnotherNode(_ store: Store) async throws {
        let fixture = try await StoreFixture.make(store)
        let (a, b) = (try await fixture.node(), try await fixture.node())
        let key = try admin(a).createTenant(name: "bank-a")
        try admin(a).setThresholds(name: "bank-a", review: 500, block: 800)
        try admin(a).setPerspectives(name: "bank-a", perspectives: [.receiving])
        try admin(a).setPlan(name: "bank-a", plan: UsagePlan(ratePerSecond: 10, burst: 5, dailyQuota: 1000))
        try admin(a).setAllowedNetworks(name: "bank-a", networks: ["203.0.113.0/24"])
        try admin(a).bindCertificate(name: "bank-a", binding: CertificateBinding(subject: "CN=bank-a,O=Bank A", san: nil, sha256: nil))
        let rotated = try admin(a).rotateDataKeys(tenant: "bank-a")
        let signing = try SigningKeyStore(plane: a).rotate(.es256, provider: TestMasterKey(), now: 1_800_000_000)

        let seen = try admin(b).tenants.load()
        let tenant = try #require(seen.byName["bank-a"])
        #expect(seen.tenant(forKey: key)?.config.name == "bank-a")
        #expect(tenant.config.thresholds == .init(review: 500, block: 800))
        #expect(tenant.config.perspectives == [.receiving])
        #expect(tenant.config.plan?.burst == 5)
        #expect(tenant.config.allowedNetworks == ["203.0.113.0/24"])
        #expect(tenant.certificates.count == 1)
        let ring = try admin(b).keys.open()
        #expect(ring.tenantKeyVersions["bank-a"] == rotated.first?.version)
        #expect(try SigningKeyStore(plane: b).verificationKeys().map(\.kid) == [signing.key.kid])
        #expect(try auditActions(b) == [
            "tenant.create", "tenant.thresholds", "tenant.perspectives", "tenant.plan", "tenant.allowed-networks",
            "tenant.bind-certificate", "keys.rotate",
        ])
    }

    @Test(arguments: Store.allCases)
    func aRefusedChangeLeavesTheStateAndTheAuditLogAsTheyWere(_ store: Store) async throws {
        let fixture = try await StoreFixture.make(store)
        let plane = try await fixture.node()
        _ = try admin(plane).createTenant(name: "bank-a")
        let before = try plane.read(.tenants)
        let stamp = try plane.stamp(.tenants)
        let actions = try auditActions(plane)

        #expect(throws: TenantDirectory.Invalid.self) { try admin(plane).setThresholds(name: "bank-a", review: 900, block: 100) }
        #expect(throws: TenantDirectory.Invalid.self) { try admin(plane).setRules(name: "bank-a", rules: "rule \"x\": nonsense >= -> block") }
        #expect(throws: TenantDirectory.Invalid.self) { _ = try admin(plane).createTenant(name: "bank-a") }
        #expect(throws: TenantDirectory.Invalid.self) { _ = try admin(plane).addAPIKey(name: "no-such-bank") }

        #expect(try plane.read(.tenants) == before)
        #expect(try plane.stamp(.tenants) == stamp)
        #expect(try auditActions(plane) == actions)
        // The control plane still takes valid changes afterwards (a PostgreSQL transaction was rolled back, not left open).
        try admin(plane).setThresholds(name: "bank-a", review: 100, block: 900)
        #expect(try admin(plane).tenants.load().byName["bank-a"]?.config.thresholds.review == 100)
    }

    @Test(arguments: Store.allCases)
    func theAuditChainVerifiesAndAnEditBreaksIt(_ store: Store) async throws {
        let fixture = try await StoreFixture.make(store)
        let plane = try await fixture.node()
        _ = try admin(plane).createTenant(name: "bank-a")
        _ = try admin(plane).createTenant(name: "bank-b")
        _ = try admin(plane).rotateDataKeys(tenant: nil)
        var lines: [[UInt8]] = []
        try AuditLog(plane: plane).forEach { lines.append($0) }
        #expect(lines.count == 3)
        // Each record names the hash of the one before it.
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1])) as? [String: Any])
        #expect(second["prev"] as? String == AuditLog.hash(lines[0]))
        #expect(second["seq"] as? Int == 2)

        try await fixture.tamperWithAudit(line: 2, replacing: "bank-b", with: "bank-x")
        #expect {
            try AuditLog(plane: plane).forEach { _ in }
        } throws: { error in
            (error as? AuditLog.ChainBreak)?.line == 3
        }
    }

    @Test(arguments: Store.allCases)
    func concurrentAdminVerbsOnTwoNodesLoseNothing(_ store: Store) async throws {
        let fixture = try await StoreFixture.make(store)
        let nodes = [try await fixture.node(), try await fixture.node()]
        _ = try admin(nodes[0]).createTenant(name: "bank-a")
        let writers = 8
        let failures = Failures()
        // Blocking calls, as the CLI makes them: real threads, racing.
        DispatchQueue.concurrentPerform(iterations: writers) { index in
            do {
                _ = try admin(nodes[index % 2]).addAPIKey(name: "bank-a")
            } catch {
                failures.add("\(error)")
            }
        }
        #expect(failures.all.isEmpty)
        #expect(try admin(nodes[1]).tenants.load().byName["bank-a"]?.config.apiKeyHashes.count == 1 + writers)
        #expect(try auditActions(nodes[0]).filter { $0 == "tenant.api-key.add" }.count == writers)
    }

    @Test(arguments: Store.allCases)
    func aRunningNodePicksUpATenantAndAKeyRotationFromAnother(_ store: Store) async throws {
        let fixture = try await StoreFixture.make(store)
        let (a, b) = (try await fixture.node(), try await fixture.node())
        _ = try admin(a).createTenant(name: "bank-a")
        let nodeB = admin(b)
        let state = ServerState(tenants: try nodeB.tenants.load(), keys: try nodeB.keys.open())
        let bundled = try ModelBundle.bundled()
        let reloader = ConfigurationReloader(
            admin: nodeB, state: state, models: ModelSlot(ModelSet(champion: bundled)), fallbackModel: bundled, loadedModels: [:],
            logger: testLogger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await reloader.run() }
            let key = try admin(a).createTenant(name: "bank-b")
            #expect(try await eventually { state.current.tenants.tenant(forKey: key)?.config.name == "bank-b" })
            let version = try #require(try admin(a).rotateDataKeys(tenant: "bank-a").first?.version)
            #expect(try await eventually { state.current.keys.tenantKeyVersions["bank-a"] == version })
            group.cancelAll()
        }
    }
}

/// Errors collected from threads.
final class Failures: Sendable {
    private let errors = Mutex<[String]>([])

    func add(_ error: String) { errors.withLock { $0.append(error) } }
    var all: [String] { errors.withLock { $0 } }
}
