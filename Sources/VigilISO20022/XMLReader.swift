/// Why a document was refused by `XMLReader`: what (`code`) and where (`byteOffset`), never its content.
public struct XMLReaderError: Error, Sendable, Hashable {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// A `<!DOCTYPE`: no DTD is ever read, so no external entity (XXE) and no entity expansion (billion laughs).
        case doctype
        /// An entity reference other than the five predefined ones (`&amp;` `&lt;` `&gt;` `&quot;` `&apos;`).
        case entityReference = "entity-reference"
        /// A processing instruction other than the XML declaration at the very start.
        case processingInstruction = "processing-instruction"
        /// The XML declaration names an encoding other than UTF-8.
        case unsupportedEncoding = "unsupported-encoding"
        case tooDeep = "too-deep"
        case tooManyElements = "too-many-elements"
        case tooManyAttributes = "too-many-attributes"
        case textTooLong = "text-too-long"
        case malformedUTF8 = "malformed-utf8"
        /// An end tag that does not close the open element, or an element left open at the end.
        case unbalancedTags = "unbalanced-tags"
        /// A prefix with no namespace declaration in scope.
        case unboundPrefix = "unbound-prefix"
        case duplicateAttribute = "duplicate-attribute"
        /// Anything else that is not well-formed XML.
        case malformed

        /// Whether the code is a limit (depth, counts, lengths) rather than a construct refused outright.
        public var isLimit: Bool { [.tooDeep, .tooManyElements, .tooManyAttributes, .textTooLong].contains(self) }
        /// Whether the code is a construct refused as hostile (DTDs, entities, processing instructions).
        public var isRefusedConstruct: Bool { [.doctype, .entityReference, .processingInstruction].contains(self) }
    }

    public var code: Code
    /// Where in the document (bytes from the start) the problem was found.
    public var byteOffset: Int
    /// What is wrong, in words that never quote the document.
    public var message: String

    public init(_ code: Code, at byteOffset: Int, _ message: String) {
        self.code = code
        self.byteOffset = byteOffset
        self.message = message
    }
}

/// A small XML 1.0 reader for untrusted message bodies: it builds an `XMLElement` tree and refuses, rather than
/// interprets, everything a payment message never needs.
///
/// Unlike Foundation's `XMLParser` (libxml2), it has no code that reads a DTD or expands a declared entity: a
/// `<!DOCTYPE` is an error, as is any entity reference other than the five predefined ones and numeric character
/// references. Depth, element, attribute and text sizes are bounded (`Limits`), so the tree it returns is at most
/// a small multiple of the body. Namespaces are resolved (prefixes and the default namespace, scoped per element).
/// It works on bytes, iteratively (no recursion), and checks UTF-8 before it starts.
public struct XMLReader: Sendable {
    /// The bounds a document must stay within.
    public struct Limits: Sendable, Hashable {
        /// Deepest element nesting, the root being depth 1. ISO 20022 payment messages nest about 12 deep.
        public var maxDepth: Int
        /// Elements in the whole document.
        public var maxElements: Int
        /// Attributes (namespace declarations included) on one element.
        public var maxAttributes: Int
        /// Bytes of character data in one element, and in one attribute value, after references are resolved.
        public var maxTextBytes: Int

        public init(maxDepth: Int = 32, maxElements: Int = 20_000, maxAttributes: Int = 16, maxTextBytes: Int = 4096) {
            self.maxDepth = maxDepth
            self.maxElements = maxElements
            self.maxAttributes = maxAttributes
            self.maxTextBytes = maxTextBytes
        }

        public static let standard = Limits()
    }

    public static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"
    public static let xmlnsNamespace = "http://www.w3.org/2000/xmlns/"

    public var limits: Limits

    public init(limits: Limits = .standard) {
        self.limits = limits
    }

    /// The document's root element.
    public func read(_ bytes: [UInt8]) throws(XMLReaderError) -> XMLElement {
        if let offset = Self.firstInvalidUTF8(bytes) {
            throw XMLReaderError(.malformedUTF8, at: offset, "The document is not valid UTF-8.")
        }
        var parser = Parser(bytes: bytes, limits: limits)
        return try parser.document()
    }

