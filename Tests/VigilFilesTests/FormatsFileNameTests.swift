import Testing
import VigilDomain
import VigilFiles

struct FormatsFileNameTests {
    @Test(arguments: [
        ("fraud-reports.2026-12-04.csv.gpg", DailyFileType.fraudReports, 1, true),
        ("fraud-reports.v1.2026-12-04.csv.gpg", .fraudReports, 1, true),
        ("history.csv", .history, 1, false),
        ("account-map.2026-12-04.csv.PGP", .accountMap, 1, true),
        ("status.v1.csv", .status, 1, false),
        ("entitlements.2026.csv", .entitlements, 1, false),
        ("directory.vintage.csv", .directory, 1, false),
    ])
    func readsTypeVersionAndEncryption(name: String, type: DailyFileType, version: Int, encrypted: Bool) throws {
        let parsed = try DailyFileName(parsing: name)
        #expect(parsed == DailyFileName(type: type, version: version, isEncrypted: encrypted))
    }

    @Test func refusesAnUnknownTypeNamingTheKnownOnes() {
        #expect(throws: FileRefusal.self) { try DailyFileName(parsing: "labels.2026-12-04.csv") }
        do {
            _ = try DailyFileName(parsing: "labels.2026-12-04.csv")
        } catch {
            #expect(error.reason.contains("history, fraud-reports, status, entitlements, directory, account-map"))
        }
    }

    @Test func refusesAnotherVersion() {
        do {
            _ = try DailyFileName(parsing: "fraud-reports.v2.2026-12-04.csv.gpg")
            Issue.record("v2 was accepted")
        } catch {
            #expect(error.reason == "unsupported format version v2 of fraud-reports; this Vigil reads v1")
        }
        #expect(throws: FileRefusal.self) { try DailyFileName(parsing: "history.v99999999999999999999999.csv") }
    }

    @Test func refusesANameThatIsNotCSV() {
        #expect(throws: FileRefusal.self) { try DailyFileName(parsing: "history.2026-12-04.txt") }
        #expect(throws: FileRefusal.self) { try DailyFileName(parsing: "history.2026-12-04.gpg") }
        #expect(throws: FileRefusal.self) { try DailyFileName(parsing: "history") }
    }
}
