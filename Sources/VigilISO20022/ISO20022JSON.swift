import VigilJSON

/// The ISO 20022 JSON rendering Tazama's `tms-service` accepts: `{"TxTp": "pacs.008.001.10", "FIToFICstmrCdt": {…}}`.
///
/// Element names are the keys; an element's text is a string (a number or boolean is read as its text); a repeated
/// element is an array (a single one may be an object); an amount is `{"Amt": {"Amt": "250.00", "Ccy": "EUR"}}` (the
/// amount a string or a number). The message element may be named as Tazama names it (`FIToFICstmrCdt`,
/// `FIToFIPmtSts`) or as ISO does (`FIToFICstmrCdtTrf`, `FIToFIPmtStsRpt`). `TxTp` names kind and version, as the
/// namespace does in XML. The JSON becomes the same `XMLElement` tree as the XML, so one mapping serves both.
public enum ISO20022JSON {
    /// Reads a JSON message into the element tree, under the same limits as XML.
    public static func read(_ body: [UInt8], kind: MessageKind, limits: XMLReader.Limits = .standard) throws(ISO20022Error) -> ISO20022Document {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw ISO20022Error(.malformed, "The body is not valid JSON: \(error.code) at byte \(error.byteOffset).")
        }
        guard case .object(let members) = value else {
            throw ISO20022Error(.malformed, "The body must be a JSON object with TxTp and the message element.")
        }
        guard case .string(let type)? = value["TxTp"] else {
            throw ISO20022Error(.missingElement, "TxTp (the message identifier, such as \(kind.identifier(version: kind.versions.upperBound))) is missing.", pointer: "/TxTp")
        }
        guard let version = kind.version(of: type), kind.versions.contains(version) else {
            throw ISO20022Error(
                .unsupportedMessage,
                "Expected TxTp to name a \(kind.rawValue) version: one of \(kind.versions.map { kind.identifier(version: $0) }.joined(separator: ", ")).",
                pointer: "/TxTp"
            )
        }
        let namespace = kind.namespace(version: version)
        guard let member = members.first(where: { $0.key == kind.rootElement || $0.key == kind.tazamaRootElement }),
              case .object = member.value
        else {
            throw ISO20022Error(.missingElement, "The message element is missing.", pointer: "/Document/" + kind.rootElement)
        }
        var converter = Converter(namespace: namespace, limits: limits)
        var message = try converter.elements(kind.rootElement, member.value, depth: 2)[0]
        message.name = kind.rootElement
        return ISO20022Document(kind: kind, version: version, message: message)
    }

    struct Converter {
        let namespace: String
        let limits: XMLReader.Limits
        var count = 0

        func limit(_ code: XMLReaderError.Code, _ message: String) -> ISO20022Error {
            ISO20022Error(.limitExceeded, message, readerError: XMLReaderError(code, at: 0, message))
        }

        /// The elements a member `name` stands for: one, or one per array item; none for null.
        mutating func elements(_ name: String, _ value: JSONValue, depth: Int) throws(ISO20022Error) -> [XMLElement] {
            guard depth <= limits.maxDepth else { throw limit(.tooDeep, "Elements are nested deeper than \(limits.maxDepth) levels.") }
            switch value {
            case .null:
                return []
            case .array(let items):
                var out: [XMLElement] = []
                for item in items {
                    if case .array = item { throw ISO20022Error(.malformed, "An array may not hold arrays: a repeated element is an array of its values.") }
                    out += try elements(name, item, depth: depth)
                }
                return out
            case .string(let text):
                return [try leaf(name, text)]
            case .number(let text):
                return [try leaf(name, text)]
            case .bool(let flag):
                return [try leaf(name, flag ? "true" : "false")]
            case .object(let members):
                count += 1
                guard count <= limits.maxElements else { throw limit(.tooManyElements, "The message has more than \(limits.maxElements) elements.") }
                if members.count == 1, members[0].key == "Amt", case .object(let amount) = members[0].value, amount.count == 2,
                   let currency = amount.first(where: { $0.key == "Ccy" }), case .string(let code) = currency.value,
                   let figure = amount.first(where: { $0.key == "Amt" }) {
                    let text: String
                    switch figure.value {
                    case .string(let value), .number(let value): text = value
                    default: throw ISO20022Error(.malformed, "An amount's Amt must be a string or a number.")
                    }
                    var element = try leaf(name, text)
                    element.attributes = [XMLAttribute(name: "Ccy", value: code)]
                    return [element]
                }
                var element = XMLElement(namespace: namespace, name: name)
                for member in members {
                    element.children += try elements(member.key, member.value, depth: depth + 1)
                }
                return [element]
            }
        }

        mutating func leaf(_ name: String, _ text: String) throws(ISO20022Error) -> XMLElement {
            count += 1
            guard count <= limits.maxElements else { throw limit(.tooManyElements, "The message has more than \(limits.maxElements) elements.") }
            guard text.utf8.count <= limits.maxTextBytes else { throw limit(.textTooLong, "An element's text is longer than \(limits.maxTextBytes) bytes.") }
            return XMLElement(namespace: namespace, name: name, text: text)
        }
    }

    /// The message in this rendering, the message element under Tazama's name.
    public static func render(_ document: ISO20022Document) -> [UInt8] {
        var json = JSONWriter(capacity: 4096)
        json.beginObject()
        json.key("TxTp")
        json.string(document.kind.identifier(version: document.version))
        json.key(document.kind.tazamaRootElement)
        write(document.message, into: &json)
        json.endObject()
        return json.bytes
    }

    static func write(_ element: XMLElement, into json: inout JSONWriter) {
        if let currency = element.attribute("Ccy") {
            json.beginObject()
            json.key("Amt")
            json.beginObject()
            json.key("Amt")
            json.string(element.text)
            json.key("Ccy")
            json.string(currency)
            json.endObject()
            json.endObject()
            return
        }
        guard !element.children.isEmpty else {
            json.string(element.text)
            return
        }
        json.beginObject()
        var names: [String] = []
        for child in element.children where !names.contains(child.name) {
            names.append(child.name)
        }
        for name in names {
            let group = element.children.filter { $0.name == name }
            json.key(name)
            if group.count == 1 {
                write(group[0], into: &json)
            } else {
                json.beginArray()
                for child in group { write(child, into: &json) }
                json.endArray()
            }
        }
        json.endObject()
    }
}

