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

/// Proleptic Gregorian calendar arithmetic on days since 1970-01-01 (Howard Hinnant's algorithms).
enum CivilDate {
    static func epochDay(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(epochDay: Int) -> (year: Int, month: Int, day: Int) {
        let z = epochDay + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// 0 for Monday … 6 for Sunday.
    static func weekday(epochDay: Int) -> Int { ((epochDay + 3) % 7 + 7) % 7 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func firstSunday(year: Int, month: Int) -> Int {
        let first = epochDay(year: year, month: month, day: 1)
        return first + (6 - weekday(epochDay: first))
    }

    static func lastSunday(year: Int, month: Int) -> Int {
        let last = epochDay(year: year, month: month, day: daysIn(month: month, year: year))
        return last - weekday(epochDay: last)
    }
}
