/// Distinct senders of a creditor over the long windows, by day: each sender's latest day, exact up to `capacity`
/// senders, then keeping those seen on the latest days.
///
/// A record is one word: the sender's 32-bit fingerprint (never 0) in the high half, its latest day (days since the
/// epoch, as `Int32` bits) in the low half. A day expires once it is `horizonDays` or more behind the newest day of the
/// set, and expired records are dropped on each update. With more than `capacity` live senders the set keeps those
/// seen last (on a tie, the larger fingerprint), so, like `RecentKeys`, the set is a function of the sightings alone
/// whatever order they came in. A window of `n ≤ horizonDays` days at `t` counts the senders whose day is one of the
/// `n` days up to `t`'s and that the set still holds; it is exact up to `capacity` and saturates there.
///
/// Fingerprints of two senders of one creditor collide with odds of about `n² / 2^33` (6 × 10^-7 for 64 senders),
/// making one of them uncounted.
struct RecentSenders: Sendable {
    let horizonDays: Int64
    let capacity: Int

    /// The 30- and 90-day distinct senders of a creditor.
    static let long = RecentSenders(horizonDays: 90, capacity: 64)

    /// The fingerprint of a sender account (`Token.short`): never 0, which marks an unknown sender.
    @inline(__always)
    static func fingerprint(_ short: UInt64) -> UInt32 {
        let folded = UInt32(truncatingIfNeeded: short ^ short >> 32)
        return folded == 0 ? 1 : folded
    }

    @inline(__always)
    static func day(_ t: Int64) -> Int64 { floorDivide(t, 86_400) }

    @inline(__always)
    static func record(_ sender: UInt32, day: Int64) -> UInt64 {
        UInt64(sender) << 32 | UInt64(UInt32(bitPattern: Int32(truncatingIfNeeded: day)))
    }

    @inline(__always)
    static func sender(_ record: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: record >> 32) }

    @inline(__always)
    static func day(of record: UInt64) -> Int64 { Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: record))) }

    /// Whether a sighting on `day` counts in the `days`-day window at `t` when the set's newest day is `newestDay`.
    @inline(__always)
    func counts(day: Int64, days: Int64, at t: Int64, newestDay: Int64) -> Bool {
        let today = Self.day(t)
        return day > max(today - days, newestDay - horizonDays) && day <= today
    }

    /// Senders of the `count` records from word `start` in the `days`-day window at `t`.
    func count(_ words: ContiguousArray<UInt64>, start: Int, count: Int, days: Int64, at t: Int64, newestDay: Int64) -> Int {
        var n = 0
        for i in start..<(start + count) where counts(day: Self.day(of: words[i]), days: days, at: t, newestDay: newestDay) {
            n += 1
        }
        return n
    }

    /// Drops records whose day is `horizonDays` or more behind `newestDay`.
    func expire(_ words: inout ContiguousArray<UInt64>, start: Int, count: inout Int, newestDay: Int64) {
        var i = 0
        while i < count {
            if Self.day(of: words[start + i]) <= newestDay - horizonDays {
                remove(&words, start: start, count: &count, index: i)
            } else {
                i += 1
            }
        }
    }

    /// Records `sender` seen on `day`; `newestDay` already accounts for it (call `expire` first when it moved).
    func insert(_ words: inout ContiguousArray<UInt64>, start: Int, count: inout Int, sender: UInt32, day: Int64, newestDay: Int64) {
        guard sender != 0, day > newestDay - horizonDays else { return }
        var oldest = -1
        for i in 0..<count {
            let record = words[start + i]
            if Self.sender(record) == sender {
                if day > Self.day(of: record) { words[start + i] = Self.record(sender, day: day) }
                return
            }
            if oldest < 0 || Self.rank(record) < Self.rank(words[start + oldest]) { oldest = i }
        }
        if count < capacity {
            Words.insert(&words, count: 1, at: start + count)
            words[start + count] = Self.record(sender, day: day)
            count += 1
            return
        }
        if (day, sender) > Self.rank(words[start + oldest]) { words[start + oldest] = Self.record(sender, day: day) }
    }

    @inline(__always)
    static func rank(_ record: UInt64) -> (Int64, UInt32) { (day(of: record), sender(record)) }

    func remove(_ words: inout ContiguousArray<UInt64>, start: Int, count: inout Int, index: Int) {
        let last = start + count - 1
        if start + index != last { words[start + index] = words[last] }
        Words.remove(&words, last..<(last + 1))
        count -= 1
    }
}
