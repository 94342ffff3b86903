import VigilDomain

/// A bank's civil time: its UTC offset on a given day, daylight saving included.
enum TimeZoneRule {
    case uk, centralEurope, brazil, india, usEastern

    /// The offset in seconds on the UTC date `epochDay` (days since 1970-01-01); changes take effect from the
    /// day of the switch, which is close enough for hour-of-day rhythms.
    func offsetSeconds(epochDay: Int) -> Int {
        let (year, _, _) = CivilDate.civil(epochDay: epochDay)
        switch self {
        case .uk, .centralEurope:
            let base = self == .uk ? 0 : 3600
            let summer = epochDay >= CivilDate.lastSunday(year: year, month: 3)
                && epochDay < CivilDate.lastSunday(year: year, month: 10)
            return base + (summer ? 3600 : 0)
        case .brazil:
            return -3 * 3600
        case .india:
            return 5 * 3600 + 1800
        case .usEastern:
            let secondSundayOfMarch = CivilDate.firstSunday(year: year, month: 3) + 7
            let firstSundayOfNovember = CivilDate.firstSunday(year: year, month: 11)
            let summer = epochDay >= secondSundayOfMarch && epochDay < firstSundayOfNovember
            return summer ? -4 * 3600 : -5 * 3600
        }
    }
}

/// Proleptic Gregorian calendar arithmetic on days since 1970-01-01, on `Instant`'s civil-date functions.
enum CivilDate {
    static func epochDay(year: Int, month: Int, day: Int) -> Int { Instant.daysFromCivil(year: year, month: month, day: day) }

    static func civil(epochDay: Int) -> (year: Int, month: Int, day: Int) { Instant.civilFromDays(epochDay) }

    /// 0 for Monday … 6 for Sunday.
    static func weekday(epochDay: Int) -> Int { ((epochDay + 3) % 7 + 7) % 7 }

    static func daysIn(month: Int, year: Int) -> Int { Instant.daysIn(month: month, year: year) }

    static func firstSunday(year: Int, month: Int) -> Int {
        let first = epochDay(year: year, month: month, day: 1)
        return first + (6 - weekday(epochDay: first))
    }

    static func lastSunday(year: Int, month: Int) -> Int {
        let last = epochDay(year: year, month: month, day: daysIn(month: month, year: year))
        return last - weekday(epochDay: last)
    }
}