/// The XML rendering of a document, as a bank's payment hub writes it.
public enum ISO20022XML {
    public static func render(_ document: ISO20022Document) -> [UInt8] {
        let namespace = document.kind.namespace(version: document.version)
        var out = Array(#"<?xml version="1.0" encoding="UTF-8"?>"#.utf8)
        out += Array("\n<Document xmlns=\"\(namespace)\">".utf8)
        write(document.message, parentNamespace: namespace, into: &out)
        out += Array("</Document>\n".utf8)
        return out
    }

    /// Any element tree as XML: each element un-prefixed, its namespace declared as the default where it changes.
    /// Attributes are written by local name, so a tree whose attributes have no namespace reads back the same.
    public static func render(_ element: XMLElement) -> [UInt8] {
        var out: [UInt8] = []
        write(element, parentNamespace: "", into: &out)
        return out
    }

    static func write(_ element: XMLElement, parentNamespace: String, into out: inout [UInt8]) {
        out += Array("<\(element.name)".utf8)
        if element.namespace != parentNamespace {
            out += Array(" xmlns=\"".utf8)
            escape(element.namespace, inAttribute: true, into: &out)
            out.append(UInt8(ascii: "\""))
        }
        for attribute in element.attributes {
            out += Array(" \(attribute.name)=\"".utf8)
            escape(attribute.value, inAttribute: true, into: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: ">"))
        escape(element.text, inAttribute: false, into: &out)
        for child in element.children { write(child, parentNamespace: element.namespace, into: &out) }
        out += Array("</\(element.name)>".utf8)
    }

    /// Escapes markup, and the white space a reader would normalise: CR everywhere (it becomes LF), tab and LF in
    /// attribute values (they become spaces), so the text reads back unchanged.
    static func escape(_ text: String, inAttribute: Bool, into out: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case 0x0D: out += Array("&#13;".utf8)
            case 0x09 where inAttribute: out += Array("&#9;".utf8)
            case 0x0A where inAttribute: out += Array("&#10;".utf8)
            case UInt8(ascii: "&"): out += Array("&amp;".utf8)
            case UInt8(ascii: "<"): out += Array("&lt;".utf8)
            case UInt8(ascii: ">"): out += Array("&gt;".utf8)
            case UInt8(ascii: "\""): out += Array("&quot;".utf8)
            default: out.append(byte)
            }
        }
    }
}
