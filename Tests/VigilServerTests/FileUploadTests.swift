import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VigilDomain
import VigilFiles
import VigilProtection
@testable import VigilServer

/// `POST /v1/files` and `GET /v1/files/{id}`: authenticated like scoring, streamed to the tenant's inbox, limited in
/// size, each tenant seeing only its own files.
@Suite(.timeLimit(.minutes(2)))
struct FileUploadTests {
    static let labels = Array("paymentId,reportedAt,fraudType\np-1,2026-12-04T10:00:00Z,app_scam\n".utf8)

    func upload(
        _ client: any TestClientProtocol, key: String?, name: String? = "fraud-reports.2026-12-04.csv", body: [UInt8] = labels
    ) async throws -> TestResponse {
        let query = name.map { "?name=" + $0 } ?? ""
        var fields: HTTPFields = [:]
        if let key { fields[.authorization] = "Bearer \(key)" }
        fields[.contentType] = "text/csv"
        return try await client.execute(uri: "/v1/files" + query, method: .post, headers: fields, body: ByteBuffer(bytes: body)) { $0 }
    }

    func get(_ client: any TestClientProtocol, key: String, id: String) async throws -> TestResponse {
        try await client.execute(uri: "/v1/files/" + id, method: .get, headers: headers(key: key, contentType: nil)) { $0 }
    }

    static func sha256(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).withUnsafeBytes { Hex.encode($0) } }

    @Test func anUploadIsAcceptedIntoTheTenantsInboxAndItsRecordReadsBack() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, key in
            let response = try await upload(client, key: key)
            #expect(response.status == .accepted)
            let id = Self.sha256(Self.labels)
            #expect(response.headers[.location] == "/v1/files/" + id)
            let answer = object(response.body)
            #expect(answer["id"] as? String == id)
            #expect(answer["status"] as? String == "received")
            #expect(answer["type"] as? String == "fraud-reports")
            // Whole, in the tenant's inbox, and nothing left in the upload area.
            #expect(FileManager.default.contents(atPath: dir + "/inbox/demo/fraud-reports.2026-12-04.csv") == Data(Self.labels))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/inbox/.upload").isEmpty)

            let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes())) as? [String: Any])
            let schema = try #require(((document["components"] as? [String: Any])?["schemas"] as? [String: Any])?["FileRecord"] as? [String: Any])
            #expect(Set(answer.keys).isSubset(of: Set((schema["properties"] as? [String: Any] ?? [:]).keys)))
            #expect(Set(schema["required"] as? [String] ?? []).isSubset(of: Set(answer.keys)))

            let read = try await get(client, key: key, id: id)
            #expect(read.status == .ok)
            #expect(object(read.body)["hash"] as? String == id)
            #expect(object(read.body)["bytes"] as? Int == Self.labels.count)
        }
    }

    @Test func withoutACredentialTheUploadIs401AndNothingIsWritten() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, _ in
            for key in [nil, "not-a-key"] {
                let response = try await upload(client, key: key)
                #expect(response.status == .unauthorized)
                #expect(object(response.body)["type"] as? String == "urn:vigil:problem:unauthorized")
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/inbox/demo"))
        }
    }

    @Test(arguments: [
        (nil, "?name="), ("payments.2026-12-04.csv", "TYPE one of"), ("../fraud-reports.csv", "slashes"),
        (".fraud-reports.csv", "not starting with '.'"), ("fraud-reports.v2.2026-12-04.csv", "unsupported format version v2"),
    ] as [(String?, String)])
    func aBadNameIs400NamingTheRule(name: String?, says: String) async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, key in
            let response = try await upload(client, key: key, name: name)
            #expect(response.status == .badRequest)
            let problem = object(response.body)
            #expect(problem["type"] as? String == "urn:vigil:problem:invalid-file-name")
            let detail = problem["detail"] as? String ?? ""
            #expect(detail.contains(says) || (name == nil && detail.contains("no name")))
            #expect(!FileManager.default.fileExists(atPath: dir + "/inbox/demo"))
        }
    }

    @Test func aFileOverTheLimitIs413WhileStreamingAndLeavesNothing() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir, configure: { $0.intakeMaxFileBytes = 40 }) { client, key in
            let response = try await upload(client, key: key)
            #expect(response.status == .contentTooLarge)
            #expect(object(response.body)["type"] as? String == "urn:vigil:problem:payload-too-large")
            #expect(!FileManager.default.fileExists(atPath: dir + "/inbox/demo"))
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir + "/inbox/.upload")) ?? []).isEmpty)
        }
    }

    @Test func anotherTenantsFileIs404AndSoIsAnUnknownID() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, key in
            let admin = Administration(dataDirectory: dir, provider: FileKeyProvider(path: dir + "/master.key"), actor: AuditLog.Actor(name: "test"))
            let otherKey = try admin.createTenant(name: "bank-b")
            let id = Self.sha256(Self.labels)
            #expect(try await upload(client, key: key).status == .accepted)
            // The reload takes up to a second: the other tenant's key works once its own upload does.
            var status = HTTPResponse.Status.unauthorized
            for _ in 0..<600 where status == .unauthorized {
                status = try await upload(client, key: otherKey, name: "status.2026-12-04.csv", body: Array("x\n".utf8)).status
                if status == .unauthorized { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(status == .accepted)
            let theirs = try await get(client, key: otherKey, id: id)
            #expect(theirs.status == .notFound)
            #expect(object(theirs.body)["type"] as? String == "urn:vigil:problem:not-found")
            #expect(try await get(client, key: key, id: String(repeating: "0", count: 64)).status == .notFound)
            #expect(try await get(client, key: key, id: "..%2F..%2Ftenants.json").status == .notFound)
            #expect(try await get(client, key: key, id: id).status == .ok)
        }
    }

    @Test func theSameBytesAfterTheyLoadedAreRecordedAsADuplicateAndNotTakenAgain() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, key in
            let id = Self.sha256(Self.labels)
            var loaded = FileRecord(
                id: id, tenant: "demo", type: .fraudReports, name: "fraud-reports.2026-12-03.csv", hash: id, bytes: Self.labels.count,
                status: .loaded, receivedAt: 1
            )
            loaded.accepted = 1
            try DataDirectoryFileStore(dataDirectory: dir).save(loaded)
            let response = try await upload(client, key: key)
            #expect(response.status == .accepted)
            #expect(response.headers[.location] == "/v1/files/\(id)-2")
            #expect(object(response.body)["status"] as? String == "duplicate")
            #expect(object(response.body)["duplicateOf"] as? String == id)
            #expect(!FileManager.default.fileExists(atPath: dir + "/inbox/demo/fraud-reports.2026-12-04.csv"))
        }
    }

    @Test func aNameStillInTheInboxIs409() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, key in
            #expect(try await upload(client, key: key).status == .accepted)
            let again = try await upload(client, key: key, body: Self.labels + Array("p-2,2026-12-04T11:00:00Z,app_scam\n".utf8))
            #expect(again.status == .conflict)
            #expect(object(again.body)["type"] as? String == "urn:vigil:problem:file-in-progress")
        }
    }
}
