public import VigilDomain
import Synchronization

/// The reference data as a snapshot holds it (section 4 of the snapshot file, format 2; format 1, before reports kept
/// when they were made, still reads, with each report made when it became known): restored before the log after
/// the snapshot is replayed, so event-log retention below a snapshot loses no report, directory row, link,
/// entitlement or file progress.
public struct ReferenceStoreImage: Sendable {
    public static let format: UInt32 = 2
    /// The formats ``decode(_:format:)`` reads.
    public static let readableFormats: ClosedRange<UInt32> = 1...2

    var state: InMemoryReferenceStore.State

    init(_ state: InMemoryReferenceStore.State) {
        self.state = state
    }

    /// No reference data: what a snapshot written before issue 13 restores.
    public static var empty: ReferenceStoreImage { ReferenceStoreImage(InMemoryReferenceStore.State()) }

    public func encode(into writer: inout SnapshotWriter) {
        writer.count(state.reports.count)
        for (account, reports) in state.reports.sorted(by: { $0.key < $1.key }) {
            Self.token(account, into: &writer)
            writer.count(reports.count)
            for report in reports {
                writer.word(report.id)
                writer.int(report.times.knownAt)
                writer.int(report.times.reportedAt)
            }
        }
        writer.count(state.tenants.count)
        for (name, tenant) in state.tenants.sorted(by: { $0.key < $1.key }) {
            writer.string(name)
            writer.count(tenant.directory.count)
            for entry in tenant.directory.values.sorted(by: { ($0.code.type.rawValue, $0.code.value) < ($1.code.type.rawValue, $1.code.value) }) {
                writer.byte(Self.index(entry.code.type))
                writer.string(entry.code.value)
                writer.string(entry.institution)
                writer.byte(Self.index(entry.type))
                writer.byte(Self.index(entry.status))
            }
            writer.count(tenant.customers.count)
            for (account, customer) in tenant.customers.sorted(by: { $0.key < $1.key }) {
                Self.token(account, into: &writer)
                Self.token(customer, into: &writer)
            }
            if let entitlements = tenant.entitlements {
                writer.byte(1)
                writer.count(entitlements.count)
                for entitlement in entitlements {
                    writer.byte(Self.index(entitlement.codeType))
                    writer.string(entitlement.from)
                    writer.string(entitlement.to)
                    var sides: UInt8 = 0
                    for (index, side) in Perspective.allCases.enumerated() where entitlement.perspectives.contains(side) { sides |= 1 << index }
                    writer.byte(sides)
                    if let products = entitlement.products {
                        writer.byte(1)
                        writer.count(products.count)
                        for product in products.sorted() { writer.string(product) }
                    } else {
                        writer.byte(0)
                    }
                    Self.instant(entitlement.validFrom, into: &writer)
                    if let validTo = entitlement.validTo {
                        writer.byte(1)
                        Self.instant(validTo, into: &writer)
                    } else {
                        writer.byte(0)
                    }
                }
            } else {
                writer.byte(0)
            }
        }
        writer.count(state.progress.count)
        for (file, row) in state.progress.sorted(by: { $0.key < $1.key }) {
            writer.string(file)
            writer.count(row)
        }
    }

