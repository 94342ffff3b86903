public import VigilDomain

/// Why a daily file is refused whole: its name, its encoding, its header or its shape. The reason says what is wrong
/// and what to do, and never quotes the file's cells.
public struct FileRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// A received daily file's name, `TYPE[.vN].REST.csv[.gpg]` (docs/data-formats.md), e.g.
/// `fraud-reports.v1.2026-12-04.csv.gpg`.
public struct DailyFileName: Sendable, Hashable {
    public var type: DailyFileType
    /// The format version: the `vN` part right after the type, 1 when there is none.
    public var version: Int
    /// The name ends in `.gpg` or `.pgp`: the file is PGP-encrypted and signed.
    public var isEncrypted: Bool

    public init(type: DailyFileType, version: Int = 1, isEncrypted: Bool) {
        self.type = type
        self.version = version
        self.isEncrypted = isEncrypted
    }

    /// The format versions this Vigil reads.
    public static let supportedVersions = 1...1

    /// - Parameter name: the file's name without its directory.
    /// - Throws: ``FileRefusal`` when the first part is not a known type, the version is not one Vigil reads, or the
    ///   name does not end in `.csv`, `.csv.gpg` or `.csv.pgp`.
    public init(parsing name: String) throws(FileRefusal) {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        let known = DailyFileType.allCases.map(\.rawValue).joined(separator: ", ")
        guard let type = DailyFileType(rawValue: String(parts[0])) else {
            throw FileRefusal("the file name's first part is not a daily file type; name the file TYPE.DATE.csv[.gpg] with TYPE one of: \(known)")
        }
        var version = 1
        if parts.count > 1, let number = Self.version(parts[1]) {
            guard let number, Self.supportedVersions.contains(number) else {
                throw FileRefusal("unsupported format version \(parts[1]) of \(type.rawValue); this Vigil reads v1")
            }
            version = number
        }
        var rest = parts.dropFirst()
        let isEncrypted = rest.last.map { $0.lowercased() == "gpg" || $0.lowercased() == "pgp" } ?? false
        if isEncrypted { rest = rest.dropLast() }
        guard rest.last?.lowercased() == "csv" else {
            throw FileRefusal("the file name must end in .csv, .csv.gpg or .csv.pgp, as in \(type.rawValue).2026-12-04.csv.gpg")
        }
        self.type = type
        self.version = version
        self.isEncrypted = isEncrypted
    }

    /// `v12` → 12; `v` followed by anything but digits, or a number too large → `.some(nil)`; not a version part → nil.
    static func version(_ part: Substring) -> Int?? {
        guard part.first == "v", part.count > 1, part.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return .some(Int(part.dropFirst()))
    }
}
