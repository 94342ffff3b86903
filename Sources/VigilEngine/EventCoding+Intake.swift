public import VigilDomain
import VigilJSON

/// The event-log record of a loaded daily-file record (``IntakeEvent``): binary in the log (format byte
/// ``EventCoding/RecordFormat/intake1``), JSON `{"kind":"intake",…}` in exports and on the stream
/// (docs/event-log.md, docs/schemas/vigil-event.v1.schema.json). Like every record it holds tokens, never plaintext.
extension EventCoding {
    /// The `kind` of an intake record's JSON form.
    public static let intakeKind = "intake"

    /// An intake record in the compact binary form.
    public static func record(_ event: IntakeEvent) -> [UInt8] {
        var writer = RecordWriter(capacity: 256)
        writer.byte(RecordFormat.intake1)
        writer.write(event)
        return writer.bytes
    }

    /// An intake record's JSON form: `{"fileId":…,"kind":"intake","loadedAt":…,"record":{"type":…,…},"row":…,
    /// "tenant":…}`, keys sorted as in every event.
    public static func encode(_ event: IntakeEvent) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.write(event)
        return writer.bytes
    }
}

/// The tag byte of an intake record's body (binary form) and its `type` (JSON form).
enum IntakeRecordTag: UInt8, CaseIterable {
    case history = 1, fraudReport, status, directory, accountLink, entitlements

    var name: String {
        switch self {
        case .history: "history"
        case .fraudReport: "fraudReport"
        case .status: "status"
        case .directory: "directory"
        case .accountLink: "accountLink"
        case .entitlements: "entitlements"
        }
    }

    init(_ record: IntakeRecord) {
        switch record {
        case .history: self = .history
        case .fraudReport: self = .fraudReport
        case .status: self = .status
        case .directory: self = .directory
        case .accountLink: self = .accountLink
        case .entitlements: self = .entitlements
        }
    }
}

/// Bits of the optional fields of reports, statuses and account links.
enum IntakeFlags {
    static let paymentId: UInt8 = 1 << 0
    static let uetr: UInt8 = 1 << 1
    static let amountLost: UInt8 = 1 << 2
    static let reportingSide: UInt8 = 1 << 3
    static let creditorAccount: UInt8 = 1 << 4
    static let reasonCode: UInt8 = 1 << 5
    static let card: UInt8 = 1 << 6
    static let products: UInt8 = 1 << 0
    static let validTo: UInt8 = 1 << 1
}

// MARK: - Binary

extension RecordWriter {
    mutating func write(_ event: IntakeEvent) {
        string(event.tenant)
        string(event.fileId)
        signed(Int64(event.row))
        instant(event.loadedAt)
        byte(IntakeRecordTag(event.record).rawValue)
        switch event.record {
        case .history(let payment):
            string(payment.paymentId)
            write(payment)
        case .fraudReport(let report):
            write(report)
        case .status(let status):
            write(status)
        case .directory(let entry):
            enumeration(entry.code.type)
            string(entry.code.value)
            string(entry.institution)
            enumeration(entry.type)
            enumeration(entry.status)
        case .accountLink(let link):
            byte(link.card != nil ? IntakeFlags.card : 0)
            token(link.account)
            token(link.customer)
            if let card = link.card { token(card) }
        case .entitlements(let entitlements):
            varint(UInt64(entitlements.count))
            for entitlement in entitlements {
                var flags: UInt8 = 0
                if entitlement.products != nil { flags |= IntakeFlags.products }
                if entitlement.validTo != nil { flags |= IntakeFlags.validTo }
                byte(flags)
                enumeration(entitlement.codeType)
                string(entitlement.from)
                string(entitlement.to)
                var sides: UInt8 = 0
                for (index, side) in Perspective.allCases.enumerated() where entitlement.perspectives.contains(side) { sides |= 1 << index }
                byte(sides)
                if let products = entitlement.products {
                    varint(UInt64(products.count))
                    for product in products.sorted() { string(product) }
                }
                instant(entitlement.validFrom)
                if let validTo = entitlement.validTo { instant(validTo) }
            }
        }
    }

    /// A fraud report's body: what an intake record of type `fraudReport` and a label of kind `fraudReport` hold.
    mutating func write(_ report: FraudReport) {
        var flags: UInt8 = 0
        if report.paymentId != nil { flags |= IntakeFlags.paymentId }
        if report.uetr != nil { flags |= IntakeFlags.uetr }
        if report.amountLost != nil { flags |= IntakeFlags.amountLost }
        if report.reportingSide != nil { flags |= IntakeFlags.reportingSide }
        if report.creditorAccount != nil { flags |= IntakeFlags.creditorAccount }
        byte(flags)
        if let paymentId = report.paymentId { string(paymentId) }
        if let uetr = report.uetr { string(uetr) }
        instant(report.reportedAt)
        enumeration(report.fraudType)
        if let money = report.amountLost {
            signed(money.minorUnits)
            string(money.currency.code)
        }
        if let side = report.reportingSide { enumeration(side) }
        if let account = report.creditorAccount { token(account) }
    }

