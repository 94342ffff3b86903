public import VigilDomain
import VigilJSON

/// The event-log record of a label or outcome received at run time (``LabelEvent``): binary in the log (format byte
/// ``EventCoding/RecordFormat/label1``), JSON `{"kind":"label",…}` in exports and on the stream (docs/event-log.md,
/// docs/schemas/vigil-event.v1.schema.json). Its record has the body of the daily-file record that says the same
/// (an intake record of type `fraudReport` or `status`), so both read alike.
extension EventCoding {
    /// The `kind` of a label record's JSON form.
    public static let labelKind = "label"

    /// A label record in the compact binary form.
    public static func record(_ event: LabelEvent) -> [UInt8] {
        var writer = RecordWriter(capacity: 160)
        writer.byte(RecordFormat.label1)
        writer.write(event)
        return writer.bytes
    }

    /// A label record's JSON form: `{"kind":"label","receivedAt":…,"record":{"type":"fraudReport"|"status",…},
    /// "source":…,"tenant":…}`, keys sorted as in every event.
    public static func encode(_ event: LabelEvent) -> [UInt8] {
        var writer = JSONWriter(capacity: 384)
        writer.write(event)
        return writer.bytes
    }
}

extension RecordWriter {
    mutating func write(_ event: LabelEvent) {
        string(event.tenant)
        instant(event.receivedAt)
        enumeration(event.source)
        switch event.record {
        case .fraudReport(let report):
            byte(IntakeRecordTag.fraudReport.rawValue)
            write(report)
        case .outcome(let status):
            byte(IntakeRecordTag.status.rawValue)
            write(status)
        }
    }
}

extension RecordReader {
    mutating func labelEvent() throws(EventDecodingError) -> LabelEvent {
        let tenant = try string("tenant")
        let receivedAt = try instant("receivedAt")
        let source = try enumeration("source", as: LabelSource.self)
        let record: LabelRecord
        switch IntakeRecordTag(rawValue: try byte("record")) {
        case .fraudReport: record = .fraudReport(try fraudReport())
        case .status: record = .outcome(try statusReport())
        default: throw invalid("record", "is not a fraud report or an outcome")
        }
        return LabelEvent(tenant: tenant, receivedAt: receivedAt, source: source, record: record)
    }
}

extension JSONWriter {
    mutating func write(_ event: LabelEvent) {
        beginObject()
        member("kind")
        string(EventCoding.labelKind)
        member("receivedAt")
        write(event.receivedAt)
        member("record")
        write(event.record.intakeRecord)
        member("source")
        string(event.source.rawValue)
        member("tenant")
        string(event.tenant)
        endObject()
    }
}

extension EventObject {
    func label() throws(EventDecodingError) -> LabelEvent {
        let record = try object("record")
        let type = try record.string("type")
        let body: LabelRecord
        switch type {
        case IntakeRecordTag.fraudReport.name: body = .fraudReport(try record.fraudReport())
        case IntakeRecordTag.status.name: body = .outcome(try record.statusReport())
        default:
            throw record.invalid("type", "is not one of fraudReport, status")
        }
        return LabelEvent(
            tenant: try string("tenant"), receivedAt: try object("receivedAt").instant(),
            source: try enumeration(try required("source"), "source", as: LabelSource.self), record: body
        )
    }
}