    /// The offset of the first byte that does not start a valid UTF-8 sequence (overlong forms and surrogates
    /// included), or nil.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var i = 0
        while i < bytes.count {
            let lead = bytes[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var value: UInt32
            let minimum: UInt32
            switch lead {
            case 0xC2...0xDF: (length, value, minimum) = (2, UInt32(lead & 0x1F), 0x80)
            case 0xE0...0xEF: (length, value, minimum) = (3, UInt32(lead & 0x0F), 0x800)
            case 0xF0...0xF4: (length, value, minimum) = (4, UInt32(lead & 0x07), 0x10000)
            default: return i
            }
            guard i + length <= bytes.count else { return i }
            for k in 1..<length {
                let continuation = bytes[i + k]
                guard continuation & 0xC0 == 0x80 else { return i }
                value = value << 6 | UInt32(continuation & 0x3F)
            }
            guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else { return i }
            i += length
        }
        return nil
    }

    struct Parser {
        let bytes: [UInt8]
        let limits: Limits
        var index = 0
        var elements = 0

        init(bytes: [UInt8], limits: Limits) {
            self.bytes = bytes
            self.limits = limits
        }

        /// An element being read: its qualified name (to match the end tag), namespace scope and content so far.
        struct Open {
            var qualifiedName: ArraySlice<UInt8>
            var element: XMLElement
            var scope: [String: String]
        }

        func fail(_ code: XMLReaderError.Code, _ message: String, at offset: Int? = nil) -> XMLReaderError {
            XMLReaderError(code, at: offset ?? index, message)
        }

        var atEnd: Bool { index >= bytes.count }

        func peek(_ literal: String, at offset: Int? = nil) -> Bool {
            let start = offset ?? index
            let utf8 = literal.utf8
            guard start + utf8.count <= bytes.count else { return false }
            return bytes[start..<(start + utf8.count)].elementsEqual(utf8)
        }