    /// A final status's body: what an intake record of type `status` and an outcome label hold.
    mutating func write(_ status: PaymentStatusReport) {
        var flags: UInt8 = 0
        if status.paymentId != nil { flags |= IntakeFlags.paymentId }
        if status.uetr != nil { flags |= IntakeFlags.uetr }
        if status.reasonCode != nil { flags |= IntakeFlags.reasonCode }
        if status.creditorAccount != nil { flags |= IntakeFlags.creditorAccount }
        byte(flags)
        if let paymentId = status.paymentId { string(paymentId) }
        if let uetr = status.uetr { string(uetr) }
        enumeration(status.status)
        if let reasonCode = status.reasonCode { string(reasonCode) }
        instant(status.at)
        if let account = status.creditorAccount { token(account) }
    }
}

extension RecordReader {
    mutating func intakeEvent() throws(EventDecodingError) -> IntakeEvent {
        let tenant = try string("tenant")
        let fileId = try string("fileId")
        let row = try int("row")
        let loadedAt = try instant("loadedAt")
        let tagByte = try byte("record")
        guard let tag = IntakeRecordTag(rawValue: tagByte) else { throw invalid("record", "is not a kind of intake record this version reads") }
        let record: IntakeRecord
        switch tag {
        case .history:
            let paymentId = try string("record.paymentId")
            record = .history(try payment(paymentId: paymentId))
        case .fraudReport:
            record = .fraudReport(try fraudReport())
        case .status:
            record = .status(try statusReport())
        case .directory:
            let codeType = try enumeration("record.code.type", as: InstitutionCodeType.self)
            let code = try string("record.code.value")
            let institution = try string("record.institution")
            let type = try enumeration("record.institutionType", as: InstitutionType.self)
            let status = try enumeration("record.status", as: InstitutionStatus.self)
            record = .directory(DirectoryEntry(
                code: InstitutionCode(type: codeType, value: code), institution: institution, type: type, status: status
            ))
        case .accountLink:
            let flags = try byte("record")
            guard flags & ~IntakeFlags.card == 0 else { throw invalid("record", "has bits this version does not know") }
            let account = try token("record.account")
            let customer = try token("record.customer")
            let card = try flags & IntakeFlags.card != 0 ? token("record.card") : nil
            record = .accountLink(AccountLink(account: account, customer: customer, card: card))
        case .entitlements:
            let count = try self.count("record.entitlements", unit: 8)
            var entitlements: [Entitlement] = []
            for _ in 0..<count {
                let flags = try byte("record.entitlements")
                guard flags & ~(IntakeFlags.products | IntakeFlags.validTo) == 0 else {
                    throw invalid("record.entitlements", "has bits this version does not know")
                }
                let codeType = try enumeration("record.entitlements.codeType", as: EntitlementCodeType.self)
                let from = try string("record.entitlements.from")
                let to = try string("record.entitlements.to")
                let sides = try byte("record.entitlements.perspectives")
                var perspectives: Set<Perspective> = []
                for (index, side) in Perspective.allCases.enumerated() where sides & (1 << index) != 0 { perspectives.insert(side) }
                var products: Set<String>?
                if flags & IntakeFlags.products != 0 {
                    let productCount = try self.count("record.entitlements.products")
                    var set: Set<String> = []
                    for _ in 0..<productCount { set.insert(try string("record.entitlements.products")) }
                    products = set
                }
                let validFrom = try instant("record.entitlements.validFrom")
                let validTo = try flags & IntakeFlags.validTo != 0 ? instant("record.entitlements.validTo") : nil
                entitlements.append(Entitlement(
                    codeType: codeType, from: from, to: to, perspectives: perspectives, products: products, validFrom: validFrom,
                    validTo: validTo
                ))
            }
            record = .entitlements(entitlements)
        }
        return IntakeEvent(tenant: tenant, fileId: fileId, row: row, loadedAt: loadedAt, record: record)
    }

