import Testing
import VigilDomain

struct InstantTests {
    @Test func parsesUTCAndOffsets() throws {
        let utc = try #require(Instant(rfc3339: "2026-11-22T09:30:00Z"))
        #expect(utc.epochMillis == 1_795_339_800_000)
        let offset = try #require(Instant(rfc3339: "2026-11-22T10:30:00.250+01:00"))
        #expect(offset.epochMillis == 1_795_339_800_250)
        #expect(offset.utcOffsetSeconds == 3600)
        #expect(offset.localHour == 10)
        #expect(utc.localHour == 9)
        #expect(Instant(rfc3339: "2026-11-22t09:30:00.1234567z")?.epochMillis == 1_795_339_800_123)
    }

    @Test func handlesLeapYearsAndEpoch() {
        #expect(Instant(rfc3339: "1970-01-01T00:00:00Z")?.epochMillis == 0)
        #expect(Instant(rfc3339: "2024-02-29T00:00:00Z") != nil)
        #expect(Instant(rfc3339: "2023-02-29T00:00:00Z") == nil)
        #expect(Instant(rfc3339: "1969-12-31T23:59:59Z")?.epochMillis == -1000)
    }

    @Test(arguments: [
        "2026-11-22", "2026-11-22T09:30:00", "2026-11-22 09:30:00Z", "2026-13-01T00:00:00Z", "2026-11-31T00:00:00Z",
        "2026-11-22T24:00:00Z", "2026-11-22T09:60:00Z", "2026-11-22T09:30:00+0100", "22/11/2026 09:30", "1795339800",
        "2026-11-22T09:30:00.Z", "2026-11-22T09:30:00Z ", "",
    ])
    func refusesNonRFC3339(text: String) {
        #expect(Instant(rfc3339: text) == nil)
    }

    @Test func formatsBackToUTC() throws {
        let instant = try #require(Instant(rfc3339: "2026-11-22T10:30:00.250+01:00"))
        #expect(instant.rfc3339UTC == "2026-11-22T09:30:00.250Z")
        #expect(Instant(epochMillis: -1).rfc3339UTC == "1969-12-31T23:59:59.999Z")
    }
}
