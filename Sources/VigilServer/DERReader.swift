/// A bounds-checked reader of DER (ITU-T X.690) tag-length-value items: enough of ASN.1 to read the parts of an
/// X.509 certificate a tenant is bound by. It never traps; malformed input reads as nil.
struct DERReader {
    /// One item: its tag, its content octets and the whole encoding (tag, length and content).
    struct Item {
        let tag: UInt8
        let content: ArraySlice<UInt8>
        let encoded: ArraySlice<UInt8>

        /// A reader over the content of a constructed item.
        var reader: DERReader { DERReader(content) }
    }

    private var rest: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        rest = bytes
    }

    var isAtEnd: Bool { rest.isEmpty }

    /// The next item, without consuming it.
    func peek() -> Item? {
        var copy = self
        return copy.next()
    }

    /// Consumes the next item.
    mutating func next() -> Item? {
        let start = rest.startIndex
        guard rest.count >= 2 else { return nil }
        let tag = rest[start]
        // Multi-byte tags never occur in the parts of a certificate read here.
        guard tag & 0x1f != 0x1f else { return nil }
        var index = start + 1
        let first = rest[index]
        index += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            // The long form, at most four length octets; 0x80 (indefinite) is not DER.
            let octets = Int(first & 0x7f)
            guard (1...4).contains(octets), rest.endIndex - index >= octets else { return nil }
            for _ in 0..<octets {
                length = length << 8 | Int(rest[index])
                index += 1
            }
        }
        guard length <= rest.endIndex - index else { return nil }
        let end = index + length
        let item = Item(tag: tag, content: rest[index..<end], encoded: rest[start..<end])
        rest = rest[end...]
        return item
    }

    /// Consumes the next item if it has `tag`; otherwise consumes nothing.
    mutating func next(tag: UInt8) -> Item? {
        guard let item = peek(), item.tag == tag else { return nil }
        _ = next()
        return item
    }

    /// Tags of the universal types used here.
    enum Tag {
        static let boolean: UInt8 = 0x01
        static let integer: UInt8 = 0x02
        static let octetString: UInt8 = 0x04
        static let objectIdentifier: UInt8 = 0x06
        static let utf8String: UInt8 = 0x0c
        static let numericString: UInt8 = 0x12
        static let printableString: UInt8 = 0x13
        static let teletexString: UInt8 = 0x14
        static let ia5String: UInt8 = 0x16
        static let universalString: UInt8 = 0x1c
        static let bmpString: UInt8 = 0x1e
        static let sequence: UInt8 = 0x30
        static let set: UInt8 = 0x31
    }

    /// The dotted-decimal form of an OBJECT IDENTIFIER's content octets, e.g. `2.5.4.3`.
    static func dottedOID(_ content: ArraySlice<UInt8>) -> String? {
        guard !content.isEmpty, content.last! & 0x80 == 0 else { return nil }
        var arcs: [UInt64] = []
        var value: UInt64 = 0
        var fresh = true
        for byte in content {
            // A leading 0x80 pads an arc, which DER forbids; more than 63 bits cannot be held.
            if fresh, byte == 0x80 { return nil }
            guard value >> 57 == 0 else { return nil }
            value = value << 7 | UInt64(byte & 0x7f)
            fresh = byte & 0x80 == 0
            if fresh {
                arcs.append(value)
                value = 0
            }
        }
        let first = arcs[0]
        let head: [UInt64] = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80]
        return (head + arcs.dropFirst()).map(String.init).joined(separator: ".")
    }

    /// The content octets of an OBJECT IDENTIFIER in dotted-decimal form; nil unless it is a valid OID.
    static func encodeOID(_ dotted: some StringProtocol) -> [UInt8]? {
        let parts = dotted.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }) else { return nil }
        // No leading zeros, so one OID has one spelling.
        guard parts.allSatisfy({ $0 == "0" || $0.first != "0" }) else { return nil }
        let arcs = parts.compactMap { UInt64($0) }
        guard arcs.count == parts.count, arcs[0] <= 2, arcs[0] == 2 || arcs[1] < 40 else { return nil }
        let (combined, overflow) = (arcs[0] * 40).addingReportingOverflow(arcs[1])
        guard !overflow else { return nil }
        var out: [UInt8] = []
        for arc in [combined] + arcs.dropFirst(2) {
            var groups: [UInt8] = [UInt8(arc & 0x7f)]
            var rest = arc >> 7
            while rest > 0 {
                groups.append(UInt8(rest & 0x7f) | 0x80)
                rest >>= 7
            }
            out += groups.reversed()
        }
        return out
    }

    /// The text of a string-typed value (UTF8String, PrintableString, IA5String, …); nil for other types or
    /// invalid text.
    static func text(tag: UInt8, content: ArraySlice<UInt8>) -> String? {
        switch tag {
        case Tag.utf8String, Tag.printableString, Tag.ia5String, Tag.numericString:
            return String(validating: content, as: UTF8.self)
        case Tag.teletexString:
            // T.61 in theory; every issuer that still writes it writes Latin-1.
            return String(String.UnicodeScalarView(content.map { Unicode.Scalar($0) }))
        case Tag.bmpString:
            guard content.count % 2 == 0 else { return nil }
            let units = stride(from: content.startIndex, to: content.endIndex, by: 2).map {
                UInt16(content[$0]) << 8 | UInt16(content[$0 + 1])
            }
            return String(validating: units, as: UTF16.self)
        case Tag.universalString:
            guard content.count % 4 == 0 else { return nil }
            var scalars = String.UnicodeScalarView()
            for i in stride(from: content.startIndex, to: content.endIndex, by: 4) {
                let value = content[i...(i + 3)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                guard let scalar = Unicode.Scalar(value) else { return nil }
                scalars.append(scalar)
            }
            return String(scalars)
        default:
            return nil
        }
    }
}
