import PostgresNIO
public import VigilFiles
import VigilProtection

/// File metadata in PostgreSQL, beside the control plane it shares a database and a connection with: one row of
/// `vigil_files` per record (tenant, id, hash, status, received time, and the record's JSON, the same the data
/// directory's files hold). Its table comes with the control plane's schema migrations.
public struct PostgresFileStore: FileMetadataStore {
    public let plane: PostgresControlPlane

    public init(plane: PostgresControlPlane) {
        self.plane = plane
    }

    public func save(_ record: FileRecord) throws {
        guard let body = String(validating: try FileRecordCoding.encode(record), as: UTF8.self) else {
            throw FileMetadataError("a file record must encode as UTF-8 JSON")
        }
        try plane.withConnection { connection in
            _ = try plane.run(
                connection,
                """
                INSERT INTO vigil_files (tenant, id, hash, status, received_at, body)
                VALUES (\(record.tenant), \(record.id), \(record.hash), \(record.status.rawValue), \(record.receivedAt), \(body)::jsonb)
                ON CONFLICT (tenant, id) DO UPDATE
                SET hash = EXCLUDED.hash, status = EXCLUDED.status, received_at = EXCLUDED.received_at, body = EXCLUDED.body,
                    updated_at = now()
                """
            )
        }
    }

    public func record(tenant: String, id: String) throws -> FileRecord? {
        let rows = try plane.withConnection { connection in
            try plane.run(connection, "SELECT body::text FROM vigil_files WHERE tenant = \(tenant) AND id = \(id)")
        }
        guard let row = rows.first else { return nil }
        return try FileRecordCoding.decode(Array(try plane.decode(row, String.self).utf8), from: plane.url.description)
    }

    public func records(tenant: String?) throws -> [FileRecord] {
        let rows = try plane.withConnection { connection in
            if let tenant {
                try plane.run(connection, "SELECT body::text FROM vigil_files WHERE tenant = \(tenant) ORDER BY received_at, tenant, id")
            } else {
                try plane.run(connection, "SELECT body::text FROM vigil_files ORDER BY received_at, tenant, id")
            }
        }
        return try rows.map { try FileRecordCoding.decode(Array(try plane.decode($0, String.self).utf8), from: plane.url.description) }
    }
}
