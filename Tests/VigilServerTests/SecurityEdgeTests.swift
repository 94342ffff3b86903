import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilProtection
import VigilServer

/// Usage plans, allow-lists, per-tenant keys, erasure and the audit log, each driven through the HTTP API.
struct SecurityEdgeTests {
    func admin(_ dir: String) -> Administration {
        Administration(dataDirectory: dir, provider: FileKeyProvider(path: dir + "/master.key"), actor: AuditLog.Actor(name: "test"))
    }

    /// Polls until the server's reloader (once a second) has applied a change, as `condition` sees it.
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    func score(_ client: any TestClientProtocol, key: String, id: String = UUID().uuidString, body: ByteBuffer? = nil) async throws -> TestResponse {
        try await client.execute(uri: "/v1/payments/score", method: .post, headers: headers(key: key), body: body ?? json(paymentBody(id: id))) { $0 }
    }

    @Test func aTenantPastItsBurstGets429WithExactCountsAndOthersAreUntouched() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, demoKey in
            let limitedKey = try admin(dir).createTenant(name: "limited")
            // One token an hour: nothing refills during the test, so the counts are exact.
            try admin(dir).setPlan(name: "limited", plan: UsagePlan(ratePerSecond: 1.0 / 3600, burst: 5))
            #expect(try await eventually { try await score(client, key: limitedKey, body: json(["not": "a payment"])).status == .badRequest })
            // The probe above spent one token; four remain.
            var statuses: [HTTPResponse.Status] = []
            var last: TestResponse?
            for _ in 0..<7 {
                let response = try await score(client, key: limitedKey)
                statuses.append(response.status)
                last = response
            }
            #expect(statuses == [.ok, .ok, .ok, .ok, .tooManyRequests, .tooManyRequests, .tooManyRequests])
            let refused = try #require(last)
            #expect(refused.headers[.contentType] == "application/problem+json")
            #expect(object(refused.body)["type"] as? String == "urn:vigil:problem:rate-limited")
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap(Int.init))
            #expect((3000...3600).contains(retryAfter))
            #expect(refused.headers[HTTPField.Name("RateLimit-Policy")!] == #""burst";q=5;w=18000"#)
            #expect(refused.headers[HTTPField.Name("RateLimit")!]?.hasPrefix(#""burst";r=0;t="#) == true)
            // The demo tenant has no plan and is not slowed by the other tenant's exhaustion.
            for _ in 0..<10 {
                let response = try await score(client, key: demoKey)
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("RateLimit")!] == nil)
            }
        }
    }

    @Test func theDailyQuotaIsCountedExactlyAndSurvivesARestart() async throws {
        let dir = temporaryDataDirectory()
        let key = try await withVigil(dataDirectory: dir) { client, _ in
            let key = try admin(dir).createTenant(name: "quota")
            try admin(dir).setPlan(name: "quota", plan: UsagePlan(ratePerSecond: 1000, burst: 1000, dailyQuota: 4))
            #expect(try await eventually {
                try await score(client, key: key).headers[HTTPField.Name("RateLimit-Policy")!] != nil
            })
            let ok = try await score(client, key: key)
            #expect(ok.headers[HTTPField.Name("RateLimit")!]?.contains(#""daily";r=2;"#) == true)
            return key
        }
        // Two payments were scored today (the first probe may have scored before the plan applied: count them all).
        try await withVigil(dataDirectory: dir) { client, _ in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<4 { statuses.append(try await score(client, key: key).status) }
            let scoredBefore = 4 - statuses.filter { $0 == .ok }.count
            #expect(scoredBefore >= 2)
            #expect(statuses.filter { $0 == .ok }.count == 4 - scoredBefore)
            let refused = try await score(client, key: key)
            #expect(refused.status == .tooManyRequests)
            #expect(object(refused.body)["type"] as? String == "urn:vigil:problem:quota-exhausted")
        }
    }

    @Test func anAllowListRefusesWith403BeforeTheBodyIsRead() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, key in
            try admin(dir).setAllowedNetworks(name: "demo", networks: ["203.0.113.0/24"])
            // A malformed body would be 400 if it were read; the address check answers first. (The router-level test
            // client has no socket address, so the request comes from an unknown address: refused, failing closed.)
            #expect(try await eventually {
                try await score(client, key: key, body: ByteBuffer(string: "{ not json")).status == .forbidden
            })
            let refused = try await score(client, key: key)
            #expect(object(refused.body)["type"] as? String == "urn:vigil:problem:address-not-allowed")
            try admin(dir).setAllowedNetworks(name: "demo", networks: nil)
            #expect(try await eventually { try await score(client, key: key).status == .ok })
        }
    }

    @Test func sealsUseTheTenantsKeyRotationAppliesWhileRunningAndErasureShredsThem() async throws {
        let dir = temporaryDataDirectory()
        try await withVigil(dataDirectory: dir) { client, key in
            #expect(try await score(client, key: key, id: "before-rotation").status == .ok)
            let rotated = try admin(dir).rotateDataKeys(tenant: "demo")
            let newVersion = try #require(rotated.first?.version)
            // The server reloads keys.json on its own; a payment scored after that is sealed under the new version.
            let applied = try await eventually {
                guard try await score(client, key: key).status == .ok else { return false }
                return try sealedAccounts(dir).last?.keyVersion == newVersion
            }
            #expect(applied)
        }
        let sealed = try sealedAccounts(dir)
        #expect(Set(sealed.map(\.keyVersion)).count == 2)
        let ring = try KeyRing.open(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
        for value in sealed { #expect(try ring.open(.account, value) == Array("gb:404142:12345678".utf8)) }

        let demoKey = try String(contentsOfFile: dir + "/demo.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try admin(dir).eraseTenant(name: "demo")
        let after = try KeyRing.open(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
        for value in sealed {
            let error = #expect(throws: KeyError.self) { try after.open(.account, value) }
            #expect(error?.code == .erased)
        }
        // The erased tenant's credentials no longer work; its tokens remain in the events (features keep counting).
        try await withVigil(dataDirectory: dir) { client, _ in
            let status = try await score(client, key: demoKey).status
            #expect(status == .unauthorized)
        }
    }

    @Test func everyAdminActionIsAuditedWithoutSecretsAndTamperingShows() throws {
        let dir = temporaryDataDirectory()
        let admin = admin(dir)
        let key = try admin.createTenant(name: "bank-a")
        try admin.setPlan(name: "bank-a", plan: UsagePlan(ratePerSecond: 10, burst: 20, dailyQuota: 1000))
        try admin.setAllowedNetworks(name: "bank-a", networks: ["10.0.0.0/8", "2001:db8::/32"])
        try admin.setRules(name: "bank-a", rules: #"rule "big": amount > 10000 -> review"# + "\n")
        #expect(throws: (any Error).self) { try admin.setRules(name: "bank-a", rules: "rule nonsense") }
        _ = try admin.rotateDataKeys(tenant: "bank-a")
        _ = try admin.eraseTenant(name: "bank-a")
        var records: [[String: Any]] = []
        try AuditLog(dataDirectory: dir).forEach { line in
            records.append(try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]))
        }
        #expect(records.map { $0["action"] as? String } == [
            "tenant.create", "tenant.plan", "tenant.allowed-networks", "tenant.rules", "keys.rotate", "tenant.erase",
        ])
        #expect(records.allSatisfy { ($0["actor"] as? [String: Any])?["name"] as? String == "test" && $0["time"] is String })
        let text = String(decoding: FileManager.default.contents(atPath: dir + "/audit.log")!, as: UTF8.self)
        #expect(!text.contains(key))
        #expect(!text.contains(String(key.dropFirst(4).prefix(16))))
        let master = String(decoding: FileManager.default.contents(atPath: dir + "/master.key")!, as: UTF8.self)
        #expect(!text.contains(master.trimmingCharacters(in: .whitespacesAndNewlines)))

        // Editing one record breaks the chain at the next line.
        try Data(text.replacingOccurrences(of: #""burst":"20""#, with: #""burst":"99""#).utf8).write(to: URL(fileURLWithPath: dir + "/audit.log"))
        let broken = #expect(throws: AuditLog.ChainBreak.self) { try AuditLog(dataDirectory: dir).forEach { _ in } }
        #expect(broken?.line == 3)
        // Deleting one breaks it too.
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        lines.remove(at: 1)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/audit.log"))
        #expect(throws: AuditLog.ChainBreak.self) { try AuditLog(dataDirectory: dir).forEach { _ in } }
    }

    @Test func aTornLastAuditLineIsCutBeforeTheNextAppend() throws {
        let dir = temporaryDataDirectory()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let log = AuditLog(dataDirectory: dir)
        try log.append(actor: .init(name: "test"), action: "one", target: nil)
        let handle = try #require(FileHandle(forWritingAtPath: log.path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"seq":2,"time":"#.utf8))
        handle.closeFile()
        try log.append(actor: .init(name: "test"), action: "two", target: nil)
        var actions: [String] = []
        try log.forEach { actions.append((try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])?["action"] as? String ?? "") }
        #expect(actions == ["one", "two"])
    }
}

/// Each scored event's sealed debtor account, in log order.
func sealedAccounts(_ dir: String) throws -> [SealedValue] {
    var out: [SealedValue] = []
    try FileEventLog.read(directory: dir + "/events") { _, payload in
        if case .scored(let event) = try EventCoding.decodeRecord(payload) { out.append(event.request.debtor.sealedAccount) }
    }
    return out
}

struct UsageLimiterTests {
    final class FakeClock: UsageClock, @unchecked Sendable {
        let nanos = Mutex<UInt64>(1_000_000_000)
        let seconds = Mutex<Int64>(1_795_000_000)
        var monotonicNanoseconds: UInt64 { nanos.withLock { $0 } }
        var epochSeconds: Int64 { seconds.withLock { $0 } }
        func advance(seconds delta: Double) {
            nanos.withLock { $0 += UInt64(delta * 1e9) }
            seconds.withLock { $0 += Int64(delta) }
        }
    }

    func admitted(_ decision: UsageLimiter.Decision) -> Bool {
        if case .admitted = decision { return true }
        return false
    }

    @Test func theBucketRefillsAtTheRateUpToTheBurst() {
        let clock = FakeClock()
        let limiter = UsageLimiter(clock: clock)
        let plan = UsagePlan(ratePerSecond: 2, burst: 3)
        #expect((0..<5).map { _ in admitted(limiter.admit(tenant: "a", plan: plan)) } == [true, true, true, false, false])
        clock.advance(seconds: 0.5)  // one token
        #expect((0..<2).map { _ in admitted(limiter.admit(tenant: "a", plan: plan)) } == [true, false])
        clock.advance(seconds: 60)  // full again, never more than the burst
        #expect((0..<4).map { _ in admitted(limiter.admit(tenant: "a", plan: plan)) } == [true, true, true, false])
        // Another tenant's bucket is its own.
        #expect(admitted(limiter.admit(tenant: "b", plan: plan)))
        #expect(admitted(limiter.admit(tenant: "c", plan: nil)))
    }

    @Test func theDailyQuotaResetsAtUTCMidnight() {
        let clock = FakeClock()
        clock.seconds.withLock { $0 = 1_795_046_400 - 10 }  // 10 s before a UTC midnight
        let limiter = UsageLimiter(clock: clock)
        let plan = UsagePlan(ratePerSecond: 100, burst: 100, dailyQuota: 2)
        #expect((0..<3).map { _ in admitted(limiter.admit(tenant: "a", plan: plan)) } == [true, true, false])
        guard case .limited(let problem) = limiter.admit(tenant: "a", plan: plan) else { Issue.record("not limited"); return }
        #expect(problem.kind == .quotaExhausted)
        #expect(problem.headers[.retryAfter] == "10")
        clock.advance(seconds: 10)
        #expect(admitted(limiter.admit(tenant: "a", plan: plan)))
        #expect(limiter.dayCount(tenant: "a") == 1)
    }
}

struct AllowListTests {
    func address(_ text: String) throws -> SocketAddress { try SocketAddress(ipAddress: text, port: 443) }

    @Test func matchesIPv4AndIPv6Blocks() throws {
        let list = try AllowList(["203.0.113.0/24", "10.0.0.0/8", "2001:db8::/32", "198.51.100.7"])
        #expect(list.allows(try address("203.0.113.200")))
        #expect(list.allows(try address("10.255.0.1")))
        #expect(list.allows(try address("198.51.100.7")))
        #expect(list.allows(try address("2001:db8:1::5")))
        #expect(list.allows(try address("::ffff:203.0.113.9")))
        #expect(!list.allows(try address("203.0.114.1")))
        #expect(!list.allows(try address("198.51.100.8")))
        #expect(!list.allows(try address("2001:db9::1")))
        #expect(!list.allows(try address("::1")))
        #expect(!list.allows(nil))
        #expect(try AllowList(["0.0.0.0/0"]).allows(try address("192.0.2.1")))
        #expect(try !AllowList(["0.0.0.0/0"]).allows(try address("2001:db8::1")))
    }

    @Test(arguments: ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/+8", "10.0.0/8", "example.com", "2001:db8::/129", "", "10.0.0.0/"])
    func refusesWhatIsNotANetwork(entry: String) {
        #expect(throws: AllowList.Invalid.self) { try AllowList([entry]) }
    }
}
