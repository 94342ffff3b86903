public import VigilDomain
import Synchronization

/// The reference data the daily files load (issue 13): the consortium list of reported creditor accounts, each
/// tenant's directory of institutions, its account links (account → customer) and entitlements, and how far each
/// file has been loaded.
///
/// The embedded implementation is ``InMemoryReferenceStore``; the Valkey/Redis one is `VigilRedisState`'s
/// `RedisReferenceStore`. Both pass `ReferenceStoreTests`. Every write is idempotent: loading a record again changes
/// nothing. Calls fail only for a shared store (``StateStoreError``).
public protocol ReferenceStore: Sendable {
    /// Adds a fraud report naming `creditor` to the consortium list, once per `report` (an id the caller derives from
    /// the report: ``ReferenceStore/reportIdentity(tenant:paymentId:uetr:creditor:)``): made at `reportedAt`, known to
    /// Vigil from `knownAt` (never before `reportedAt`). The same report added again keeps the entry known first.
    func addReport(creditor: Token, report: UInt64, reportedAt: Instant, knownAt: Instant) async throws(StateStoreError)
    /// Puts a directory row in the tenant's directory, replacing the row for the same code.
    func upsert(_ entry: DirectoryEntry, tenant: String) async throws(StateStoreError)
    /// Links an account to a customer of the tenant (moving it from the customer it was linked to before).
    func link(_ link: AccountLink, tenant: String) async throws(StateStoreError)
    /// Replaces the tenant's entitlements whole.
    func replaceEntitlements(_ entitlements: [Entitlement], tenant: String) async throws(StateStoreError)
    /// The tenant's entitlements; nil when none were ever loaded (the tenant is then not checked).
    func entitlements(tenant: String) async throws(StateStoreError) -> [Entitlement]?
    /// Records that the file's rows up to `row` are loaded (a lower row than the one held changes nothing).
    func recordLoaded(fileId: String, row: Int) async throws(StateStoreError)
    /// The highest row of the file recorded as loaded; 0 for none.
    func loadedRow(fileId: String) async throws(StateStoreError) -> Int
    /// What the reference data says about one payment, in one call (one round trip for a shared store).
    func facts(_ query: ReferenceQuery) async throws(StateStoreError) -> ReferenceFacts
}

extension ReferenceStore {
    /// The identity of a fraud report in the consortium list: one per reporting tenant and payment (and creditor),
    /// so a report loaded twice, or a report and a `FRAD` return of the same payment, count once.
    public static func reportIdentity(tenant: String, paymentId: String?, uetr: String?, creditor: Token) -> UInt64 {
        var hash = StableHash(0x5649_4749_4C52_4550)
        hash.combine(tenant)
        hash.combine(uetr ?? "")
        hash.combine(uetr == nil ? paymentId ?? "" : "")
        hash.combine(creditor)
        return hash.value
    }
}

/// What the engine asks the reference store about one payment.
public struct ReferenceQuery: Sendable, Hashable {
    /// The scoring tenant, whose directory and account links are read.
    public var tenant: String
    public var debtor: Token
    public var creditor: Token
    public var debtorInstitution: InstitutionCode?
    public var creditorInstitution: InstitutionCode?

    public init(tenant: String, debtor: Token, creditor: Token, debtorInstitution: InstitutionCode?, creditorInstitution: InstitutionCode?) {
        self.tenant = tenant
        self.debtor = debtor
        self.creditor = creditor
        self.debtorInstitution = debtorInstitution
        self.creditorInstitution = creditorInstitution
    }

    public init(tenant: String, payment: TokenizedPayment) {
        self.init(
            tenant: tenant, debtor: payment.debtor.account, creditor: payment.creditor.account,
            debtorInstitution: payment.debtor.institution, creditorInstitution: payment.creditor.institution
        )
    }
}

/// The reference store's answer for one payment: what the `creditor.reported_*`, `*.institution_type` and
/// `customer.*` features read.
public struct ReferenceFacts: Sendable, Hashable {
    /// The reports naming the creditor, oldest known first, at most ``InMemoryReferenceStore/reportsPerAccount``.
    public var creditorReports: [ReportTimes]
    public var debtorInstitution: InstitutionType?
    public var creditorInstitution: InstitutionType?
    /// The debtor account's customer at the tenant, when the account map links it.
    public var customer: Token?
    /// Accounts linked to that customer (0 when none).
    public var linkedAccounts: Int

    public init(
        creditorReports: [ReportTimes] = [], debtorInstitution: InstitutionType? = nil, creditorInstitution: InstitutionType? = nil,
        customer: Token? = nil, linkedAccounts: Int = 0
    ) {
        self.creditorReports = creditorReports
        self.debtorInstitution = debtorInstitution
        self.creditorInstitution = creditorInstitution
        self.customer = customer
        self.linkedAccounts = linkedAccounts
    }

    /// No reference data: what a payment sees when nothing was loaded.
    public static let none = ReferenceFacts()
}

/// When a fraud report was made and when Vigil learnt of it (epoch milliseconds). The features count a report only
/// once it is known, and measure its age from when it was made: so a report loaded late reads the same live as in an
/// offline replay, where it is known when it is made.
public struct ReportTimes: Sendable, Hashable {
    public var knownAt: Int64
    public var reportedAt: Int64

