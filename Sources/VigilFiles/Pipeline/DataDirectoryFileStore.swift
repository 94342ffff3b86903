import Foundation
import VigilProtection

/// The embedded file metadata store: one JSON file per record, `DATA/file-metadata/TENANT/ID.json`, each written
/// atomically and fsynced (file and directory) before ``save(_:)`` returns.
public struct DataDirectoryFileStore: FileMetadataStore {
    /// `DATA/file-metadata`.
    public let directory: String

    public init(dataDirectory: String) {
        directory = dataDirectory + "/file-metadata"
    }

    /// Whether `id` can be a file id: 64 lower-case hex digits, then for a duplicate `-N`. Anything else (a path,
    /// `..`) names no record.
    public static func isValidID(_ id: some StringProtocol) -> Bool {
        let bytes = Array(id.utf8)
        guard bytes.count >= 64, bytes[..<64].allSatisfy(isHex) else { return false }
        let rest = bytes[64...]
        guard let first = rest.first else { return true }
        return first == UInt8(ascii: "-") && (2...10).contains(rest.count) && rest.dropFirst().allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    static func isHex(_ byte: UInt8) -> Bool { (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102) }

    /// Tenant names are checked where tenants are made; here only that one cannot leave the directory.
    static func isSafeTenant(_ tenant: String) -> Bool {
        !tenant.isEmpty && tenant != "." && tenant != ".." && !tenant.contains("/") && !tenant.hasPrefix(".")
    }

    public func save(_ record: FileRecord) throws {
        guard Self.isSafeTenant(record.tenant), Self.isValidID(record.id) else {
            throw FileMetadataError("a file record needs a tenant name and a file id (64 hex digits)")
        }
        let folder = directory + "/" + record.tenant
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try AtomicFile.write(try FileRecordCoding.encode(record), to: folder + "/" + record.id + ".json", mode: 0o600)
        } catch let error as FileMetadataError {
            throw error
        } catch {
            throw FileMetadataError("cannot write the file record \(folder)/\(record.id).json: \(error)")
        }
    }

    public func record(tenant: String, id: String) throws -> FileRecord? {
        guard Self.isSafeTenant(tenant), Self.isValidID(id) else { return nil }
        let path = directory + "/" + tenant + "/" + id + ".json"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw FileMetadataError("cannot read \(path)") }
        return try FileRecordCoding.decode(Array(data), from: path)
    }

    public func records(tenant: String?) throws -> [FileRecord] {
        let tenants: [String]
        if let tenant {
            tenants = Self.isSafeTenant(tenant) ? [tenant] : []
        } else {
            tenants = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        }
        var records: [FileRecord] = []
        for tenant in tenants where Self.isSafeTenant(tenant) {
            let folder = directory + "/" + tenant
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasSuffix(".json") {
                let id = name.dropLast(5)
                guard Self.isValidID(id), let record = try record(tenant: tenant, id: String(id)) else { continue }
                records.append(record)
            }
        }
        return records.sorted { ($0.receivedAt, $0.tenant, $0.id) < ($1.receivedAt, $1.tenant, $1.id) }
    }
}

/// Why file metadata could not be read or written.
public struct FileMetadataError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A file record's JSON, the same in every store.
public enum FileRecordCoding {
    public static func encode(_ record: FileRecord) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(record))
    }

    public static func decode(_ bytes: [UInt8], from source: String) throws -> FileRecord {
        do {
            return try JSONDecoder().decode(FileRecord.self, from: Data(bytes))
        } catch {
            throw FileMetadataError("\(source) is not a file record this Vigil wrote")
        }
    }
}
