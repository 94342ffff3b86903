import Foundation
public import VigilDomain
public import VigilFeatures
public import VigilFiles
public import VigilGateway
import VigilEngine

/// The reference data of a folder of daily files, for offline replay (`vigil features export`, `train`, `evaluate`
/// with `--files DIR`): the same files a server would load, read with the same parser and tokenisation
/// (``TokenizingReader``) and applied through the same ``IntakeEvent/applyReference(to:)``.
///
/// Layout: `DIR/TENANT/TYPE.….csv` are the tenant's files (the folder is the tenant, as in the inbox); files directly in
/// `DIR` belong to every tenant (a scheme's published directory; with no tenant folders, to the unnamed tenant `""`).
/// The types read are `fraud-reports`, `status`, `directory`, `account-map` and `entitlements`; `history` files are
/// skipped (the history comes from `--history`), as are names that are no daily file type (a note says so).
///
/// Point in time: a report counts from its `reportedAt` (a return or recall for fraud from its `at`), the bank's own
/// record of when it knew, not from when a server loaded it: the files are the history of what the bank knew, and a
/// report known only once the whole history was over would never fire in training. Directory rows and account links
/// hold for the whole history. A history row reads the directory and account links of the tenant that owns it: the one
/// whose entitlements cover its own side's code, perspective, scheme and time (``tenant(of:covers:)``).
public struct ReferenceFiles: Sendable {
    /// The loaded reference data.
    public let store: InMemoryReferenceStore
    /// The tenant folders, sorted.
    public let tenants: [String]
    /// Each tenant's entitlements, when it has an entitlements file (the last by name replaces earlier ones).
    public let entitlements: [String: [Entitlement]]
    /// One line per file read or skipped, for stderr.
    public let notes: [String]

    /// A file that could not be used: refused whole (as the intake would), encrypted, or unreadable.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Reads every daily file under `directory` and its tenant folders, tokenised with `gateway`'s keys (give the
    /// server's keys, `--data-dir`, for tokens that match its own). Files load in name order, so dated files apply in
    /// date order.
    /// - Parameter errorThreshold: as the intake's `intakeErrorThreshold`: a file with more bad rows is refused.
    /// - Throws: ``LoadError`` for a folder that cannot be read, an encrypted file, or a file the intake would refuse.
    public static func load(directory: String, gateway: Gateway, errorThreshold: Double = IntakeSettings().errorThreshold) async throws -> ReferenceFiles {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue,
            let entries = try? manager.contentsOfDirectory(atPath: directory)
        else { throw LoadError(description: "\(directory) is not a readable folder of daily files") }
        var topLevel: [String] = []
        var tenants: [String] = []
        for entry in entries.sorted() where !entry.hasPrefix(".") {
            var entryIsFolder: ObjCBool = false
            _ = manager.fileExists(atPath: directory + "/" + entry, isDirectory: &entryIsFolder)
            if entryIsFolder.boolValue { tenants.append(entry) } else { topLevel.append(entry) }
        }
        var loader = Loader(store: InMemoryReferenceStore(), gateway: gateway, errorThreshold: errorThreshold)
        for name in topLevel {
            // A shared file's directory rows, account links and entitlements are every tenant's, as each tenant loads
            // the scheme's directory itself; its reports and statuses count once (their identity names the reporter).
            let perTenant = (try? DailyFileName(parsing: name)).map { [.directory, .accountMap, .entitlements].contains($0.type) } ?? false
            for tenant in perTenant && !tenants.isEmpty ? tenants : [""] {
                try await loader.read(path: directory + "/" + name, name: name, tenant: tenant)
            }
        }
        for tenant in tenants {
            let folder = directory + "/" + tenant
            guard let names = try? manager.contentsOfDirectory(atPath: folder) else {
                throw LoadError(description: "cannot read \(folder)")
            }
            for name in names.sorted() where !name.hasPrefix(".") {
                try await loader.read(path: folder + "/" + name, name: tenant + "/" + name, tenant: tenant)
            }
        }
        return ReferenceFiles(store: loader.store, tenants: tenants, entitlements: loader.entitlements, notes: loader.notes)
    }

