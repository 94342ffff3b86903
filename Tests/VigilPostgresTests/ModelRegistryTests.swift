import Foundation
import Testing
import VigilEngine
import VigilProtection
@testable import VigilServer

/// Deployed models in the control plane (`models.json`, `model-<version>.json`), the same for the files and for
/// PostgreSQL: every test runs against both.
@Suite(.timeLimit(.minutes(2)))
struct ModelRegistryTests {
    func admin(_ plane: any ControlPlane) -> Administration {
        Administration(plane: plane, provider: TestMasterKey(), actor: AuditLog.Actor(name: "test"))
    }

    /// The bundled model's JSON with one more attribute: the same trees under another version.
    static func variant(_ tag: String) throws -> [UInt8] {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(try ModelBundle.bundledBytes())) as? [String: Any])
        var learner = try #require(object["learner"] as? [String: Any])
        var attributes = learner["attributes"] as? [String: Any] ?? [:]
        attributes["vigil_test_tag"] = tag
        learner["attributes"] = attributes
        object["learner"] = learner
        return Array(try JSONSerialization.data(withJSONObject: object))
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
    func deploysInEveryRoleAndAnotherNodeLoadsTheSameSet(_ store: Store) async throws {
        let fixture = try await StoreFixture.make(store)
        let (a, b) = (try await fixture.node(), try await fixture.node())
        _ = try admin(a).createTenant(name: "bank-a")
        let fallback = try ModelBundle.bundled()
        let champion = try admin(a).deployModel(try Self.variant("champion"), as: .champion)
        let challenger = try admin(a).deployModel(try Self.variant("challenger"), as: .challenger)
        let own = try admin(a).deployModel(try Self.variant("bank-a"), as: .tenant("bank-a"))
        #expect(Set([champion.version, challenger.version, own.version]).count == 3)

        var loaded: [String: ModelBundle] = [:]
        let set = try admin(b).models.load(fallback: fallback, loaded: &loaded)
        // The version is the deployed file's, even where the store keeps the JSON in its own form (jsonb).
        #expect(set.champion.version == champion.version)
        #expect(set.challenger?.version == challenger.version)
        #expect(set.champion(for: "bank-a").version == own.version)
        #expect(set.champion(for: "bank-b").version == champion.version)
        #expect(set.champion.attributes["vigil_test_tag"] == "champion")
        #expect(loaded.count == 3)
        let document = try admin(b).models.read()
        #expect(document.history.map { "\($0.action) \($0.role)" } == ["deploy champion", "deploy challenger", "deploy tenant"])
        #expect(document.tenants["bank-a"]?.deployedBy == "test")

        #expect(try admin(a).retireModel(.challenger) == challenger.version)
        #expect(try admin(a).retireModel(.tenant("bank-a")) == own.version)
        let after = try admin(b).models.load(fallback: fallback, loaded: &loaded)
        #expect(after.challenger?.version == nil)
        #expect(after.champion(for: "bank-a").version == champion.version)
        #expect(try auditActions(b) == ["tenant.create", "model.deploy", "model.deploy", "model.deploy", "model.retire", "model.retire"])
    }

    @Test(arguments: Store.allCases)
    func nothingDeployedLeavesTheFallbackAndPromotingTheChallengerEndsItsShadow(_ store: Store) async throws {
        let fixture = try await StoreFixture.make(store)
        let plane = try await fixture.node()
        let fallback = try ModelBundle.bundled()
        var loaded: [String: ModelBundle] = [:]
        let empty = try admin(plane).models.load(fallback: fallback, loaded: &loaded)
        #expect(empty.champion.version == fallback.version)
        #expect(empty.challenger?.version == nil && empty.tenantChampions.isEmpty)

        // The same bytes: serialising again may order the members differently, which is another version.
        let next = try Self.variant("next")
        let challenger = try admin(plane).deployModel(next, as: .challenger)
        _ = try admin(plane).deployModel(next, as: .champion)
        let promoted = try admin(plane).models.load(fallback: fallback, loaded: &loaded)
        #expect(promoted.champion.version == challenger.version)
        #expect(promoted.challenger?.version == nil)
    }

    @Test(arguments: Store.allCases)
    func aBadModelIsRefusedAndChangesNothing(_ store: Store) async throws {
        let fixture = try await StoreFixture.make(store)
        let plane = try await fixture.node()
        _ = try admin(plane).createTenant(name: "bank-a")
        let champion = try admin(plane).deployModel(try Self.variant("good"), as: .champion)
        let before = try plane.read(.models)

        var unknownFeature = String(decoding: try Self.variant("bad"), as: UTF8.self)
        unknownFeature = unknownFeature.replacingOccurrences(of: "\"debtor.count_5m\"", with: "\"no_such_feature\"")
        var constant = try #require(try JSONSerialization.jsonObject(with: Data(try ModelBundle.bundledBytes())) as? [String: Any])
        constant = try Self.singleLeafTrees(constant)
        let cases: [([UInt8], String)] = [
            (Array("{\"learner\":{}}".utf8), "invalid model"),
            (Array(unknownFeature.utf8), "no_such_feature"),
            (Array(try JSONSerialization.data(withJSONObject: constant)), "constant"),
        ]
        for (bytes, message) in cases {
            #expect {
                _ = try admin(plane).deployModel(bytes, as: .champion)
            } throws: { error in
                "\(error)".contains(message)
            }
        }
        #expect(throws: TenantDirectory.Invalid.self) { _ = try admin(plane).deployModel(try Self.variant("x"), as: .tenant("nobody")) }
        #expect(throws: ModelRegistry.Invalid.self) { _ = try admin(plane).retireModel(.challenger) }
        #expect(try plane.read(.models) == before)
        var loaded: [String: ModelBundle] = [:]
        #expect(try admin(plane).models.load(fallback: try ModelBundle.bundled(), loaded: &loaded).champion.version == champion.version)
        #expect(try auditActions(plane) == ["tenant.create", "model.deploy"])
    }

    /// The model with every tree cut down to its root, made a leaf: a model that scores every payment the same.
    static func singleLeafTrees(_ model: [String: Any]) throws -> [String: Any] {
        var model = model
        var learner = try #require(model["learner"] as? [String: Any])
        var booster = try #require(learner["gradient_booster"] as? [String: Any])
        var inner = try #require(booster["model"] as? [String: Any])
        let trees = try #require(inner["trees"] as? [[String: Any]])
        inner["trees"] = trees.map { tree -> [String: Any] in
            var tree = tree
            for key in ["left_children", "right_children"] { tree[key] = [-1] }
            for key in ["parents"] { tree[key] = [2_147_483_647] }
            for key in ["split_indices"] { tree[key] = [0] }
            for key in ["split_conditions", "base_weights", "loss_changes", "sum_hessian"] { tree[key] = [0.01] }
            tree["default_left"] = [0]
            tree["split_type"] = [0]
            tree["categories"] = []
            tree["categories_nodes"] = []
            tree["categories_segments"] = []
            tree["categories_sizes"] = []
            var parameters = tree["tree_param"] as? [String: Any] ?? [:]
            parameters["num_nodes"] = "1"
            tree["tree_param"] = parameters
            return tree
        }
        booster["model"] = inner
        learner["gradient_booster"] = booster
        model["learner"] = learner
        return model
    }

    @Test(arguments: Store.allCases)
    func aRunningNodeSwapsItsModelsAndKeepsThemWhenAStoredModelIsInvalid(_ store: Store) async throws {
        let fixture = try await StoreFixture.make(store)
        let (a, b) = (try await fixture.node(), try await fixture.node())
        _ = try admin(a).createTenant(name: "bank-a")
        let nodeB = admin(b)
        let fallback = try ModelBundle.bundled()
        let slot = ModelSlot(ModelSet(champion: fallback))
        let monitor = ServingMonitor(profile: nil, modelVersion: fallback.version)
        let reloader = ConfigurationReloader(
            admin: nodeB, state: ServerState(tenants: try nodeB.tenants.load(), keys: try nodeB.keys.open()), models: slot,
            monitor: monitor, fallbackModel: fallback, loadedModels: [:], logger: testLogger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await reloader.run() }
            let champion = try admin(a).deployModel(try Self.variant("one"), as: .champion)
            let challenger = try admin(a).deployModel(try Self.variant("two"), as: .challenger)
            #expect(try await eventually {
                slot.current.champion.version == champion.version && slot.current.challenger?.version == challenger.version
            })
            // The drift gauges follow the new champion.
            #expect(monitor.modelVersion == champion.version)
            // A stored model that no longer loads (edited by hand): the node keeps the set it has.
            let broken = "xgb-00000000000000ff"
            try a.update(try #require(ControlDocument.model(version: broken))) { _ in (.write(Array("{\"learner\":{}}".utf8)), ()) }
            try a.update(.models) { bytes in
                var document = try JSONDecoder().decode(ModelRegistry.Document.self, from: Data(try #require(bytes)))
                document.champion?.version = broken
                return (.write(Array(try JSONEncoder().encode(document))), ())
            }
            try await Task.sleep(for: .seconds(2))
            #expect(slot.current.champion.version == champion.version)
            #expect(slot.current.challenger?.version == challenger.version)
            group.cancelAll()
        }
        #expect(try auditActions(b).filter { $0 == "model.reload" }.count >= 1)
    }
}