    /// The body ``RecordWriter/write(_:)-(FraudReport)`` writes.
    mutating func fraudReport() throws(EventDecodingError) -> FraudReport {
        let flags = try byte("record")
        guard flags & ~(IntakeFlags.paymentId | IntakeFlags.uetr | IntakeFlags.amountLost | IntakeFlags.reportingSide | IntakeFlags.creditorAccount) == 0
        else { throw invalid("record", "has bits this version does not know") }
        let paymentId = try flags & IntakeFlags.paymentId != 0 ? string("record.paymentId") : nil
        let uetr = try flags & IntakeFlags.uetr != 0 ? string("record.uetr") : nil
        let reportedAt = try instant("record.reportedAt")
        let fraudType = try enumeration("record.fraudType", as: FraudType.self)
        var amountLost: Money?
        if flags & IntakeFlags.amountLost != 0 {
            let minorUnits = try signed("record.amountLost")
            guard minorUnits > 0 else { throw invalid("record.amountLost", "is not a positive amount") }
            guard let currency = Currency(code: try string("record.amountLost.currency")) else {
                throw invalid("record.amountLost.currency", "is not an active ISO 4217 code")
            }
            amountLost = Money(minorUnits: minorUnits, currency: currency)
        }
        let side = try flags & IntakeFlags.reportingSide != 0 ? enumeration("record.reportingSide", as: Perspective.self) : nil
        let account = try flags & IntakeFlags.creditorAccount != 0 ? token("record.creditorAccount") : nil
        return FraudReport(
            paymentId: paymentId, uetr: uetr, reportedAt: reportedAt, fraudType: fraudType, amountLost: amountLost,
            reportingSide: side, creditorAccount: account
        )
    }

    /// The body ``RecordWriter/write(_:)-(PaymentStatusReport)`` writes.
    mutating func statusReport() throws(EventDecodingError) -> PaymentStatusReport {
        let flags = try byte("record")
        guard flags & ~(IntakeFlags.paymentId | IntakeFlags.uetr | IntakeFlags.reasonCode | IntakeFlags.creditorAccount) == 0 else {
            throw invalid("record", "has bits this version does not know")
        }
        let paymentId = try flags & IntakeFlags.paymentId != 0 ? string("record.paymentId") : nil
        let uetr = try flags & IntakeFlags.uetr != 0 ? string("record.uetr") : nil
        let status = try enumeration("record.status", as: PaymentFinalStatus.self)
        let reasonCode = try flags & IntakeFlags.reasonCode != 0 ? string("record.reasonCode") : nil
        let at = try instant("record.at")
        let account = try flags & IntakeFlags.creditorAccount != 0 ? token("record.creditorAccount") : nil
        return PaymentStatusReport(
            paymentId: paymentId, uetr: uetr, status: status, reasonCode: reasonCode, at: at, creditorAccount: account
        )
    }
}

// MARK: - JSON

extension JSONWriter {
    mutating func write(_ event: IntakeEvent) {
        beginObject()
        member("fileId")
        string(event.fileId)
        member("kind")
        string(EventCoding.intakeKind)
        member("loadedAt")
        write(event.loadedAt)
        member("record")
        write(event.record)
        member("row")
        int(event.row)
        member("tenant")
        string(event.tenant)
        endObject()
    }

    mutating func write(_ record: IntakeRecord) {
        beginObject()
        switch record {
        case .history(let payment):
            member("payment")
            write(payment)
        case .fraudReport(let report):
            if let money = report.amountLost {
                member("amountLost")
                write(money)
            }
            if let account = report.creditorAccount {
                member("creditorAccount")
                write(account)
            }
            member("fraudType")
            string(report.fraudType.rawValue)
            if let paymentId = report.paymentId {
                member("paymentId")
                string(paymentId)
            }
            member("reportedAt")
            write(report.reportedAt)
            if let side = report.reportingSide {
                member("reportingSide")
                string(side.rawValue)
            }
        case .status(let status):
            member("at")
            write(status.at)
            if let account = status.creditorAccount {
                member("creditorAccount")
                write(account)
            }
            if let paymentId = status.paymentId {
                member("paymentId")
                string(paymentId)
            }
            if let reasonCode = status.reasonCode {
                member("reasonCode")
                string(reasonCode)
            }
            member("status")
            string(status.status.rawValue)
        case .directory(let entry):
            member("code")
            beginObject()
            member("type")
            string(entry.code.type.rawValue)
            member("value")
            string(entry.code.value)
            endObject()
            member("institution")
            string(entry.institution)
            member("institutionType")
            string(entry.type.rawValue)
            member("status")
            string(entry.status.rawValue)
        case .accountLink(let link):
            member("account")
            write(link.account)
            if let card = link.card {
                member("card")
                write(card)
            }
            member("customer")
            write(link.customer)
        case .entitlements(let entitlements):
            member("entitlements")
            beginArray()
            for entitlement in entitlements {
                beginObject()
                member("codeType")
                string(entitlement.codeType.rawValue)
                member("from")
                string(entitlement.from)
                member("perspectives")
                beginArray()
                for side in Perspective.allCases where entitlement.perspectives.contains(side) { string(side.rawValue) }
                endArray()
                if let products = entitlement.products {
                    member("products")
                    beginArray()
                    for product in products.sorted() { string(product) }
                    endArray()
                }
                member("to")
                string(entitlement.to)
                member("validFrom")
                write(entitlement.validFrom)
                if let validTo = entitlement.validTo {
                    member("validTo")
                    write(validTo)
                }
                endObject()
            }
            endArray()
        }
        member("type")
        string(IntakeRecordTag(record).name)
        if case .fraudReport(let report) = record, let uetr = report.uetr {
            member("uetr")
            string(uetr)
        }
        if case .status(let status) = record, let uetr = status.uetr {
            member("uetr")
            string(uetr)
        }
        endObject()
    }
}

