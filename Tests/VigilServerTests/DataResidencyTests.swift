import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilEventLog
import VigilProtection
import VigilServer

/// A tenant pinned to regions (`vigil tenant regions`) is scored only by nodes of those regions: elsewhere, and on a
/// node without a region, it gets `403 wrong-region` before its body is read, and nothing reaches the event log.
struct DataResidencyTests {
    func admin(_ dir: String) -> Administration {
        Administration(dataDirectory: dir, provider: FileKeyProvider(path: dir + "/master.key"), actor: AuditLog.Actor(name: "test"))
    }

    func score(_ client: any TestClientProtocol, key: String, body: ByteBuffer? = nil) async throws -> TestResponse {
        try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: body ?? json(paymentBody())) { $0 }
    }

    /// Polls until the server's reloader (once a second) has applied a change, as `condition` sees it.
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test(arguments: [
        // (node's region, tenant's regions, status)
        ("eu-west", nil, HTTPResponse.Status.ok),
        ("eu-west", ["eu-west", "eu-central"], .ok),
        ("eu-west", ["eu-central"], .forbidden),
        (nil, ["eu-central"], .forbidden),
        (nil, nil, .ok),
    ] as [(String?, [String]?, HTTPResponse.Status)])
    func aPinnedTenantIsScoredOnlyInItsRegions(region: String?, regions: [String]?, status: HTTPResponse.Status) async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir, configure: { $0.region = region }) { client, key in
            try admin(dir).setRegions(name: "demo", regions: regions)
            let changed = try await eventually {
                try await score(client, key: key, body: ByteBuffer(string: "{ not json")).status == (status == .ok ? .badRequest : .forbidden)
            }
            #expect(changed)
            let response = try await score(client, key: key)
            #expect(response.status == status)
            if status == .forbidden {
                let problem = object(response.body)
                #expect(problem["type"] as? String == "urn:vigil:problem:wrong-region")
                #expect(problem["title"] as? String == "Wrong region")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
        var records = 0
        try FileEventLog.read(directory: dir + "/events") { _, _ in records += 1 }
        #expect(records == (status == .ok ? 1 : 0))
    }

    @Test func regionsAreValidatedAndListedAsAChange() throws {
        let dir = temporaryDataDirectory()
        let directory = TenantDirectory(dataDirectory: dir)
        _ = try directory.create(name: "bank-a")
        let before = try directory.load()
        for bad in [[], ["EU"], ["a", "a"]] {
            #expect(throws: TenantDirectory.Invalid.self) { try directory.update { $0[0].regions = bad } }
        }
        try directory.update { $0[0].regions = ["a", "b"] }
        let after = try directory.load()
        #expect(after.byName["bank-a"]?.config.regions == ["a", "b"])
        #expect(TenantTable.changes(from: before, to: after) == ["bank-a:regions"])
    }

    @Test func theLinkKeepsATenantsDataOnlyInItsRegions() throws {
        let dir = temporaryDataDirectory()
        let directory = TenantDirectory(dataDirectory: dir)
        _ = try directory.create(name: "pinned")
        _ = try directory.create(name: "free")
        try directory.update { configs in configs[0].regions = ["a"] }
        let link = RegionLink(region: "a", peer: "b")
        link.update(tenants: try directory.load())
        #expect(link.allows(tenant: "pinned", in: "a"))
        #expect(!link.allows(tenant: "pinned", in: "b"))
        #expect(link.allows(tenant: "free", in: "b"))
        #expect(!link.allows(tenant: "unknown", in: "a"))
    }
}
