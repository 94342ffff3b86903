import NIOCore
public import VigilDomain
import VigilEngine
public import VigilFeatures
public import VigilRedis

/// The reference data on Valkey/Redis, shared by every node (``ReferenceStore``; it passes the same
/// `ReferenceStoreTests` as the in-process store).
///
/// Keys (``KeySpace/prefix`` first): `r{ACCOUNT}` a sorted set of an account's fraud reports (member the report
/// identity in hex, a colon and when it was made in epoch milliseconds, score the time it became known, the newest
/// ``InMemoryReferenceStore/reportsPerAccount`` kept; the same report added with another date is read once, the
/// entry known first, as the in-process store keeps it);
/// per tenant, under one hash tag `{T}` (T a digest of the tenant's name) so one script reads them together on a
/// cluster: `rd{T}` the directory (field `TYPE:CODE`, value `institutionType|status|institution`), `rl{T}` the
/// account links (account token → customer token, hex), `rc{T}CUSTOMER` the set of a customer's accounts, `re{T}`
/// the entitlements (the intake record's own binary coding); `rp` a hash of files' loaded rows. A payment's facts
/// take one pipelined round trip (the reports, and one script over the tenant's keys).
public final class RedisReferenceStore: ReferenceStore {
    public let client: RedisClient
    public let keys: KeySpace
    let counters = Counters()

    public init(client: RedisClient, keys: KeySpace) {
        self.client = client
        self.keys = keys
    }

    public var statistics: RedisStateStatistics { counters.snapshot }

    func reports(_ account: Token) -> RedisArgument { RedisArgument(keys.prefix + "r{" + KeySpace.tag(account) + "}") }

    func tenantTag(_ tenant: String) -> String {
        var hash = StableHash(0x5649_4749_4C54_4E54)
        hash.combine(tenant)
        return "{" + KeySpace.hex(hash.value) + "}"
    }

    func directory(_ tenant: String) -> RedisArgument { RedisArgument(keys.prefix + "rd" + tenantTag(tenant)) }
    func links(_ tenant: String) -> RedisArgument { RedisArgument(keys.prefix + "rl" + tenantTag(tenant)) }
    func customerPrefix(_ tenant: String) -> String { keys.prefix + "rc" + tenantTag(tenant) }
    func entitlementsKey(_ tenant: String) -> RedisArgument { RedisArgument(keys.prefix + "re" + tenantTag(tenant)) }
    var progressKey: RedisArgument { RedisArgument(keys.prefix + "rp") }

    static func field(_ code: InstitutionCode) -> String { code.type.rawValue + ":" + code.value }

    public func addReport(creditor: Token, report: UInt64, reportedAt: Instant, knownAt: Instant) async throws(StateStoreError) {
        _ = try await run(
            Self.addReportScript, keys: [reports(creditor)],
            arguments: [
                RedisArgument(String(knownAt.epochMillis)), RedisArgument(KeySpace.hex(report) + ":" + String(reportedAt.epochMillis)),
                RedisArgument(InMemoryReferenceStore.reportsPerAccount),
            ]
        )
    }

    public func upsert(_ entry: DirectoryEntry, tenant: String) async throws(StateStoreError) {
        let value = entry.type.rawValue + "|" + entry.status.rawValue + "|" + entry.institution
        _ = try await send(RedisCommand(["HSET", directory(tenant), RedisArgument(Self.field(entry.code)), RedisArgument(value)]).routed())
    }

    public func link(_ link: AccountLink, tenant: String) async throws(StateStoreError) {
        let prefix = customerPrefix(tenant)
        _ = try await run(
            Self.linkScript, keys: [links(tenant), RedisArgument(prefix + link.customer.hex)],
            arguments: [RedisArgument(link.account.hex), RedisArgument(link.customer.hex), RedisArgument(prefix)]
        )
    }

    public func replaceEntitlements(_ entitlements: [Entitlement], tenant: String) async throws(StateStoreError) {
        let record = EventCoding.record(IntakeEvent(
            tenant: tenant, fileId: "", row: 0, loadedAt: Instant(epochMillis: 0), record: .entitlements(entitlements)
        ))
        _ = try await send(RedisCommand(["SET", entitlementsKey(tenant), RedisArgument(ByteBuffer(bytes: record))]).routed())
    }

    public func entitlements(tenant: String) async throws(StateStoreError) -> [Entitlement]? {
        let reply = try await send(RedisCommand(["GET", entitlementsKey(tenant)]).routed())
        guard case .bulkString(let buffer) = reply else { throw StateStoreError(.corrupt, "the reference store answered GET unexpectedly") }
        guard let buffer else { return nil }
        guard case .intake(let event)? = try? EventCoding.decodeRecord(Array(buffer.readableBytesView)),
            case .entitlements(let entitlements) = event.record
        else { throw StateStoreError(.corrupt, "a tenant's stored entitlements do not decode") }
        return entitlements
    }

    public func recordLoaded(fileId: String, row: Int) async throws(StateStoreError) {
        _ = try await run(Self.maxScript, keys: [progressKey], arguments: [RedisArgument(fileId), RedisArgument(row)])
    }

    public func loadedRow(fileId: String) async throws(StateStoreError) -> Int {
        let reply = try await send(RedisCommand(["HGET", progressKey, RedisArgument(fileId)]).routed())
        if reply.isNull { return 0 }
        guard let row = reply.int else { throw StateStoreError(.corrupt, "a file's loaded row is not a number") }
        return Int(row)
    }