extension EventObject {
    func intake() throws(EventDecodingError) -> IntakeEvent {
        let record = try object("record")
        let type = try record.string("type")
        guard let tag = IntakeRecordTag.allCases.first(where: { $0.name == type }) else {
            throw record.invalid("type", "is not one of \(IntakeRecordTag.allCases.map(\.name).joined(separator: ", "))")
        }
        return IntakeEvent(
            tenant: try string("tenant"), fileId: try string("fileId"), row: try integer("row", as: Int.self),
            loadedAt: try object("loadedAt").instant(), record: try record.intakeRecord(tag)
        )
    }

    func intakeRecord(_ tag: IntakeRecordTag) throws(EventDecodingError) -> IntakeRecord {
        switch tag {
        case .history:
            return .history(try object("payment").payment())
        case .fraudReport:
            return .fraudReport(try fraudReport())
        case .status:
            return .status(try statusReport())
        case .directory:
            let code = try object("code")
            return .directory(DirectoryEntry(
                code: InstitutionCode(
                    type: try code.enumeration(try code.required("type"), "type", as: InstitutionCodeType.self),
                    value: try code.string("value")
                ),
                institution: try string("institution"),
                type: try enumeration(try required("institutionType"), "institutionType", as: InstitutionType.self),
                status: try enumeration(try required("status"), "status", as: InstitutionStatus.self)
            ))
        case .accountLink:
            return .accountLink(AccountLink(account: try token("account"), customer: try token("customer"), card: try optionalToken("card")))
        case .entitlements:
            var entitlements: [Entitlement] = []
            for (index, value) in try array("entitlements").enumerated() {
                let item = try EventObject(value, path: fieldPath("entitlements[\(index)]"))
                var perspectives: Set<Perspective> = []
                for side in try item.array("perspectives") {
                    perspectives.insert(try item.enumeration(side, "perspectives", as: Perspective.self))
                }
                var products: Set<String>?
                if item.optional("products") != nil {
                    var set: Set<String> = []
                    for product in try item.array("products") { set.insert(try item.string(product, "products")) }
                    products = set
                }
                entitlements.append(Entitlement(
                    codeType: try item.enumeration(try item.required("codeType"), "codeType", as: EntitlementCodeType.self),
                    from: try item.string("from"), to: try item.string("to"), perspectives: perspectives, products: products,
                    validFrom: try item.object("validFrom").instant(), validTo: try item.optionalObject("validTo")?.instant()
                ))
            }
            return .entitlements(entitlements)
        }
    }

    /// The members ``JSONWriter/write(_:)-(IntakeRecord)`` writes for a fraud report.
    func fraudReport() throws(EventDecodingError) -> FraudReport {
        FraudReport(
            paymentId: try optionalString("paymentId"), uetr: try optionalString("uetr"),
            reportedAt: try object("reportedAt").instant(),
            fraudType: try enumeration(try required("fraudType"), "fraudType", as: FraudType.self),
            amountLost: try optionalObject("amountLost")?.money(),
            reportingSide: try optional("reportingSide").map { (value) throws(EventDecodingError) in
                try enumeration(value, "reportingSide", as: Perspective.self)
            },
            creditorAccount: try optionalToken("creditorAccount")
        )
    }

    /// The members ``JSONWriter/write(_:)-(IntakeRecord)`` writes for a final status.
    func statusReport() throws(EventDecodingError) -> PaymentStatusReport {
        PaymentStatusReport(
            paymentId: try optionalString("paymentId"), uetr: try optionalString("uetr"),
            status: try enumeration(try required("status"), "status", as: PaymentFinalStatus.self),
            reasonCode: try optionalString("reasonCode"), at: try object("at").instant(),
            creditorAccount: try optionalToken("creditorAccount")
        )
    }
}
