/// Reads RFC 4180 CSV: comma-separated, optional double-quoted fields with `""` escapes and embedded newlines,
/// LF or CRLF line ends. Used for history, label, feature and model-input files.
public struct CSVReader: Sequence {
    let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        // A UTF-8 byte-order mark is not part of the first column's name.
        self.bytes = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
    }

    /// One record and the line it starts on (1-based).
    public struct Record {
        public var line: Int
        public var fields: [String]
    }

    /// Why a record could not be read.
    public struct Malformed: Error, Sendable, CustomStringConvertible {
        public var line: Int
        public var description: String { "line \(line): a quoted field is not closed" }
    }

    public func makeIterator() -> Iterator { Iterator(bytes: bytes) }

    public struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        /// Set when a quoted field runs to the end of the file.
        public private(set) var malformed: Malformed?

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        public mutating func next() -> Record? {
            guard index < bytes.count, malformed == nil else { return nil }
            let start = line
            var fields: [String] = []
            var field: [UInt8] = []
            var quoted = false
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if quoted {
                    if byte == UInt8(ascii: "\"") {
                        if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                            field.append(byte)
                            index += 1
                        } else {
                            quoted = false
                        }
                    } else {
                        if byte == UInt8(ascii: "\n") { line += 1 }
                        field.append(byte)
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\"") where field.isEmpty:
                    quoted = true
                case UInt8(ascii: ","):
                    fields.append(String(decoding: field, as: UTF8.self))
                    field.removeAll(keepingCapacity: true)
                case UInt8(ascii: "\n"):
                    line += 1
                    if field.last == UInt8(ascii: "\r") { field.removeLast() }
                    fields.append(String(decoding: field, as: UTF8.self))
                    return Record(line: start, fields: fields)
                default:
                    field.append(byte)
                }
            }
            if quoted {
                malformed = Malformed(line: start)
                return nil
            }
            if field.last == UInt8(ascii: "\r") { field.removeLast() }
            fields.append(String(decoding: field, as: UTF8.self))
            return Record(line: start, fields: fields)
        }
    }
}

/// Quotes a CSV field when it needs it.
public func csvField(_ text: String) -> String {
    guard text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) else {
        return text
    }
    var out = "\""
    for ch in text {
        out.append(ch)
        if ch == "\"" { out.append("\"") }
    }
    return out + "\""
}

/// A file-level problem (no header, a missing column, a bad option): nothing in the file can be used.
public struct FileError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What reading a file did: nothing fails silently.
public struct ReadSummary: Sendable, Equatable {
    public var read = 0
    public var accepted = 0
    /// Rejected rows by reason.
    public var rejected: [String: Int] = [:]
    /// The first rejections with their line numbers, for the user to fix.
    public var examples: [(line: Int, reason: String)] = []

    public init() {}

    public mutating func reject(line: Int, reason: String) {
        rejected[reason, default: 0] += 1
        if examples.count < 50 { examples.append((line, reason)) }
    }

    public var rejectedCount: Int { rejected.values.reduce(0, +) }

    /// A few lines: counts, then each reason with its count, then example lines.
    public func report(name: String) -> String {
        var out = "\(name): \(read) row(s) read, \(accepted) accepted, \(rejectedCount) rejected\n"
        for (reason, count) in rejected.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
            out += "  \(count) × \(reason)\n"
        }
        for example in examples.prefix(10) { out += "  line \(example.line): \(example.reason)\n" }
        return out
    }

    public static func == (lhs: ReadSummary, rhs: ReadSummary) -> Bool {
        lhs.read == rhs.read && lhs.accepted == rhs.accepted && lhs.rejected == rhs.rejected
            && lhs.examples.elementsEqual(rhs.examples, by: { $0 == $1 })
    }
}
