import Foundation

/// One of the documents the control plane keeps. Each is the JSON that the file control plane stores as a file in
/// the data directory, and the PostgreSQL one as a row.
public struct ControlDocument: Hashable, Sendable, CustomStringConvertible {
    /// The document's name: its file name in a data directory, its key in PostgreSQL.
    public let name: String

    /// `tenants.json`: every tenant's API-key hashes, perspectives, thresholds, rules, usage plan, allow-list and
    /// certificate bindings.
    public static let tenants = ControlDocument(name: "tenants.json")
    /// `keys.json`: the tokenisation keys and the data keys, each wrapped by the master key.
    public static let keys = ControlDocument(name: "keys.json")
    /// `signing-keys.json`: the token-signing keys, their private halves wrapped by the master key.
    public static let signingKeys = ControlDocument(name: "signing-keys.json")

    /// `models.json`: which deployed model is the champion, the challenger and each tenant's champion, with when and
    /// by whom each was deployed, and the history of deploys and retirements (docs/models.md).
    public static let models = ControlDocument(name: "models.json")

    /// `model-<version>.json`: one deployed model's XGBoost JSON. `version` is the model's own (`xgb-` and 16 hex
    /// digits), so it is safe as a file name; nil for anything else.
    public static func model(version: String) -> ControlDocument? {
        guard isModelVersion(version) else { return nil }
        return ControlDocument(name: "model-\(version).json")
    }

    /// Whether `version` is a model version as `vigil model deploy` names models: `xgb-` and 16 lower-case hex digits.
    public static func isModelVersion(_ version: String) -> Bool {
        let utf8 = Array(version.utf8)
        return utf8.count == 20 && version.hasPrefix("xgb-")
            && utf8.dropFirst(4).allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The fixed documents (model bodies are named by version).
    public static let all: [ControlDocument] = [.tenants, .keys, .signingKeys, .models]

    public var description: String { name }
}

/// What a read-modify-write of a document does with it.
public enum ControlDocumentChange: Sendable {
    /// Leaves the document as it was.
    case keep
    /// Replaces the document with these bytes.
    case write([UInt8])
}

/// A mark that changes whenever a document does, so a server polling it reloads only what changed.
public struct ControlDocumentStamp: Hashable, Sendable {
    public var parts: [Int64]

    public init(_ parts: [Int64]) {
        self.parts = parts
    }

    /// The stamp of a document that does not exist.
    public static let absent = ControlDocumentStamp([])
    /// A stamp no document has, for a poller that has not read the document yet.
    public static let unread = ControlDocumentStamp([-1, -1])
}

/// Why the control plane could not be read or changed.
public struct ControlPlaneError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let value: String
        /// The store did not answer, or not within its time limit; nothing was changed.
        public static let unavailable = Code(value: "unavailable")
        /// The store answered with something that is not Vigil's.
        public static let malformed = Code(value: "malformed")
        /// Reading or writing failed.
        public static let io = Code(value: "io")
        public var description: String { value }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// Where Vigil keeps what its administrators change: tenants, wrapped keys, signing keys and the hash-chained audit
/// log. Every node of a deployment reads the same control plane; the master key is never in it (it stays with the
/// ``KeyProvider``), so what it holds opens nothing on its own.
///
/// The embedded default is ``FileControlPlane`` (files in the data directory); `VigilPostgres` keeps the same
/// documents in PostgreSQL for many nodes. Both are used through ``KeyStore``, ``SigningKeyStore`` and the server's
/// tenant directory and audit log, which validate every change the same way whichever store holds it.
///
/// Calls block (file locks, fsyncs, network round trips): a server makes them from a blocking thread pool, never
/// from an event loop or Swift's cooperative pool.
public protocol ControlPlane: Sendable {
    /// Where the documents are, for messages: a directory, or a database URL without its password.
    var location: String { get }

    /// Where `document` is, for messages: a file path, or a row named in the database.
    func location(of document: ControlDocument) -> String

    /// The document's bytes; nil when it does not exist yet.
    func read(_ document: ControlDocument) throws -> [UInt8]?

    /// Reads the document and replaces it with what `change` returns, holding a lock that every writer of the
    /// document, in this process and any other, takes too, so no concurrent change is lost. When `change` throws,
    /// nothing is written and the error is rethrown.
    func update<T>(_ document: ControlDocument, _ change: ([UInt8]?) throws -> (ControlDocumentChange, T)) throws -> T

    /// A mark that differs whenever the document has changed since it was last taken.
    func stamp(_ document: ControlDocument) throws -> ControlDocumentStamp

    /// Appends one audit record and makes it durable before returning. `line` receives the last record (nil for
    /// the first) and returns the new one; it runs under the audit log's lock, so records chain without gaps.
    func appendAudit(_ line: ([UInt8]?) throws -> [UInt8]) throws

    /// Every audit record in order, unverified (the audit log checks the chain).
    func auditRecords(_ body: ([UInt8]) throws -> Void) throws
}