        static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        static func isNameStart(_ b: UInt8) -> Bool {
            (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x3A || b >= 0x80
        }
        static func isNameChar(_ b: UInt8) -> Bool {
            isNameStart(b) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E
        }

        mutating func skipSpace() {
            while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
        }

        mutating func document() throws(XMLReaderError) -> XMLElement {
            if peek("\u{FEFF}") { index += 3 }
            if peek("<?xml"), index + 5 < bytes.count, Self.isSpace(bytes[index + 5]) || bytes[index + 5] == UInt8(ascii: "?") {
                try declaration()
            }
            try misc()
            guard !atEnd, bytes[index] == UInt8(ascii: "<") else {
                throw fail(.malformed, atEnd ? "The document has no root element." : "Expected the root element.")
            }
            let root = try elementTree()
            try misc()
            guard atEnd else { throw fail(.malformed, "Only comments and white space may follow the root element.") }
            return root
        }

        /// The XML declaration: version, and an encoding that must be UTF-8.
        mutating func declaration() throws(XMLReaderError) {
            let start = index
            guard let end = find("?>") else { throw fail(.malformed, "The XML declaration is not closed.") }
            let declaration = Array(bytes[(start + 5)..<end])
            index = end + 2
            let key = Array("encoding".utf8)
            guard let at = (0..<max(0, declaration.count - key.count + 1)).first(where: { declaration[$0..<($0 + key.count)].elementsEqual(key) })
            else { return }
            let rest = declaration[(at + key.count)...].drop { $0 == 0x20 || $0 == UInt8(ascii: "=") || $0 == 0x22 || $0 == 0x27 }
            let name = String(decoding: rest.prefix { $0 != 0x22 && $0 != 0x27 }, as: UTF8.self).lowercased()
            guard name == "utf-8" || name == "utf8" else {
                throw fail(.unsupportedEncoding, "The document must be encoded in UTF-8.", at: start)
            }
        }

        func find(_ literal: String) -> Int? {
            var offset = index
            while offset < bytes.count {
                if peek(literal, at: offset) { return offset }
                offset += 1
            }
            return nil
        }

        /// Comments and white space between top-level constructs; DTDs and processing instructions refused.
        mutating func misc() throws(XMLReaderError) {
            while true {
                skipSpace()
                if peek("<!--") {
                    try comment()
                } else if peek("<!DOCTYPE") || peek("<!doctype") {
                    throw fail(.doctype, "Document type declarations (DTDs) are refused: no DTD or external entity is ever read.")
                } else if peek("<?") {
                    throw fail(.processingInstruction, "Processing instructions are refused.")
                } else if peek("<!") {
                    throw fail(.malformed, "Markup declarations are not allowed outside the root element.")
                } else {
                    return
                }
            }
        }

        mutating func comment() throws(XMLReaderError) {
            let start = index
            index += 4
            guard let end = find("--") else { throw fail(.malformed, "A comment is not closed.", at: start) }
            guard end + 2 < bytes.count, bytes[end + 2] == UInt8(ascii: ">") else {
                throw fail(.malformed, "A comment must not contain '--'.", at: end)
            }
            index = end + 3
        }

        mutating func name() throws(XMLReaderError) -> ArraySlice<UInt8> {
            let start = index
            guard index < bytes.count, Self.isNameStart(bytes[index]) else { throw fail(.malformed, "Expected a name.") }
            while index < bytes.count, Self.isNameChar(bytes[index]) { index += 1 }
            return bytes[start..<index]
        }

        /// Splits a qualified name at its single colon; a name with more than one, or an empty part, is malformed.
        func split(_ qualified: ArraySlice<UInt8>, at offset: Int) throws(XMLReaderError) -> (prefix: String?, local: String) {
            guard let colon = qualified.firstIndex(of: UInt8(ascii: ":")) else {
                return (nil, String(decoding: qualified, as: UTF8.self))
            }
            let prefix = qualified[qualified.startIndex..<colon]
            let local = qualified[(colon + 1)...]
            guard !prefix.isEmpty, !local.isEmpty, !local.contains(UInt8(ascii: ":")), let first = local.first, Self.isNameStart(first) else {
                throw fail(.malformed, "A qualified name must be prefix:local.", at: offset)
            }
            return (String(decoding: prefix, as: UTF8.self), String(decoding: local, as: UTF8.self))
        }

        /// The root element and everything inside it, read with an explicit stack.
        mutating func elementTree() throws(XMLReaderError) -> XMLElement {
            var stack: [Open] = []
            let base = ["xml": XMLReader.xmlNamespace]
            while true {
                guard !atEnd else {
                    throw fail(.unbalancedTags, "The document ends before every element is closed.")
                }
                if bytes[index] == UInt8(ascii: "<") {
                    if peek("</") {
                        let tagStart = index
                        index += 2
                        let qualified = try name()
                        skipSpace()
                        guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw fail(.malformed, "An end tag is not closed.") }
                        index += 1
                        guard let open = stack.popLast(), open.qualifiedName.elementsEqual(qualified) else {
                            throw fail(.unbalancedTags, "An end tag does not match the element it closes.", at: tagStart)
                        }
                        if stack.isEmpty { return open.element }
                        stack[stack.count - 1].element.children.append(open.element)
                    } else if peek("<!--") {
                        try comment()
                    } else if peek("<![CDATA[") {
                        guard !stack.isEmpty else { throw fail(.malformed, "CDATA outside an element.") }
                        index += 9
                        guard let end = find("]]>") else { throw fail(.malformed, "A CDATA section is not closed.") }
                        try append(bytes[index..<end], to: &stack[stack.count - 1].element.text)
                        index = end + 3
                    } else if peek("<!DOCTYPE") || peek("<!ENTITY") || peek("<!") {
                        throw fail(.doctype, "Markup declarations (DTDs, entities) are refused.")
                    } else if peek("<?") {
                        throw fail(.processingInstruction, "Processing instructions are refused.")
                    } else {
                        let (open, selfClosing) = try startTag(scope: stack.last?.scope ?? base, depth: stack.count + 1)
                        if selfClosing {
                            if stack.isEmpty { return open.element }
                            stack[stack.count - 1].element.children.append(open.element)
                        } else {
                            stack.append(open)
                        }
                    }
                } else {
                    guard !stack.isEmpty else { throw fail(.malformed, "Text outside the root element.") }
                    let start = index
                    while index < bytes.count, bytes[index] != UInt8(ascii: "<") { index += 1 }
                    let resolved = try resolve(bytes[start..<index], offset: start, inAttribute: false)
                    try append(resolved[...], to: &stack[stack.count - 1].element.text)
                }
            }
        }

