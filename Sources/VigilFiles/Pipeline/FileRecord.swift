public import VigilDomain

/// Where a received file is in the intake (docs/intake.md, "File statuses").
public enum FileStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// In the inbox, waiting for the pipeline (an HTTPS upload is recorded at once).
    case received
    /// Being scanned for malware.
    case scanning
    /// The scanner found malware: the file is in `DATA/quarantine/TENANT/`. Final.
    case quarantined
    /// The file as a whole could not be taken (its name, a bad signature, a BOM, a header…): nothing loaded. Final.
    case refused
    /// Being opened, parsed and loaded.
    case loading
    /// Its good rows are loaded. Final.
    case loaded
    /// More rows were bad than the error threshold allows: nothing loaded. Final.
    case rejected
    /// The same bytes were already loaded or rejected: this arrival changed nothing. Final.
    case duplicate
    /// A back end (clamd, gpg) was unavailable: the file stays in the inbox and is tried again on the next pass.
    case retrying

    /// Whether the file is done with: nothing more happens to it.
    public var isFinal: Bool {
        switch self {
        case .quarantined, .refused, .loaded, .rejected, .duplicate: true
        case .received, .scanning, .loading, .retrying: false
        }
    }

    /// Whether a later arrival of the same bytes is a duplicate of this one: its rows were loaded, or judged.
    public var settlesContent: Bool { self == .loaded || self == .rejected }
}

/// What Vigil knows about one received file: its metadata, kept in a ``FileMetadataStore``.
///
/// A file's id is the hex SHA-256 of its bytes as received. The same bytes arriving again after they were loaded
/// or rejected get a record of their own, `ID-2`, `ID-3`…, with status `duplicate`. Ids are per tenant: two
/// tenants sending the same bytes have two records.
public struct FileRecord: Sendable, Hashable, Codable {
    public var id: String
    public var tenant: String
    /// The file's type from its name; nil when the name names none (the file is then refused).
    public var type: DailyFileType?
    /// The name it arrived under (a file name; the type, the date and suffixes, no personal data by convention).
    public var name: String
    /// Hex SHA-256 of the bytes as received.
    public var hash: String
    public var bytes: Int
    /// Data rows seen (the header not counted); accepted + rejected.
    public var rows: Int
    public var accepted: Int
    public var rejected: Int
    public var status: FileStatus
    /// Why the file was refused, rejected, quarantined or is retrying; never a cell's value.
    public var reason: String?
    /// `clean`, `not-scanned` or `infected`; nil before the scan.
    public var scan: String?
    /// The scanner's signature name when infected.
    public var signature: String?
    /// The fingerprint of the key that signed the file; nil when PGP intake is off.
    public var signer: String?
    /// Epoch milliseconds: when the file was first seen, when the pipeline took it, when its status became final.
    public var receivedAt: Int64
    public var startedAt: Int64?
    public var finishedAt: Int64?
    /// For a duplicate: the id of the record whose bytes it repeats.
    public var duplicateOf: String?
    /// The first row errors (at most ``maxRowErrors``); `rejected` counts them all.
    public var errors: [RowError]

    /// Row errors a record keeps; the count goes on.
    public static let maxRowErrors = 1000

    public init(
        id: String, tenant: String, type: DailyFileType?, name: String, hash: String, bytes: Int, status: FileStatus, receivedAt: Int64
    ) {
        self.id = id
        self.tenant = tenant
        self.type = type
        self.name = name
        self.hash = hash
        self.bytes = bytes
        self.rows = 0
        self.accepted = 0
        self.rejected = 0
        self.status = status
        self.receivedAt = receivedAt
        self.errors = []
    }
}

/// Where file metadata is kept: ``DataDirectoryFileStore`` in the data directory (embedded),
/// `VigilPostgres.PostgresFileStore` in PostgreSQL for many nodes. Both pass the same test suite.
///
/// Calls may block (fsyncs, round trips); a server makes them off its event loops.
public protocol FileMetadataStore: Sendable {
    /// Creates or replaces the record with the same tenant and id, durably, before returning.
    func save(_ record: FileRecord) throws
    /// The tenant's record with this id; nil when there is none.
    func record(tenant: String, id: String) throws -> FileRecord?
    /// Every record, or one tenant's, oldest first (by `receivedAt`, then id).
    func records(tenant: String?) throws -> [FileRecord]
}

extension FileMetadataStore {
    /// The id the next duplicate arrival of `hash` gets: `HASH-2`, `HASH-3`, …
    public func nextDuplicateID(tenant: String, hash: String) throws -> String {
        var n = 2
        while try record(tenant: tenant, id: "\(hash)-\(n)") != nil { n += 1 }
        return "\(hash)-\(n)"
    }
}
