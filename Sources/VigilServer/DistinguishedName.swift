/// An X.509 distinguished name (a certificate's subject), written as an RFC 4514 string.
///
/// The string form is RFC 4514's, which is also what `openssl x509 -noout -subject -nameopt RFC2253` prints for
/// ASCII names: the most specific part first, `CN=bank-a-client,O=Bank A,C=GB`. Attribute types are the short
/// names `CN`, `L`, `ST`, `O`, `OU`, `C`, `STREET`, `DC`, `UID`, `emailAddress` and `serialNumber` (any case) or
/// a dotted OID such as `2.5.4.3`; a value is text with `\`-escapes (`\,`, `\+`, `\2C`) or `#` and the hex of its
/// DER encoding; spaces around `,`, `+` and `=` are ignored. A name written so matches a certificate's subject
/// (`matches(_:)`) when it has the same RDNs in the same order, each with the same attributes in any order and
/// exactly the same values: case matters in values, not in type names, and a `#hex` value must be the same DER.
public struct DistinguishedName: Sendable, Equatable, CustomStringConvertible {
    /// One attribute: its type as a dotted OID and its value, as text, as DER, or (read from a certificate) both.
    public struct Attribute: Sendable, Equatable {
        public let type: String
        /// The value's text, when it is a string type (or was written as text).
        public let text: String?
        /// The value's DER encoding (tag, length, content): always set when read from a certificate, set when
        /// written as `#hex`.
        public let der: [UInt8]?

        /// Whether `other`, read from a certificate, is this attribute: the same type and, as this one was written,
        /// the same text or the same encoding.
        func matches(_ other: Attribute) -> Bool {
            guard type == other.type else { return false }
            if let text { return text == other.text }
            return der != nil && der == other.der
        }
    }

    /// The relative distinguished names in encoding order (least specific, e.g. the country, first); each holds
    /// one attribute or, rarely, several.
    public let rdns: [[Attribute]]

    /// A failure to read a distinguished name; says where, never repeats the text (it may name a person).
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    static let shortNames: [(name: String, oid: String)] = [
        ("CN", "2.5.4.3"), ("L", "2.5.4.7"), ("ST", "2.5.4.8"), ("O", "2.5.4.10"), ("OU", "2.5.4.11"), ("C", "2.5.4.6"),
        ("STREET", "2.5.4.9"), ("DC", "0.9.2342.19200300.100.1.25"), ("UID", "0.9.2342.19200300.100.1.1"),
        ("emailAddress", "1.2.840.113549.1.9.1"), ("serialNumber", "2.5.4.5"),
    ]

    /// What may follow a `\` in a value besides two hex digits (RFC 4514, section 3).
    static let escapable: [UInt8] = Array("\" #+,;<=>\\".utf8)

    static func oid(forShortName name: some StringProtocol) -> String? {
        shortNames.first { $0.name.utf8.elementsEqual(name.utf8, by: { $0 | 0x20 == $1 | 0x20 }) }?.oid
    }

    static func shortName(forOID oid: String) -> String? {
        shortNames.first { $0.oid == oid }?.name
    }