        mutating func append(_ text: ArraySlice<UInt8>, to target: inout String) throws(XMLReaderError) {
            guard target.utf8.count + text.count <= limits.maxTextBytes else {
                throw fail(.textTooLong, "An element's text is longer than \(limits.maxTextBytes) bytes.")
            }
            if text.contains(where: { $0 < 0x20 && !Self.isSpace($0) }) {
                throw fail(.malformed, "Control characters are not allowed in XML.")
            }
            target += String(decoding: text, as: UTF8.self)
        }

        /// A start tag from `<` to `>`: the element with its namespaces resolved, and whether it closed itself.
        mutating func startTag(scope inherited: [String: String], depth: Int) throws(XMLReaderError) -> (Open, Bool) {
            let tagStart = index
            guard depth <= limits.maxDepth else {
                throw fail(.tooDeep, "Elements are nested deeper than \(limits.maxDepth) levels.")
            }
            elements += 1
            guard elements <= limits.maxElements else {
                throw fail(.tooManyElements, "The document has more than \(limits.maxElements) elements.")
            }
            index += 1
            let qualified = try name()
            var raw: [(name: ArraySlice<UInt8>, value: String, offset: Int)] = []
            var selfClosing = false
            while true {
                let hadSpace = index < bytes.count && Self.isSpace(bytes[index])
                skipSpace()
                guard index < bytes.count else { throw fail(.malformed, "A start tag is not closed.") }
                if bytes[index] == UInt8(ascii: ">") {
                    index += 1
                    break
                }
                if peek("/>") {
                    index += 2
                    selfClosing = true
                    break
                }
                guard hadSpace else { throw fail(.malformed, "Attributes must be separated by white space.") }
                let attributeStart = index
                let attributeName = try name()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw fail(.malformed, "An attribute has no value.") }
                index += 1
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                    throw fail(.malformed, "An attribute value must be quoted.")
                }
                let quote = bytes[index]
                index += 1
                let valueStart = index
                while index < bytes.count, bytes[index] != quote {
                    guard bytes[index] != UInt8(ascii: "<") else { throw fail(.malformed, "'<' is not allowed in an attribute value.") }
                    index += 1
                }
                guard index < bytes.count else { throw fail(.malformed, "An attribute value is not closed.") }
                let resolved = try resolve(bytes[valueStart..<index], offset: valueStart, inAttribute: true)
                index += 1
                guard resolved.count <= limits.maxTextBytes else {
                    throw fail(.textTooLong, "An attribute value is longer than \(limits.maxTextBytes) bytes.", at: attributeStart)
                }
                guard !raw.contains(where: { $0.name.elementsEqual(attributeName) }) else {
                    throw fail(.duplicateAttribute, "An element names the same attribute twice.", at: attributeStart)
                }
                raw.append((attributeName, String(decoding: resolved, as: UTF8.self), attributeStart))
                guard raw.count <= limits.maxAttributes else {
                    throw fail(.tooManyAttributes, "An element has more than \(limits.maxAttributes) attributes.", at: attributeStart)
                }
            }
            var scope = inherited
            for attribute in raw {
                let (prefix, local) = try split(attribute.name, at: attribute.offset)
                if prefix == nil, local == "xmlns" {
                    scope[""] = attribute.value
                } else if prefix == "xmlns" {
                    guard !attribute.value.isEmpty, local != "xmlns" else {
                        throw fail(.malformed, "A namespace prefix cannot be undeclared or named xmlns.", at: attribute.offset)
                    }
                    scope[local] = attribute.value
                }
            }
            var attributes: [XMLAttribute] = []
            for attribute in raw {
                let (prefix, local) = try split(attribute.name, at: attribute.offset)
                if prefix == "xmlns" || (prefix == nil && local == "xmlns") { continue }
                var namespace = ""
                if let prefix {
                    guard let bound = scope[prefix] else {
                        throw fail(.unboundPrefix, "An attribute's prefix is not bound to a namespace.", at: attribute.offset)
                    }
                    namespace = bound
                }
                guard !attributes.contains(where: { $0.namespace == namespace && $0.name == local }) else {
                    throw fail(.duplicateAttribute, "An element names the same attribute twice.", at: attribute.offset)
                }
                attributes.append(XMLAttribute(namespace: namespace, name: local, value: attribute.value))
            }
            let (prefix, local) = try split(qualified, at: tagStart + 1)
            let namespace: String
            if let prefix {
                guard let bound = scope[prefix] else {
                    throw fail(.unboundPrefix, "An element's prefix is not bound to a namespace.", at: tagStart)
                }
                namespace = bound
            } else {
                namespace = scope[""] ?? ""
            }
            let element = XMLElement(namespace: namespace, name: local, attributes: attributes)
            return (Open(qualifiedName: qualified, element: element, scope: scope), selfClosing)
        }

        /// Character data with its references resolved: the five predefined entities and numeric character
        /// references only. Attribute values have their white space normalised to spaces (XML 1.0 §3.3.3).
        func resolve(_ raw: ArraySlice<UInt8>, offset: Int, inAttribute: Bool) throws(XMLReaderError) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(raw.count)
            var i = raw.startIndex
            while i < raw.endIndex {
                let byte = raw[i]
                if byte == UInt8(ascii: "&") {
                    guard let semicolon = raw[i...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                        throw fail(.malformed, "An '&' must start a reference ending in ';'.", at: i)
                    }
                    let reference = raw[(i + 1)..<semicolon]
                    switch String(decoding: reference, as: UTF8.self) {
                    case "amp": out.append(UInt8(ascii: "&"))
                    case "lt": out.append(UInt8(ascii: "<"))
                    case "gt": out.append(UInt8(ascii: ">"))
                    case "quot": out.append(UInt8(ascii: "\""))
                    case "apos": out.append(UInt8(ascii: "'"))
                    case let text where text.hasPrefix("#"):
                        let digits = text.dropFirst()
                        let value = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                        guard let value, !digits.hasPrefix("x+"), !digits.hasPrefix("+"), let scalar = Unicode.Scalar(value), Self.isXMLChar(value) else {
                            throw fail(.malformed, "A character reference names no character XML allows.", at: i)
                        }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default:
                        throw fail(.entityReference, "Entity references other than &amp; &lt; &gt; &quot; &apos; are refused.", at: i)
                    }
                    i = semicolon + 1
                } else {
                    guard byte >= 0x20 || Self.isSpace(byte) else {
                        throw fail(.malformed, "Control characters are not allowed in XML.", at: i)
                    }
                    if inAttribute, byte == 0x09 || byte == 0x0A || byte == 0x0D {
                        out.append(0x20)
                    } else if byte == 0x0D {
                        // XML 1.0 §2.11: CR LF and lone CR become LF.
                        if i + 1 < raw.endIndex, raw[i + 1] == 0x0A {} else { out.append(0x0A) }
                    } else {
                        out.append(byte)
                    }
                    i += 1
                }
            }
            return out
        }

        static func isXMLChar(_ value: UInt32) -> Bool {
            value == 0x9 || value == 0xA || value == 0xD || (0x20...0xD7FF).contains(value) || (0xE000...0xFFFD).contains(value)
                || (0x10000...0x10FFFF).contains(value)
        }
    }
}
