public import VigilDomain

/// Where the intake keeps files in the data directory (docs/intake.md, "The data directory").
///
/// - `inbox/TENANT/`: files waiting for the pipeline (the SFTP chroot's tenant home, HTTPS uploads once whole).
/// - `inbox/.upload/`: HTTPS uploads being written; never read by the pipeline.
/// - `outbox/TENANT/`: each processed file's `NAME.summary.json` and `NAME.errors.csv`.
/// - `quarantine/TENANT/`: files the scanner found malware in, as received, named by their id.
public struct IntakeLayout: Sendable, Hashable {
    public let dataDirectory: String

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    public var inboxRoot: String { dataDirectory + "/inbox" }
    public var uploads: String { inboxRoot + "/.upload" }
    public func inbox(tenant: String) -> String { inboxRoot + "/" + tenant }
    public func outbox(tenant: String) -> String { dataDirectory + "/outbox/" + tenant }
    public func quarantine(tenant: String) -> String { dataDirectory + "/quarantine/" + tenant }
}

/// Why a file is refused before it is read.
public struct IntakeRefusal: Error, Sendable, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// The checks a received file's name must pass before anything else happens to it.
public enum IntakeFileName {
    /// The file's type, or why the name is refused: it must be a plain file name (no `/`, not hidden, at most
    /// 255 bytes of printable ASCII) and a daily file's name (``DailyFileName``: a known type, a version this Vigil
    /// reads, `.csv` or `.csv.gpg`).
    public static func check(_ name: String) -> Result<DailyFileType, IntakeRefusal> {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { return .failure(IntakeRefusal("the file has no name")) }
        guard bytes.count <= 255, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "\\") }),
            bytes.first != UInt8(ascii: ".")
        else {
            return .failure(IntakeRefusal("a file name must be 1–255 printable ASCII characters without spaces or slashes, not starting with '.'"))
        }
        do {
            return .success(try DailyFileName(parsing: name).type)
        } catch {
            return .failure(IntakeRefusal(error.reason))
        }
    }
}

