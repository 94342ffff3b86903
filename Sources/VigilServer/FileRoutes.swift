import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VigilDomain
public import VigilFiles
import VigilProtection

/// What the daily-file routes need: where uploads go (the data directory's inbox), where file metadata is kept,
/// and the intake's limits.
public struct FileEndpoints: Sendable {
    public let store: any FileMetadataStore
    public let layout: IntakeLayout
    public let settings: IntakeSettings

    public init(store: any FileMetadataStore, layout: IntakeLayout, settings: IntakeSettings) {
        self.store = store
        self.layout = layout
        self.settings = settings
    }
}

extension VigilResponder {
    /// `POST /v1/files?name=…`: streams the body to `DATA/inbox/.upload/`, hashing it on the way, then moves it into
    /// the tenant's inbox for the pipeline and answers 202 with the file's id. The same bytes already loaded or
    /// rejected are not taken again: the upload is recorded as a duplicate of them.
    func uploadFile(_ request: Request, context: Context) async throws -> Response {
        guard let files else { throw ProblemDetails(.notFound, "This node takes no daily files.") }
        let tenant = try authenticateForData(request, context: context)
        let name = request.uri.queryParameters.get("name") ?? ""
        let type: DailyFileType
        switch IntakeFileName.check(name) {
        case .success(let checked): type = checked
        case .failure(let refusal):
            throw ProblemDetails(.invalidFileName, refusal.reason + ". Name the file as in docs/data-formats.md, e.g. ?name=fraud-reports.2026-12-04.csv.gpg.")
        }
        let limit = files.settings.maxFileBytes
        let tooLarge = ProblemDetails(.payloadTooLarge, "A daily file must be at most \(limit) bytes (intakeMaxFileBytes).")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw tooLarge }

        let layout = files.layout
        let upload = try await blocking { try UploadFile(directory: layout.uploads) }
        var hasher = SHA256()
        var size = 0
        do {
            for try await chunk in request.body {
                size += chunk.readableBytes
                guard size <= limit else { throw tooLarge }
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                let bytes = Array(chunk.readableBytesView)
                try await blocking { try upload.write(bytes) }
            }
            try await blocking { try upload.finish() }
        } catch {
            try? await blocking { upload.discard() }
            throw error
        }
        let hash = hasher.finalize().withUnsafeBytes { Hex.encode($0) }
        let bytes = size
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let store = files.store
        let tenantName = tenant.config.name
        let outcome: UploadOutcome = try await blocking {
            defer { upload.discard() }
            if let earlier = try store.record(tenant: tenantName, id: hash), earlier.status.settlesContent {
                var duplicate = FileRecord(
                    id: try store.nextDuplicateID(tenant: tenantName, hash: hash), tenant: tenantName, type: type, name: name, hash: hash,
                    bytes: bytes, status: .duplicate, receivedAt: now
                )
                duplicate.duplicateOf = hash
                duplicate.finishedAt = now
                duplicate.reason = "the same bytes were already \(earlier.status.rawValue) as file \(hash)"
                try store.save(duplicate)
                return .recorded(duplicate)
            }
            guard try upload.place(in: layout.inbox(tenant: tenantName), as: name) else { return .nameInUse }
            var record = FileRecord(id: hash, tenant: tenantName, type: type, name: name, hash: hash, bytes: bytes, status: .received, receivedAt: now)
            // An earlier refused or quarantined arrival of these bytes is tried again: its record starts over.
            if let earlier = try store.record(tenant: tenantName, id: hash), !earlier.status.isFinal { record = earlier }
            try store.save(record)
            return .recorded(record)
        }
        switch outcome {
        case .nameInUse:
            throw ProblemDetails(
                .fileInProgress, "A file of this name is still in this tenant's inbox; wait for its status to be final, or use another name."
            )
        case .recorded(let record):
            context.logger.info(
                "Received a daily file over HTTPS",
                metadata: ["vigil.tenant": .string(tenantName), "vigil.file.id": .string(record.id), "vigil.file.status": .string(record.status.rawValue)]
            )
            return Response(
                status: .accepted,
                headers: [.contentType: "application/json", .location: "/v1/files/" + record.id],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: try FileRecordCoding.encode(record)))
            )
        }
    }

    /// `GET /v1/files/{id}`: the file's metadata and error report, for the tenant's own files only.
    func fileRecord(_ id: String, _ request: Request, context: Context) async throws -> Response {
        guard let files else { throw ProblemDetails(.notFound, "This node takes no daily files.") }
        let tenant = try authenticateForData(request, context: context)
        let store = files.store
        let name = tenant.config.name
        guard let record = try await blocking({ try store.record(tenant: name, id: id) }) else {
            throw ProblemDetails(.notFound, "This tenant has no file with this id.")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: try FileRecordCoding.encode(record)))
        )
    }

    /// The scoring route's checks, in its order: a credential (API key or token, and a bound client certificate),
    /// the tenant's allow-list and its regions. For the routes that bring data rather than payments (daily files,
    /// fraud reports), which do not spend the usage plan.
    func authenticateForData(_ request: Request, context: Context) throws -> Tenant {
        let tenant = try authenticate(request, tenants: state.current.tenants, context: context)
        if let allowList = tenant.allowList, !allowList.allows(context.remoteAddress) {
            throw ProblemDetails(.addressNotAllowed, "This tenant does not accept requests from this network address.")
        }
        guard tenant.isServed(in: state.link.region) else {
            throw ProblemDetails(.wrongRegion, "This tenant's data is kept only in other regions; send its files and reports to a node there.")
        }
        return tenant
    }
}

enum UploadOutcome: Sendable {
    case recorded(FileRecord)
    case nameInUse
}

/// An upload being written to `DATA/inbox/.upload/`, outside every tenant's inbox so the pipeline never sees it half
/// written; placed into the inbox by a hard link, which never replaces a file already there.
final class UploadFile: Sendable {
    let path: String
    let fd: Int32

    init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = directory + "/" + UUID().uuidString.lowercased()
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileMetadataError("cannot create an upload file in \(directory): \(String(cString: strerror(errno)))") }
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw FileMetadataError("cannot write an upload: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    func finish() throws {
        guard fsync(fd) == 0 else { throw FileMetadataError("cannot sync an upload: \(String(cString: strerror(errno)))") }
    }

    /// Links the upload into `inbox` as `name`; false when a file of that name is already there.
    func place(in inbox: String, as name: String) throws -> Bool {
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let target = inbox + "/" + name
        guard link(path, target) == 0 else {
            if errno == EEXIST { return false }
            throw FileMetadataError("cannot move an upload into the inbox: \(String(cString: strerror(errno)))")
        }
        let dir = open(inbox, O_RDONLY | O_DIRECTORY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
        return true
    }

    /// Closes and removes the upload file (what was placed in the inbox stays, under its other name).
    func discard() {
        close(fd)
        unlink(path)
    }
}