    public static func decode(_ reader: inout SnapshotReader, format: UInt32 = format) throws(SnapshotDecodingError) -> ReferenceStoreImage {
        var state = InMemoryReferenceStore.State()
        for _ in 0..<(try reader.count(minimumBytes: 40)) {
            let account = try token(&reader)
            var reports: [InMemoryReferenceStore.Report] = []
            for _ in 0..<(try reader.count(minimumBytes: format == 1 ? 16 : 24)) {
                let id = try reader.word()
                let knownAt = try reader.int()
                let reportedAt = format == 1 ? knownAt : try reader.int()
                reports.append(InMemoryReferenceStore.Report(id: id, times: ReportTimes(knownAt: knownAt, reportedAt: reportedAt)))
            }
            state.reports[account] = reports
        }
        for _ in 0..<(try reader.count(minimumBytes: 24)) {
            let name = try reader.string()
            var tenant = InMemoryReferenceStore.TenantData()
            for _ in 0..<(try reader.count(minimumBytes: 19)) {
                let codeType = try value(&reader, InstitutionCodeType.self)
                let code = InstitutionCode(type: codeType, value: try reader.string())
                tenant.directory[code] = DirectoryEntry(
                    code: code, institution: try reader.string(), type: try value(&reader, InstitutionType.self),
                    status: try value(&reader, InstitutionStatus.self)
                )
            }
            for _ in 0..<(try reader.count(minimumBytes: 64)) {
                tenant.link(AccountLink(account: try token(&reader), customer: try token(&reader)))
            }
            if try reader.byte() == 1 {
                var entitlements: [Entitlement] = []
                for _ in 0..<(try reader.count(minimumBytes: 36)) {
                    let codeType = try value(&reader, EntitlementCodeType.self)
                    let from = try reader.string()
                    let to = try reader.string()
                    let sides = try reader.byte()
                    var perspectives: Set<Perspective> = []
                    for (index, side) in Perspective.allCases.enumerated() where sides & (1 << index) != 0 { perspectives.insert(side) }
                    var products: Set<String>?
                    if try reader.byte() == 1 {
                        var set: Set<String> = []
                        for _ in 0..<(try reader.count(minimumBytes: 8)) { set.insert(try reader.string()) }
                        products = set
                    }
                    let validFrom = try instant(&reader)
                    let validTo = try reader.byte() == 1 ? try instant(&reader) : nil
                    entitlements.append(Entitlement(
                        codeType: codeType, from: from, to: to, perspectives: perspectives, products: products, validFrom: validFrom, validTo: validTo
                    ))
                }
                tenant.entitlements = entitlements
            }
            state.tenants[name] = tenant
        }
        for _ in 0..<(try reader.count(minimumBytes: 16)) {
            state.progress[try reader.string()] = try reader.number()
        }
        return ReferenceStoreImage(state)
    }

    static func token(_ token: Token, into writer: inout SnapshotWriter) {
        writer.word(token.a)
        writer.word(token.b)
        writer.word(token.c)
        writer.word(token.d)
    }

    static func token(_ reader: inout SnapshotReader) throws(SnapshotDecodingError) -> Token {
        Token(a: try reader.word(), b: try reader.word(), c: try reader.word(), d: try reader.word())
    }

    static func instant(_ instant: Instant, into writer: inout SnapshotWriter) {
        writer.int(instant.epochMillis)
        writer.int(Int64(instant.utcOffsetSeconds))
    }

    static func instant(_ reader: inout SnapshotReader) throws(SnapshotDecodingError) -> Instant {
        let millis = try reader.int()
        let offset = try reader.int()
        guard let seconds = Int32(exactly: offset) else { throw SnapshotDecodingError("a UTC offset out of range") }
        return Instant(epochMillis: millis, utcOffsetSeconds: seconds)
    }

    static func index<Value: CaseIterable & Equatable>(_ value: Value) -> UInt8 where Value.AllCases == [Value] {
        UInt8(Value.allCases.firstIndex(of: value)!)
    }

    static func value<Value: CaseIterable>(_ reader: inout SnapshotReader, _ type: Value.Type) throws(SnapshotDecodingError) -> Value
    where Value.AllCases == [Value] {
        let index = Int(try reader.byte())
        guard index < Value.allCases.count else { throw SnapshotDecodingError("an enumeration index of \(index) past its \(Value.allCases.count) cases") }
        return Value.allCases[index]
    }
}

extension InMemoryReferenceStore {
    /// A copy of everything held, for a snapshot.
    public func capture() -> ReferenceStoreImage {
        ReferenceStoreImage(state.withLock { $0 })
    }

    /// Replaces everything held with a snapshot's.
    public func restore(_ image: ReferenceStoreImage) {
        state.withLock { $0 = image.state }
    }
}
