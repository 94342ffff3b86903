/// The simulated period and the civil time of each bank within it.
struct Timeline {
    static let dayMillis: Int64 = 86_400_000

    let startMillis: Int64
    let endMillis: Int64
    let days: Int
    /// The UTC date (days since 1970-01-01) containing the start.
    let startEpochDay: Int
    /// `offsets[bank][i]`: the bank's UTC offset in seconds on epoch day `startEpochDay - 2 + i`.
    private let offsets: [[Int32]]

    init(startMillis: Int64, days: Int) {
        self.startMillis = startMillis
        self.days = days
        endMillis = startMillis + Int64(days) * Timeline.dayMillis
        startEpochDay = Int(Timeline.floorDiv(startMillis, Timeline.dayMillis))
        let first = startEpochDay - 2
        offsets = Bank.all.map { bank in
            (0..<(days + 64)).map { Int32(bank.zone.offsetSeconds(epochDay: first + $0)) }
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }

    /// The bank's UTC offset in seconds at `millis` (clamped to the table for far-future report dates).
    func offsetSeconds(bank: Int, at millis: Int64) -> Int {
        let day = Int(Timeline.floorDiv(millis, Timeline.dayMillis)) - (startEpochDay - 2)
        let table = offsets[bank]
        return Int(table[min(max(day, 0), table.count - 1)])
    }

    /// The instant of `secondOfDay` (plus `millis`) on local day `day` (0 is the start's date) at `bank`, moved by
    /// whole days into the period when it falls outside.
    func instant(bank: Int, day: Int, secondOfDay: Int, millis: Int) -> Int64 {
        let epochDay = startEpochDay + day
        let offset = offsets[bank][min(day + 2, offsets[bank].count - 1)]
        var t = Int64(epochDay) * Timeline.dayMillis + Int64(secondOfDay - Int(offset)) * 1000 + Int64(millis)
        while t < startMillis { t += Timeline.dayMillis }
        while t >= endMillis { t -= Timeline.dayMillis }
        return t
    }

    /// Which day of the period `millis` falls in, or nil outside it.
    func bucket(_ millis: Int64) -> Int? {
        guard millis >= startMillis, millis < endMillis else { return nil }
        return Int((millis - startMillis) / Timeline.dayMillis)
    }

    /// 0 Monday … 6 Sunday, for local day `day`.
    func weekday(day: Int) -> Int { CivilDate.weekday(epochDay: startEpochDay + day) }
}