    public init(knownAt: Int64, reportedAt: Int64) {
        self.knownAt = knownAt
        self.reportedAt = reportedAt
    }

    /// Whether this entry wins over another of the same report: the one known first (then the earlier made).
    public func precedes(_ other: ReportTimes) -> Bool { (knownAt, reportedAt) < (other.knownAt, other.reportedAt) }
}

/// The reference data in process memory, under one lock (it is read once per payment and written by file loads).
///
/// Memory per entry, measured by `vigil-microbench` ("reference store memory": resident growth ÷ entries, 200,000 of
/// each, debug build, one run; BENCHMARKS.md gets the release figures): an account link about 270 bytes (the link and
/// its customer's count, with the hash tables' slack), a reported account with two reports about 180 (16 more per
/// report, at most 64 kept), a directory row about 80 to 200 (with a 30-byte institution name; the reading is noisy
/// at this size). A million linked accounts and 100,000 reported accounts: some 300 MB. Entitlements (a few per
/// tenant) and file progress (one per file) are small by count.
public final class InMemoryReferenceStore: ReferenceStore {
    /// Reports kept per account: the newest, which are all the 90-day features can need for an account reported
    /// this often.
    public static let reportsPerAccount = 64

    struct Report: Sendable, Hashable {
        var id: UInt64
        var times: ReportTimes
    }

    struct TenantData: Sendable {
        var directory: [InstitutionCode: DirectoryEntry] = [:]
        var customers: [Token: Token] = [:]
        /// Accounts linked to each customer.
        var linked: [Token: Int] = [:]
        var entitlements: [Entitlement]?
    }

    struct State: Sendable {
        /// Reports per creditor account, oldest known first.
        var reports: [Token: [Report]] = [:]
        var tenants: [String: TenantData] = [:]
        var progress: [String: Int] = [:]
    }

    let state: Mutex<State>

    public init() {
        state = Mutex(State())
    }

    init(_ state: sending State) {
        self.state = Mutex(state)
    }

    public func addReport(creditor: Token, report: UInt64, reportedAt: Instant, knownAt: Instant) {
        state.withLock { state in
            var reports = state.reports[creditor] ?? []
            let entry = Report(id: report, times: ReportTimes(knownAt: knownAt.epochMillis, reportedAt: reportedAt.epochMillis))
            if let held = reports.firstIndex(where: { $0.id == report }) {
                guard entry.times.precedes(reports[held].times) else { return }
                reports.remove(at: held)
            }
            let index = reports.firstIndex { entry.times.precedes($0.times) } ?? reports.count
            reports.insert(entry, at: index)
            if reports.count > Self.reportsPerAccount { reports.removeFirst(reports.count - Self.reportsPerAccount) }
            state.reports[creditor] = reports
        }
    }

    public func upsert(_ entry: DirectoryEntry, tenant: String) {
        state.withLock { $0.tenants[tenant, default: TenantData()].directory[entry.code] = entry }
    }

    public func link(_ link: AccountLink, tenant: String) {
        state.withLock { state in
            state.tenants[tenant, default: TenantData()].link(link)
        }
    }

    public func replaceEntitlements(_ entitlements: [Entitlement], tenant: String) {
        state.withLock { $0.tenants[tenant, default: TenantData()].entitlements = entitlements }
    }

    public func entitlements(tenant: String) -> [Entitlement]? {
        state.withLock { $0.tenants[tenant]?.entitlements }
    }

    public func recordLoaded(fileId: String, row: Int) {
        state.withLock { $0.progress[fileId] = max($0.progress[fileId] ?? 0, row) }
    }

    public func loadedRow(fileId: String) -> Int {
        state.withLock { $0.progress[fileId] ?? 0 }
    }

    public func facts(_ query: ReferenceQuery) -> ReferenceFacts {
        state.withLock { state in
            var facts = ReferenceFacts()
            if let reports = state.reports[query.creditor] { facts.creditorReports = reports.map(\.times) }
            if let tenant = state.tenants[query.tenant] {
                facts.debtorInstitution = query.debtorInstitution.flatMap { tenant.directory[$0]?.type }
                facts.creditorInstitution = query.creditorInstitution.flatMap { tenant.directory[$0]?.type }
                if let customer = tenant.customers[query.debtor] {
                    facts.customer = customer
                    facts.linkedAccounts = tenant.linked[customer] ?? 0
                }
            }
            return facts
        }
    }

    /// Entries held, by kind.
    public var counts: (reportedAccounts: Int, reports: Int, directoryRows: Int, accountLinks: Int, entitlements: Int, files: Int) {
        state.withLock { state in
            (
                state.reports.count, state.reports.values.reduce(0) { $0 + $1.count },
                state.tenants.values.reduce(0) { $0 + $1.directory.count }, state.tenants.values.reduce(0) { $0 + $1.customers.count },
                state.tenants.values.reduce(0) { $0 + ($1.entitlements?.count ?? 0) }, state.progress.count
            )
        }
    }
}

extension InMemoryReferenceStore.TenantData {
    mutating func link(_ link: AccountLink) {
        let previous = customers.updateValue(link.customer, forKey: link.account)
        guard previous != link.customer else { return }
        if let previous {
            let left = (linked[previous] ?? 1) - 1
            linked[previous] = left > 0 ? left : nil
        }
        linked[link.customer, default: 0] += 1
    }
}
