import Foundation
import Testing
import VigilDomain
import VigilEngine
import VigilEventLog
import VigilFeatures
import VigilFiles
import VigilGateway
import VigilOffline
import VigilServer

/// `--files DIR`: offline replay reads the reference data of a folder of daily files as a server that loaded them.
struct ReferenceFilesTests {
    /// A fraud report on the default rows' creditor (404142 12345678), reported at `reportedAt`.
    static func reports(reportedAt: String) -> String {
        "paymentId,reportedAt,fraudType,creditor.account.sortCode,creditor.account.accountNumber\n"
            + "old-1,\(reportedAt),mule,404142,12345678\n"
    }
    /// The debtor's account (GB IBAN, sort code 123456) and another account of the same customer.
    static let accountMap = "customerId,account.iban,account.sortCode,account.accountNumber\n"
        + "c-1,GB82WEST12345698765432,,\n" + "c-1,,123456,11112222\n"
    static let directory = "codeType,code,institution,institutionType,status\n"
        + "sortCode,123456,Example Credit Union,credit-union,active\n" + "sortCode,404142,Example Bank,bank,active\n"

    /// Six payments from the debtor to the reported creditor, one an hour from 10:00 to 15:00 on 2026-01-01.
    static func rows() throws -> [HistoryRow] {
        try HistoryReader().read(history((0..<6).map { i in row("p\(i)", amount: "\(10 + i).00", at: "2026-01-01T1\(i):00:00Z") })).rows
    }

    /// Writes `files` (relative path → contents) into a fresh folder.
    static func folder(_ files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "vigil-reference-files-\(UUID().uuidString)"
        for (path, text) in files {
            let full = dir + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        }
        return dir
    }

    static func replay(_ rows: [HistoryRow], gateway: Gateway, reference: any ReferenceStore, tenantOf: (HistoryRow) -> String) async throws -> [[Double]] {
        var features: [[Double]] = []
        _ = try await HistoryReplay(gateway: gateway).replay(rows, store: InMemoryFeatureStore(), reference: reference, tenantOf: tenantOf) { _, _, values in
            features.append(values)
        }
        return features
    }

    /// What a server does with the same files: the pipeline's reader, each row an intake event loaded at `loadedAt`
    /// through the engine's intake sink (`EngineIntakeSink`, as `vigil serve` wires it); its reference store after.
    static func serverReference(_ files: [(type: DailyFileType, text: String)], gateway: Gateway, loadedAt: String) async throws -> any ReferenceStore {
        let engine = ScoringEngine(
            store: InMemoryFeatureStore(), log: InMemoryEventLog(), model: try ModelBundle.bundled(), duplicates: DuplicateIndex(),
            reference: InMemoryReferenceStore()
        )
        let sink = EngineIntakeSink(engine: engine)
        for (index, file) in files.enumerated() {
            var reader = TokenizingReader(type: file.type, tenant: TenantIntake(name: "bank-a", keys: gateway.keys, signer: nil))
            var events: [IntakeEvent] = []
            let at = try #require(Instant(rfc3339: loadedAt))
            try reader.feed(Array(file.text.utf8)[...]) { events.append(IntakeEvent(tenant: "bank-a", fileId: "f\(index)", row: $0, loadedAt: at, record: $1)) }
            try reader.finish { events.append(IntakeEvent(tenant: "bank-a", fileId: "f\(index)", row: $0, loadedAt: at, record: $1)) }
            try await sink.load(events)
        }
        return engine.reference
    }

