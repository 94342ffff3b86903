public import VigilDomain
public import VigilProtection

/// Turns a file's plaintext into tokenised records: the parse, validate and tokenise stages, which the pipeline
/// feeds chunk by chunk while the opener decrypts. `TokenizingReader` wraps the formats' `DailyFileParser` and the
/// tenant's key ring.
public protocol IntakeRowReader {
    /// Feeds the next chunk of plaintext; calls `record(row, record)` for each complete valid row.
    /// - Throws: a refusal of the whole file (its description says why, never a cell's value), or `record`'s error.
    mutating func feed(_ chunk: ArraySlice<UInt8>, _ record: (Int, IntakeRecord) throws -> Void) throws
    /// Ends the file.
    mutating func finish(_ record: (Int, IntakeRecord) throws -> Void) throws
    /// The first row errors (at most ``FileRecord/maxRowErrors``).
    var rowErrors: [RowError] { get }
    var accepted: Int { get }
    var rejected: Int { get }
}

/// What the pipeline needs to know about a tenant to take its files.
public struct TenantIntake: Sendable {
    public var name: String
    /// The tenant's key ring, scoped to it: tokens and seals of its files' personal data.
    public var keys: KeyRing
    /// The tenant's registered PGP key; nil when none is registered.
    public var signer: TenantSigningKey?

    public init(name: String, keys: KeyRing, signer: TenantSigningKey?) {
        self.name = name
        self.keys = keys
        self.signer = signer
    }
}
