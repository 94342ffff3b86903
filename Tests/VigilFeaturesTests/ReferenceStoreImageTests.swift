import Testing
import VigilDomain
import VigilFeatures

/// The reference store's snapshot section: today's format round-trips, and a format-1 section (before reports kept
/// the date they were made) still reads, each report made when it became known.
struct ReferenceStoreImageTests {
    static let query = ReferenceQuery(
        tenant: "bank-a", debtor: Token(a: 1, b: 0, c: 0, d: 0), creditor: Token(a: 2, b: 0, c: 0, d: 0), debtorInstitution: nil,
        creditorInstitution: nil
    )

    static func decode(_ bytes: [UInt8], format: UInt32) throws -> InMemoryReferenceStore {
        let image = try bytes.withUnsafeBytes { raw in
            var reader = SnapshotReader(raw)
            let image = try ReferenceStoreImage.decode(&reader, format: format)
            try reader.expectEnd("the section")
            return image
        }
        let store = InMemoryReferenceStore()
        store.restore(image)
        return store
    }

    @Test func reportsRoundTripWithBothTimes() throws {
        let store = InMemoryReferenceStore()
        store.addReport(creditor: Self.query.creditor, report: 9, reportedAt: Instant(epochMillis: 4_000), knownAt: Instant(epochMillis: 9_000))
        var writer = SnapshotWriter()
        store.capture().encode(into: &writer)
        let restored = try Self.decode(writer.take(), format: ReferenceStoreImage.format)
        #expect(restored.facts(Self.query).creditorReports == [ReportTimes(knownAt: 9_000, reportedAt: 4_000)])
    }

    @Test func aFormatOneSectionStillReads() throws {
        var writer = SnapshotWriter()
        writer.count(1)
        for word in [2, 0, 0, 0] as [UInt64] { writer.word(word) }
        writer.count(1)
        writer.word(9)
        writer.int(7_000)
        writer.count(0)  // tenants
        writer.count(0)  // file progress
        let restored = try Self.decode(writer.take(), format: 1)
        #expect(restored.facts(Self.query).creditorReports == [ReportTimes(knownAt: 7_000, reportedAt: 7_000)])
    }
}
