import Testing
import VigilDomain
import VigilReporting

struct UTCDayTests {
    @Test(arguments: [("2026-03-31", Int64(20543)), ("2000-02-29", 11016), ("1970-01-01", 0), ("1969-12-31", -1)])
    func parsesAndPrintsADate(text: String, days: Int64) throws {
        let day = try #require(UTCDay(parsing: text))
        #expect(day.daysSinceEpoch == days)
        #expect(day.description == text)
        #expect(UTCDay(daysSinceEpoch: days).description == text)
    }

    @Test(arguments: ["2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "26-03-01", "2026/03/01", "2026-3-01", "2026-03-01T00:00:00Z", ""])
    func refusesWhatIsNotADate(text: String) {
        #expect(UTCDay(parsing: text) == nil)
    }

    @Test func anInstantFallsOnItsUTCDayWhateverItsOffset() throws {
        let day = try #require(UTCDay(parsing: "2026-03-31"))
        let lastMillisecond = (day.daysSinceEpoch + 1) * 86_400_000 - 1
        #expect(UTCDay(Instant(epochMillis: lastMillisecond, utcOffsetSeconds: 3600)) == day)
        #expect(UTCDay(Instant(epochMillis: lastMillisecond + 1, utcOffsetSeconds: -18_000)).description == "2026-04-01")
        #expect(UTCDay(Instant(epochMillis: -1)).description == "1969-12-31")
        #expect(day.month == "2026-03")
    }
}
