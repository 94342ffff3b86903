import ArgumentParser
import Foundation
import VigilDomain
import VigilFiles
import VigilPostgres
import VigilProtection
import VigilServer

struct FilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files", abstract: "Daily files received from banks: their status, rows and errors.", subcommands: [List.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List received daily files, oldest first: id, tenant, type, status, rows, accepted, rejected, name, reason.",
            discussion: "From the data directory's file-metadata/, or with --control-plane postgres://… from PostgreSQL (docs/intake.md)."
        )

        @Option(help: "Only this tenant's files.") var tenant: String?
        @Flag(help: "One JSON object per line (the whole record, row errors included) instead of the table.") var json = false
        @OptionGroup var data: DataDirectoryOption

        func run() async throws {
            let store: any FileMetadataStore
            if let plane = try await openControlPlane(data.resolvedControlPlane) as? PostgresControlPlane {
                store = PostgresFileStore(plane: plane)
            } else {
                try requireDataDirectory("files list", data.dataDir)
                store = DataDirectoryFileStore(dataDirectory: data.dataDir)
            }
            let records: [FileRecord]
            do {
                records = try store.records(tenant: tenant)
            } catch {
                throw CLIError("files list: \(error)")
            }
            if json {
                for record in records { print(String(decoding: try FileRecordCoding.encode(record), as: UTF8.self)) }
                return
            }
            print(["id", "tenant", "type", "status", "rows", "accepted", "rejected", "name", "reason"].joined(separator: "\t"))
            for r in records {
                let fields = [
                    r.id, r.tenant, r.type?.rawValue ?? "-", r.status.rawValue, String(r.rows), String(r.accepted), String(r.rejected), r.name,
                    r.reason ?? "",
                ]
                print(fields.joined(separator: "\t"))
            }
        }
    }
}
