import VigilJSON

/// The ISO 20022 messages Vigil reads, with the versions each accepts.
public enum MessageKind: String, Sendable, Hashable, CaseIterable {
    /// FIToFICustomerCreditTransfer: payments to score.
    case pacs008 = "pacs.008"
    /// FIToFIPaymentStatusReport: the outcome of payments already scored.
    case pacs002 = "pacs.002"
    /// FIToFIPaymentCancellationRequest: recalls, `FRAD` ones being fraud reports.
    case camt056 = "camt.056"

    /// The accepted versions, the `NN` of `pacs.008.001.NN`.
    public var versions: ClosedRange<Int> {
        switch self {
        case .pacs008: 8...12
        case .pacs002: 10...14
        case .camt056: 8...11
        }
    }

    /// The message's element under `Document`.
    public var rootElement: String {
        switch self {
        case .pacs008: "FIToFICstmrCdtTrf"
        case .pacs002: "FIToFIPmtStsRpt"
        case .camt056: "FIToFIPmtCxlReq"
        }
    }

    /// The same element as Tazama's JSON names it (`FIToFICstmrCdt`, `FIToFIPmtSts`); accepted beside the ISO name.
    public var tazamaRootElement: String {
        switch self {
        case .pacs008: "FIToFICstmrCdt"
        case .pacs002: "FIToFIPmtSts"
        case .camt056: "FIToFIPmtCxlReq"
        }
    }

    /// `pacs.008.001.NN`.
    public func identifier(version: Int) -> String {
        rawValue + ".001." + (version < 10 ? "0" : "") + String(version)
    }

    /// The XML namespace of `version`.
    public func namespace(version: Int) -> String {
        "urn:iso:std:iso:20022:tech:xsd:" + identifier(version: version)
    }

    /// The version a message identifier (`pacs.008.001.10`) or namespace names, when it is this kind's.
    func version(of identifier: String) -> Int? {
        let prefix = rawValue + ".001."
        let bare = identifier.hasPrefix("urn:iso:std:iso:20022:tech:xsd:") ? String(identifier.dropFirst(31)) : identifier
        guard bare.hasPrefix(prefix), bare.utf8.count == prefix.utf8.count + 2, let version = Int(bare.dropFirst(prefix.utf8.count)) else {
            return nil
        }
        return version
    }

    /// The accepted namespaces, for messages that name them.
    public var acceptedNamespaces: [String] { versions.map { namespace(version: $0) } }
}

/// Why a whole message was refused. Never quotes the message's values.
public struct ISO20022Error: Error, Sendable, Hashable {
    public enum Code: String, Sendable, Hashable {
        /// Not well-formed XML or JSON (`readerError` says how, for XML).
        case malformed
        /// A construct refused as hostile: a DTD, an entity reference, a processing instruction.
        case refused
        /// A bound exceeded: depth, element or attribute count, text length, transactions per message.
        case limitExceeded = "limit-exceeded"
        /// Not the expected message, or a version Vigil does not read.
        case unsupportedMessage = "unsupported-message"
        /// A mandatory element is absent; `pointer` names it.
        case missingElement = "missing-element"
    }

    public var code: Code
    public var message: String
    /// The element at fault, as a path from the root (`/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt`).
    public var pointer: String?
    /// The XML reader's own finding, when it refused the body.
    public var readerError: XMLReaderError?

    public init(_ code: Code, _ message: String, pointer: String? = nil, readerError: XMLReaderError? = nil) {
        self.code = code
        self.message = message
        self.pointer = pointer
        self.readerError = readerError
    }
}

/// The format a message body is written in.
public enum MessageFormat: String, Sendable, Hashable, CaseIterable {
    case xml, json
}

/// A message of a known kind and version, read into the tree every mapping works on.
public struct ISO20022Document: Sendable, Hashable {
    public var kind: MessageKind
    public var version: Int
    /// The message element (`FIToFICstmrCdtTrf`…), in the version's namespace.
    public var message: XMLElement

    /// The path of the message element, the prefix of every pointer.
    public var root: String { "/Document/" + kind.rootElement }

    public init(kind: MessageKind, version: Int, message: XMLElement) {
        self.kind = kind
        self.version = version
        self.message = message
    }