    static func same(_ a: [[Double]], _ b: [[Double]]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.elementsEqual($1) { $0 == $1 || ($0.isNaN && $1.isNaN) } }
    }

    @Test func theFilesGiveTheFeaturesOfAServerThatLoadedThem() async throws {
        let dir = try Self.folder([
            "bank-a/fraud-reports.2026-01-01.csv": Self.reports(reportedAt: "2026-01-01T08:00:00Z"),
            "bank-a/account-map.2026-01-01.csv": Self.accountMap,
            "directory.2026-01-01.csv": Self.directory,
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gateway = try HistoryReplay.gateway(dataDirectory: nil)
        let rows = try Self.rows()
        let files = try await ReferenceFiles.load(directory: dir, gateway: gateway)
        #expect(files.tenants == ["bank-a"])
        let offline = try await Self.replay(rows, gateway: gateway, reference: files.store) { row in
            files.tenant(of: row.request) { EntitlementCheck.allows($0, payment: $1, receivedAt: $1.createdAt) }
        }
        // The server loaded the same files at 09:00, before every payment and after the report was made.
        let server = try await Self.serverReference(
            [(.fraudReports, Self.reports(reportedAt: "2026-01-01T08:00:00Z")), (.accountMap, Self.accountMap), (.directory, Self.directory)],
            gateway: gateway, loadedAt: "2026-01-01T09:00:00Z"
        )
        let online = try await Self.replay(rows, gateway: gateway, reference: server) { _ in "bank-a" }
        // Every feature alike, the report's age too: known live from its loading (09:00), offline from when it was made
        // (08:00), it is aged from when it was made in both, two hours before the 10:00 payment.
        #expect(Self.same(offline, online))
        let age = Feature.creditorDaysSinceLastReport.rawValue
        #expect(offline[0][age] == 2.0 / 24 && online[0][age] == 2.0 / 24)
        // And the reference features did fire: the report, both institutions, the customer's two accounts.
        #expect(offline.allSatisfy { $0[Feature.creditorReportedFraudCount90d.rawValue] == 1 })
        #expect(offline.allSatisfy { $0[Feature.debtorInstitutionType.rawValue] == InstitutionType.creditUnion.featureCode })
        #expect(offline.allSatisfy { $0[Feature.creditorInstitutionType.rawValue] == InstitutionType.bank.featureCode })
        #expect(offline.allSatisfy { $0[Feature.customerLinkedAccounts.rawValue] == 2 })
        #expect(offline.map { $0[Feature.customerCount24h.rawValue] } == [0, 1, 2, 3, 4, 5])
    }

    /// Offline, a report counts from its reportedAt: not for the payments before it. Live, from when it was loaded
    /// if that was later: the same report loaded at 14:30 counts only for the 15:00 payment.
    @Test func aReportCountsOnlyForPaymentsAfterItWasKnown() async throws {
        let text = Self.reports(reportedAt: "2026-01-01T12:30:00Z")
        let dir = try Self.folder(["bank-a/fraud-reports.2026-01-01.csv": text])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gateway = try HistoryReplay.gateway(dataDirectory: nil)
        let rows = try Self.rows()
        let files = try await ReferenceFiles.load(directory: dir, gateway: gateway)
        let offline = try await Self.replay(rows, gateway: gateway, reference: files.store) { _ in "bank-a" }
        #expect(offline.map { $0[Feature.creditorReportedFraudCount90d.rawValue] } == [0, 0, 0, 1, 1, 1])
        let server = try await Self.serverReference([(.fraudReports, text)], gateway: gateway, loadedAt: "2026-01-01T14:30:00Z")
        let online = try await Self.replay(rows, gateway: gateway, reference: server) { _ in "bank-a" }
        #expect(online.map { $0[Feature.creditorReportedFraudCount90d.rawValue] } == [0, 0, 0, 0, 0, 1])
    }

    /// With several tenants, a row reads the directory and account map of the tenant whose entitlements cover its own
    /// side: the debtor when sending, the creditor when receiving. A shared directory file is every tenant's.
    @Test func eachRowReadsTheTenantWhoseEntitlementsCoverIt() async throws {
        let entitlements = "codeType,from,to,perspectives,products,validFrom,validTo\n"
        let dir = try Self.folder([
            "bank-a/entitlements.2026-01-01.csv": entitlements + "sortCode,120000,129999,sending;receiving,FPS,2025-01-01T00:00:00Z,\n",
            "bank-a/account-map.2026-01-01.csv": Self.accountMap,
            "bank-b/entitlements.2026-01-01.csv": entitlements + "sortCode,404142,404142,receiving,*,2025-01-01T00:00:00Z,\n",
            "directory.2026-01-01.csv": Self.directory,
            "labels.csv": "paymentId,reportedAt,fraudType\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gateway = try HistoryReplay.gateway(dataDirectory: nil)
        let files = try await ReferenceFiles.load(directory: dir, gateway: gateway)
        #expect(files.tenants == ["bank-a", "bank-b"])
        #expect(files.notes.contains { $0.hasPrefix("labels.csv: skipped") })
        var rows = try Self.rows()
        rows[1].request.perspective = .receiving
        rows[2].request.scheme = "SEPA_INST"
        let owners = rows.map { row in files.tenant(of: row.request) { EntitlementCheck.allows($0, payment: $1, receivedAt: $1.createdAt) } }
        #expect(owners == ["bank-a", "bank-b", "", "bank-a", "bank-a", "bank-a"])
        let features = try await Self.replay(rows, gateway: gateway, reference: files.store) { row in
            files.tenant(of: row.request) { EntitlementCheck.allows($0, payment: $1, receivedAt: $1.createdAt) }
        }
        // bank-b has the shared directory but not bank-a's account map; the uncovered row has neither.
        #expect(features.map { $0[Feature.customerLinkedAccounts.rawValue] == 2 } == [true, false, false, true, true, true])
        #expect(features.map { $0[Feature.debtorInstitutionType.rawValue].isNaN } == [false, false, true, false, false, false])
    }

    @Test func aFileTheIntakeWouldRefuseIsRefusedByName() async throws {
        let gateway = try HistoryReplay.gateway(dataDirectory: nil)
        for (name, text) in [
            ("bank-a/directory.2026-01-01.csv", "\u{FEFF}" + Self.directory),
            ("bank-a/account-map.2026-01-01.csv", Self.accountMap + "c-2,NOT-AN-IBAN,,\n"),
            ("bank-a/fraud-reports.2026-01-01.csv.gpg", "-----BEGIN PGP MESSAGE-----\n"),
        ] {
            let dir = try Self.folder([name: text])
            defer { try? FileManager.default.removeItem(atPath: dir) }
            await #expect {
                try await ReferenceFiles.load(directory: dir, gateway: gateway)
            } throws: { error in
                (error as? ReferenceFiles.LoadError)?.description.hasPrefix(name) == true
            }
        }
    }
}