    /// The tenant whose directory and account links a history row reads: the only tenant when there is one, else the
    /// first by name whose entitlements `covers` the payment (at its `createdAt`), else `""` (no tenant's: reports
    /// still count, being the consortium's, but no directory row or account link is found).
    /// - Parameter covers: the server's entitlement check (`EntitlementCheck.allows` in VigilServer).
    public func tenant(of request: PaymentRequest, covers: ([Entitlement], PaymentRequest) -> Bool) -> String {
        guard tenants.count > 1 else { return tenants.first ?? "" }
        for tenant in tenants {
            if let entitlements = entitlements[tenant], covers(entitlements, request) { return tenant }
        }
        return ""
    }

    /// Reads files one at a time into the store.
    struct Loader {
        let store: InMemoryReferenceStore
        let gateway: Gateway
        let errorThreshold: Double
        var entitlements: [String: [Entitlement]] = [:]
        var notes: [String] = []

        /// Before any payment: a report is then known from its own time (``IntakeEvent`` takes the later of the two).
        static let loadedAt = Instant(epochMillis: Int64.min)
        static let chunkBytes = 1 << 20

        mutating func read(path: String, name: String, tenant: String) async throws {
            let fileName: DailyFileName
            do {
                fileName = try DailyFileName(parsing: String(name.split(separator: "/").last ?? ""))
            } catch {
                notes.append("\(name): skipped, not a daily file (\(error.reason))")
                return
            }
            guard !fileName.isEncrypted else {
                throw LoadError(description: "\(name) is encrypted; decrypt it first (gpg --decrypt) and give the plaintext file")
            }
            guard fileName.type != .history else {
                notes.append("\(name): skipped, history comes from --history")
                return
            }
            var records: [(row: Int, record: IntakeRecord)] = []
            var reader = TokenizingReader(type: fileName.type, tenant: TenantIntake(name: tenant, keys: gateway.keys, signer: nil))
            do {
                guard let handle = FileHandle(forReadingAtPath: path) else { throw LoadError(description: "cannot read \(name)") }
                defer { try? handle.close() }
                while let chunk = try handle.read(upToCount: Self.chunkBytes), !chunk.isEmpty {
                    try reader.feed(Array(chunk)[...]) { records.append(($0, $1)) }
                }
                try reader.finish { records.append(($0, $1)) }
            } catch let refusal as FileRefusal {
                throw LoadError(description: "\(name) is refused: \(refusal.reason)")
            }
            if Double(reader.rejected) > errorThreshold * Double(reader.accepted + reader.rejected) {
                throw LoadError(description: "\(name) is refused: \(Self.rowErrors(reader)), over the intake's error threshold")
            }
            let owner = tenant.isEmpty ? "" : " for \(tenant)"
            notes.append("\(name)\(owner): \(reader.accepted) row(s) read" + (reader.rejected > 0 ? "; \(Self.rowErrors(reader)), skipped" : ""))
            if fileName.type == .entitlements {
                // As the pipeline does: a file's entitlement rows are one record that replaces the tenant's.
                var rows: [Entitlement] = []
                for case (_, .entitlements(let some)) in records { rows.append(contentsOf: some) }
                entitlements[tenant] = rows
                return
            }
            for (row, record) in records {
                let event = IntakeEvent(tenant: tenant, fileId: name, row: row, loadedAt: Self.loadedAt, record: record)
                try await event.applyReference(to: store)
            }
        }

        static func rowErrors(_ reader: TokenizingReader) -> String {
            let first = reader.rowErrors.first.map { " (first: row \($0.row)\($0.column.map { ", column \($0)" } ?? ""): \($0.reason))" } ?? ""
            return "\(reader.rejected) row(s) rejected\(first)"
        }
    }
}
