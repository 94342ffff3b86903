import Foundation
import Testing
import VigilDomain
import VigilFiles
import VigilPostgres

/// The file metadata stores' behaviour, the same for the data directory and for PostgreSQL: every test runs against both.
@Suite(.timeLimit(.minutes(2)))
struct FileMetadataStoreTests {
    func store(_ fixture: StoreFixture) async throws -> any FileMetadataStore {
        switch fixture.store {
        case .files: DataDirectoryFileStore(dataDirectory: fixture.directory)
        case .postgres: PostgresFileStore(plane: try await PostgresControlPlane.open(fixture.url!))
        }
    }

    static let hashA = String(repeating: "a1", count: 32)
    static let hashB = String(repeating: "b2", count: 32)

    func record(_ tenant: String, _ hash: String, at time: Int64, status: FileStatus = .received) -> FileRecord {
        FileRecord(
            id: hash, tenant: tenant, type: .fraudReports, name: "fraud-reports.2026-12-04.csv", hash: hash, bytes: 120, status: status,
            receivedAt: time
        )
    }

    @Test(arguments: Store.allCases)
    func aSavedRecordReadsBackWholeAndAnUpdateReplacesIt(_ kind: Store) async throws {
        let fixture = try await StoreFixture.make(kind)
        let files = try await store(fixture)
        var record = record("bank-a", Self.hashA, at: 1_000)
        try files.save(record)
        #expect(try files.record(tenant: "bank-a", id: Self.hashA) == record)

        record.status = .loaded
        record.rows = 3
        record.accepted = 2
        record.rejected = 1
        record.scan = "not-scanned"
        record.signer = "0123456789ABCDEF0123456789ABCDEF01234567"
        record.startedAt = 1_100
        record.finishedAt = 1_200
        record.errors = [RowError(row: 3, column: "fraudType", reason: "must be one of the fraud types")]
        try files.save(record)
        // Another instance on the same store, as another node (or `vigil files list`) would open it.
        let again = try await store(fixture)
        #expect(try again.record(tenant: "bank-a", id: Self.hashA) == record)
        #expect(try again.records(tenant: nil) == [record])
    }

    @Test(arguments: Store.allCases)
    func recordsArePerTenantAndListedOldestFirst(_ kind: Store) async throws {
        let fixture = try await StoreFixture.make(kind)
        let files = try await store(fixture)
        let late = record("bank-a", Self.hashA, at: 3_000)
        let early = record("bank-b", Self.hashB, at: 1_000)
        // The same bytes from another tenant are another tenant's file.
        let sameBytes = record("bank-b", Self.hashA, at: 2_000, status: .loaded)
        for r in [late, early, sameBytes] { try files.save(r) }

        #expect(try files.records(tenant: nil) == [early, sameBytes, late])
        #expect(try files.records(tenant: "bank-b") == [early, sameBytes])
        #expect(try files.record(tenant: "bank-a", id: Self.hashA)?.status == .received)
        #expect(try files.record(tenant: "bank-b", id: Self.hashA)?.status == .loaded)
        #expect(try files.record(tenant: "bank-a", id: Self.hashB) == nil)
        #expect(try files.records(tenant: "bank-c").isEmpty)
    }

    @Test(arguments: Store.allCases)
    func duplicatesGetNumberedIDs(_ kind: Store) async throws {
        let fixture = try await StoreFixture.make(kind)
        let files = try await store(fixture)
        try files.save(record("bank-a", Self.hashA, at: 1_000, status: .loaded))
        let second = try files.nextDuplicateID(tenant: "bank-a", hash: Self.hashA)
        #expect(second == Self.hashA + "-2")
        var duplicate = record("bank-a", Self.hashA, at: 2_000, status: .duplicate)
        duplicate.id = second
        duplicate.duplicateOf = Self.hashA
        try files.save(duplicate)
        #expect(try files.nextDuplicateID(tenant: "bank-a", hash: Self.hashA) == Self.hashA + "-3")
        #expect(try files.record(tenant: "bank-a", id: second)?.duplicateOf == Self.hashA)
    }

    @Test(arguments: Store.allCases)
    func anIDThatIsNotAFileIDNamesNothing(_ kind: Store) async throws {
        let fixture = try await StoreFixture.make(kind)
        let files = try await store(fixture)
        try files.save(record("bank-a", Self.hashA, at: 1_000))
        for id in ["../bank-a/" + Self.hashA, "", "x", Self.hashA.uppercased(), Self.hashA + "/"] {
            #expect(try files.record(tenant: "bank-a", id: id) == nil)
        }
    }
}