    /// Reads an RFC 4514 string.
    /// - Throws: `Invalid` naming the part (`RDN 2`, `attribute 1`) that is wrong.
    public init(parsing text: String) throws(Invalid) {
        let bytes = Array(text.utf8)
        guard bytes.contains(where: { $0 != 0x20 }) else { throw Invalid(description: "is empty") }
        var rdns: [[Attribute]] = []
        var current: [Attribute] = []
        var i = 0
        func skipSpaces() { while i < bytes.count, bytes[i] == 0x20 { i += 1 } }
        while true {
            let place = "RDN \(rdns.count + 1)" + (current.isEmpty ? "" : " attribute \(current.count + 1)")
            skipSpaces()
            let typeStart = i
            while i < bytes.count, bytes[i] != UInt8(ascii: "="), bytes[i] != UInt8(ascii: ","), bytes[i] != UInt8(ascii: "+") {
                i += 1
            }
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { throw Invalid(description: "\(place) has no '='") }
            var typeEnd = i
            while typeEnd > typeStart, bytes[typeEnd - 1] == 0x20 { typeEnd -= 1 }
            let typeText = String(decoding: bytes[typeStart..<typeEnd], as: UTF8.self)
            i += 1
            guard !typeText.isEmpty else { throw Invalid(description: "\(place) has no attribute type before '='") }
            let type: String
            if let oid = Self.oid(forShortName: typeText) {
                type = oid
            } else if typeText.first!.isNumber, let content = DERReader.encodeOID(typeText), let dotted = DERReader.dottedOID(content[...]) {
                type = dotted
            } else {
                let names = Self.shortNames.map(\.name).joined(separator: ", ")
                throw Invalid(description: "\(place): the attribute type is neither one of \(names) nor a dotted OID")
            }
            skipSpaces()
            let attribute: Attribute
            if i < bytes.count, bytes[i] == UInt8(ascii: "#") {
                i += 1
                var hex: [UInt8] = []
                while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != UInt8(ascii: "+") {
                    hex.append(bytes[i])
                    i += 1
                }
                while hex.last == 0x20 { hex.removeLast() }
                guard let encoded = Self.decodeHex(hex) else {
                    throw Invalid(description: "\(place): a value after '#' must be an even number of hex digits")
                }
                var reader = DERReader(encoded[...])
                guard reader.next() != nil, reader.isAtEnd else {
                    throw Invalid(description: "\(place): the value after '#' is not one DER-encoded item")
                }
                attribute = Attribute(type: type, text: nil, der: encoded)
            } else {
                var raw: [UInt8] = []
                var significant = 0
                while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != UInt8(ascii: "+") {
                    if bytes[i] == UInt8(ascii: "\\") {
                        guard i + 1 < bytes.count else { throw Invalid(description: "\(place): the value ends in a lone '\\'") }
                        let next = bytes[i + 1]
                        if i + 2 < bytes.count, let high = Self.nibble(next), let low = Self.nibble(bytes[i + 2]) {
                            raw.append(high << 4 | low)
                            i += 3
                        } else if Self.escapable.contains(next) {
                            raw.append(next)
                            i += 2
                        } else {
                            throw Invalid(description: "\(place): '\\' must be followed by one of \" #+,;<=>\\ or two hex digits")
                        }
                        significant = raw.count
                    } else {
                        raw.append(bytes[i])
                        if bytes[i] != 0x20 { significant = raw.count }
                        i += 1
                    }
                }
                raw.removeLast(raw.count - significant)
                guard !raw.isEmpty else { throw Invalid(description: "\(place) has an empty value") }
                guard let decoded = String(validating: raw, as: UTF8.self) else {
                    throw Invalid(description: "\(place): the escaped bytes of the value are not UTF-8")
                }
                attribute = Attribute(type: type, text: decoded, der: nil)
            }
            current.append(attribute)
            if i == bytes.count {
                rdns.append(current)
                break
            }
            if bytes[i] == UInt8(ascii: "+") {
                i += 1
                continue
            }
            rdns.append(current)
            current = []
            i += 1
        }
        // The string lists the most specific RDN first; the encoding, last.
        self.rdns = rdns.reversed()
    }

    /// Reads the DER encoding of a Name (a SEQUENCE of SETs of type-and-value SEQUENCEs).
    init?(der item: DERReader.Item) {
        guard item.tag == DERReader.Tag.sequence else { return nil }
        var names = item.reader
        var rdns: [[Attribute]] = []
        while !names.isAtEnd {
            guard let set = names.next(tag: DERReader.Tag.set) else { return nil }
            var members = set.reader
            var rdn: [Attribute] = []
            while !members.isAtEnd {
                guard let pair = members.next(tag: DERReader.Tag.sequence) else { return nil }
                var fields = pair.reader
                guard let oid = fields.next(tag: DERReader.Tag.objectIdentifier), let type = DERReader.dottedOID(oid.content),
                    let value = fields.next(), fields.isAtEnd
                else { return nil }
                rdn.append(Attribute(type: type, text: DERReader.text(tag: value.tag, content: value.content), der: Array(value.encoded)))
            }
            guard !rdn.isEmpty else { return nil }
            rdns.append(rdn)
        }
        self.rdns = rdns
    }

    /// Whether `other` (read from a certificate) is this name: the same RDNs in the same order, each with the same
    /// attributes in any order.
    public func matches(_ other: DistinguishedName) -> Bool {
        guard rdns.count == other.rdns.count else { return false }
        for (mine, theirs) in zip(rdns, other.rdns) {
            guard mine.count == theirs.count else { return false }
            var unmatched = theirs
            for attribute in mine {
                guard let index = unmatched.firstIndex(where: attribute.matches) else { return false }
                unmatched.remove(at: index)
            }
        }
        return true
    }

    /// The RFC 4514 string: most specific RDN first; a value as text under its short name, as `#` and the hex of
    /// its DER encoding otherwise.
    public var description: String {
        rdns.reversed().map { rdn in
            rdn.map { attribute in
                let name = Self.shortName(forOID: attribute.type)
                if let text = attribute.text, name != nil || attribute.der == nil {
                    return (name ?? attribute.type) + "=" + Self.escape(text)
                }
                return (name ?? attribute.type) + "=#" + Self.hex(attribute.der ?? [])
            }.joined(separator: "+")
        }.joined(separator: ",")
    }

    static func escape(_ text: String) -> String {
        var out = ""
        let scalars = Array(text.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            switch scalar {
            case "\"", "+", ",", ";", "<", ">", "\\", "=":
                out += "\\" + String(scalar)
            case "\0":
                out += "\\00"
            case " " where index == 0 || index == scalars.count - 1, "#" where index == 0:
                out += "\\" + String(scalar)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func decodeHex(_ digits: [UInt8]) -> [UInt8]? {
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] }, as: UTF8.self)
    }
}
