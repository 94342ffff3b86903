/// Distinct keys seen within a time horizon: exact up to `capacity` keys, then keeping the most recently seen.
///
/// Each key keeps its latest sighting. A sighting expires once it is `horizon` or more behind the newest sighting of
/// the set, and expired keys are dropped on each update. With more than `capacity` live keys, the set keeps those seen
/// last (on a tie, the larger key). The state is therefore a function of the sightings alone, whatever order they came
/// in: the same history gives the same set.
///
/// The keys live as records of two words (key, latest sighting) in a word array owned by the caller.
struct RecentKeys: Sendable {
    let horizon: Int64
    let capacity: Int

    /// The 24-hour sets of the features: creditors per debtor, sending banks per creditor, debtors per device or IP.
    static let day = RecentKeys(horizon: 86_400, capacity: 64)

    /// Keys whose latest sighting is in `(t - horizon, t]`, among the `count` records from word `start`.
    func count(_ words: ContiguousArray<UInt64>, start: Int, count: Int, at t: Int64) -> Int {
        var n = 0
        var i = start + 1
        let end = start + 2 * count
        while i < end {
            let seen = Int64(bitPattern: words[i])
            if seen > t - horizon, seen <= t { n += 1 }
            i += 2
        }
        return n
    }

    /// Drops keys whose latest sighting is `horizon` or more behind `newest`.
    func expire(_ words: inout ContiguousArray<UInt64>, start: Int, count: inout Int, newest: Int64) {
        var i = 0
        while i < count {
            if Int64(bitPattern: words[start + 2 * i + 1]) <= newest - horizon {
                remove(&words, start: start, count: &count, index: i)
            } else {
                i += 1
            }
        }
    }

    /// Records a sighting of `key` at `t`; `newest` already accounts for it (call `expire` first when it moved).
    func insert(_ words: inout ContiguousArray<UInt64>, start: Int, count: inout Int, key: UInt64, at t: Int64, newest: Int64) {
        guard t > newest - horizon else { return }
        var oldest = -1
        for i in 0..<count {
            let at = start + 2 * i
            if words[at] == key {
                words[at + 1] = UInt64(bitPattern: max(Int64(bitPattern: words[at + 1]), t))
                return
            }
            if oldest < 0 || Self.isOlder(words, at, than: start + 2 * oldest) { oldest = i }
        }
        if count < capacity {
            let end = start + 2 * count
            Words.insert(&words, count: 2, at: end)
            words[end] = key
            words[end + 1] = UInt64(bitPattern: t)
            count += 1
            return
        }
        let victim = start + 2 * oldest
        let victimSeen = Int64(bitPattern: words[victim + 1])
        if (t, key) > (victimSeen, words[victim]) {
            words[victim] = key
            words[victim + 1] = UInt64(bitPattern: t)
        }
    }

    /// Whether the record at word `a` ranks below the one at word `b`: seen earlier, or at the same time with a smaller key.
    @inline(__always)
    static func isOlder(_ words: ContiguousArray<UInt64>, _ a: Int, than b: Int) -> Bool {
        (Int64(bitPattern: words[a + 1]), words[a]) < (Int64(bitPattern: words[b + 1]), words[b])
    }

    /// The latest sighting among the records; nil when there are none.
    func newest(_ words: ContiguousArray<UInt64>, start: Int, count: Int) -> Int64? {
        guard count > 0 else { return nil }
        var newest = Int64.min
        for i in 0..<count { newest = max(newest, Int64(bitPattern: words[start + 2 * i + 1])) }
        return newest
    }

    func remove(_ words: inout ContiguousArray<UInt64>, start: Int, count: inout Int, index: Int) {
        let last = start + 2 * (count - 1)
        let at = start + 2 * index
        if at != last {
            words[at] = words[last]
            words[at + 1] = words[last + 1]
        }
        Words.remove(&words, last..<(last + 2))
        count -= 1
    }
}