    /// Reads a body that must be a `kind` message.
    public static func read(
        _ body: [UInt8], format: MessageFormat, kind: MessageKind, limits: XMLReader.Limits = .standard
    ) throws(ISO20022Error) -> ISO20022Document {
        switch format {
        case .xml: try readXML(body, kind: kind, limits: limits)
        case .json: try ISO20022JSON.read(body, kind: kind, limits: limits)
        }
    }

    static func readXML(_ body: [UInt8], kind: MessageKind, limits: XMLReader.Limits) throws(ISO20022Error) -> ISO20022Document {
        let root: XMLElement
        do {
            root = try XMLReader(limits: limits).read(body)
        } catch {
            throw ISO20022Error(Self.code(for: error.code), "The XML was refused: \(error.message) (byte \(error.byteOffset)).", readerError: error)
        }
        guard root.name == "Document" else {
            throw ISO20022Error(.unsupportedMessage, "The root element must be Document (an ISO 20022 \(kind.rawValue) message).", pointer: "/")
        }
        guard let version = kind.version(of: root.namespace), kind.versions.contains(version) else {
            throw unsupported(kind, pointer: "/Document")
        }
        guard let message = root.child(kind.rootElement) else {
            throw ISO20022Error(.missingElement, "The message element is missing.", pointer: "/Document/" + kind.rootElement)
        }
        return ISO20022Document(kind: kind, version: version, message: message)
    }

    static func unsupported(_ kind: MessageKind, pointer: String) -> ISO20022Error {
        ISO20022Error(
            .unsupportedMessage,
            "Expected a \(kind.rawValue) message in one of the namespaces \(kind.acceptedNamespaces.joined(separator: ", ")).",
            pointer: pointer
        )
    }

    static func code(for code: XMLReaderError.Code) -> ISO20022Error.Code {
        code.isLimit ? .limitExceeded : code.isRefusedConstruct ? .refused : .malformed
    }
}

/// Reading a message's elements with pointers: each mandatory element that is absent becomes an `ISO20022Error`.
struct ElementReader {
    /// A mandatory child of `element` at `pointer`.
    static func required(_ element: XMLElement, _ name: String, at pointer: String) throws(ISO20022Error) -> XMLElement {
        guard let child = element.child(name) else {
            throw ISO20022Error(.missingElement, "A mandatory element is missing.", pointer: pointer + "/" + name)
        }
        return child
    }

    /// A mandatory child's text, which must not be empty.
    static func requiredText(_ element: XMLElement, _ name: String, at pointer: String) throws(ISO20022Error) -> String {
        let child = try required(element, name, at: pointer)
        guard !child.text.isEmpty else {
            throw ISO20022Error(.missingElement, "A mandatory element is empty.", pointer: pointer + "/" + name)
        }
        return child.text
    }

    /// The text at a path of children, nil when any step is absent or the text is empty.
    static func text(_ element: XMLElement, _ path: String...) -> String? {
        var current = element
        for name in path {
            guard let next = current.child(name) else { return nil }
            current = next
        }
        return current.text.isEmpty ? nil : current.text
    }

    /// An amount element: its text and `Ccy` attribute, both mandatory.
    static func amount(_ element: XMLElement, _ name: String, at pointer: String) throws(ISO20022Error) -> (amount: String, currency: String) {
        let amount = try requiredText(element, name, at: pointer)
        guard let currency = element.child(name)?.attribute("Ccy"), !currency.isEmpty else {
            throw ISO20022Error(.missingElement, "The amount's currency (attribute Ccy) is missing.", pointer: pointer + "/" + name + "/@Ccy")
        }
        return (amount, currency)
    }

    /// The repeated children `name`, each with its pointer (`…/CdtTrfTxInf[2]`); at least one must be present.
    static func repeated(
        _ element: XMLElement, _ name: String, at pointer: String, limit: Int
    ) throws(ISO20022Error) -> [(element: XMLElement, pointer: String)] {
        let children = element.children(name)
        guard !children.isEmpty else {
            throw ISO20022Error(.missingElement, "A mandatory element is missing.", pointer: pointer + "/" + name + "[1]")
        }
        guard children.count <= limit else {
            throw ISO20022Error(
                .limitExceeded, "A message may hold at most \(limit) \(name) elements; split it.", pointer: pointer + "/" + name + "[\(limit + 1)]"
            )
        }
        return children.enumerated().map { ($1, pointer + "/" + name + "[\($0 + 1)]") }
    }
}