    public func facts(_ query: ReferenceQuery) async throws(StateStoreError) -> ReferenceFacts {
        let tenantKeys = [directory(query.tenant), links(query.tenant)]
        let tenantArguments = [
            RedisArgument(query.debtorInstitution.map(Self.field) ?? ""), RedisArgument(query.creditorInstitution.map(Self.field) ?? ""),
            RedisArgument(query.debtor.hex), RedisArgument(customerPrefix(query.tenant)),
        ]
        var replies: [RedisValue]
        do {
            replies = try await client.pipeline([
                RedisCommand(["ZRANGE", reports(query.creditor), "0", "-1", "WITHSCORES"]).routed(),
                RedisCommand(
                    ["EVALSHA", RedisArgument(Self.factsScript.sha1), RedisArgument(tenantKeys.count)] + tenantKeys + tenantArguments,
                    key: tenantKeys[0]
                ),
            ])
            counters.roundTrip()
            if case .error(let message) = replies[1], message.hasPrefix("NOSCRIPT") {
                replies[1] = try await client.eval(Self.factsScript, keys: tenantKeys, arguments: tenantArguments)
                counters.roundTrip()
            }
        } catch {
            counters.failure()
            throw StateStoreError(.unavailable, "the reference store did not answer: \(error.code)")
        }
        var facts = ReferenceFacts()
        guard let reported = replies[0].array, reported.count % 2 == 0, let tenant = replies[1].array, tenant.count == 4 else {
            throw StateStoreError(.corrupt, "the reference store answered a payment's facts unexpectedly")
        }
        facts.creditorReports = try Self.reports(reported)
        facts.debtorInstitution = tenant[0].string.flatMap(Self.institutionType)
        facts.creditorInstitution = tenant[1].string.flatMap(Self.institutionType)
        if let customer = tenant[2].string, !customer.isEmpty {
            guard let token = Token(hex: customer) else { throw StateStoreError(.corrupt, "an account link holds no token") }
            facts.customer = token
            facts.linkedAccounts = Int(tenant[3].int ?? 0)
        }
        return facts
    }

    /// An account's reports from `ZRANGE … WITHSCORES` (member `ID:REPORTED`, score the known-at time), oldest known
    /// first, each report once: the entry known first, then made first.
    static func reports(_ reply: [RedisValue]) throws(StateStoreError) -> [ReportTimes] {
        var byId: [Substring: ReportTimes] = [:]
        var order: [Substring] = []
        for index in stride(from: 0, to: reply.count, by: 2) {
            guard let member = reply[index].string, let colon = member.lastIndex(of: ":"),
                let reportedAt = Int64(member[member.index(after: colon)...]),
                let score = reply[index + 1].string, let knownAt = Double(score).map({ Int64($0) })
            else { throw StateStoreError(.corrupt, "a fraud report's entry is not ID:REPORTED with a time") }
            let id = member[..<colon]
            let times = ReportTimes(knownAt: knownAt, reportedAt: reportedAt)
            if let held = byId[id] {
                if times.precedes(held) { byId[id] = times }
            } else {
                byId[id] = times
                order.append(id)
            }
        }
        return order.map { byId[$0]! }.sorted { $0.precedes($1) }
    }

    static func institutionType(_ value: String) -> InstitutionType? {
        value.split(separator: "|", maxSplits: 1).first.flatMap { InstitutionType(rawValue: String($0)) }
    }

    func run(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) async throws(StateStoreError) -> RedisValue {
        try await counters.roundTrip(to: "the reference store") { () async throws(RedisError) in try await client.eval(script, keys: keys, arguments: arguments) }
    }

    func send(_ command: RedisCommand) async throws(StateStoreError) -> RedisValue {
        try await counters.roundTrip(to: "the reference store") { () async throws(RedisError) in try await client.send(command) }
    }

    /// KEYS[1]: the account's reports. ARGV: known-at ms, `ID:REPORTED`, how many to keep. Adds the entry once.
    static let addReportScript = RedisScript(
        """
        redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
        local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
        if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1) end
        return 1
        """
    )

    /// KEYS: the tenant's links, the new customer's set. ARGV: account, customer, the customer sets' key prefix (same
    /// hash tag). Moves the account from the customer it was linked to before.
    static let linkScript = RedisScript(
        """
        local previous = redis.call('HGET', KEYS[1], ARGV[1])
        if previous and previous ~= ARGV[2] then redis.call('SREM', ARGV[3] .. previous, ARGV[1]) end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[1])
        return 1
        """
    )

    /// KEYS: the tenant's directory and links. ARGV: the debtor's and creditor's directory fields, the debtor's
    /// account, the customer sets' key prefix. Returns the two directory values, the customer and its account count.
    static let factsScript = RedisScript(
        """
        local debtor = ARGV[1] ~= '' and redis.call('HGET', KEYS[1], ARGV[1]) or false
        local creditor = ARGV[2] ~= '' and redis.call('HGET', KEYS[1], ARGV[2]) or false
        local customer = redis.call('HGET', KEYS[2], ARGV[3])
        local count = 0
        if customer then count = redis.call('SCARD', ARGV[4] .. customer) end
        return {debtor or '', creditor or '', customer or '', count}
        """
    )

    /// KEYS[1]: the progress hash. ARGV: the file, its row. Keeps the higher row.
    static let maxScript = RedisScript(
        """
        local held = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
        if tonumber(ARGV[2]) > held then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
        return 1
        """
    )
}
