/// Several sliding windows over one stream of events, kept together as one sparse list of time buckets.
///
/// Each tier is a window as `docs/features.md` defines it: a ring of `buckets` buckets of `bucketSeconds`, aligned to
/// the epoch; the window at `t` counts the bucket holding `t` and the `buckets - 1` before it, but only buckets the
/// ring still holds, that is no older than `buckets - 1` behind the bucket of the newest event. An event older than
/// that is dropped from that tier.
///
/// Widths divide one another and every coarser ring reaches at least as far back as a finer one, so one list serves
/// every tier: an event sits in a bucket of the finest tier whose ring still holds it, and when the newest event moves
/// on and that ring lets go of the bucket, the bucket moves up into the coarser tier's bucket that contains it (merging
/// with one already there) or, past the coarsest ring, is dropped. A tier's total sums the buckets of its own tier and
/// of every finer one that fall in its range. Only buckets holding events are kept, so an account that paid once holds
/// one bucket for all four debtor windows instead of 69 mostly empty ones.
///
/// The buckets live as records in a word array owned by the caller (`OutgoingHistory`, `IncomingHistory`):
/// word 0 packs the bucket's start (in units of the finest width, modulo 2^30, resolved against the newest event),
/// its tier (2 bits) and its event count (32 bits, saturating); word 1 is the exact sum (`ExactSum`); a ladder with
/// `marks` has word 2, the count of marked events (first-time senders).
struct WindowLadder: Sendable {
    struct Tier: Sendable {
        let bucketSeconds: Int64
        let buckets: Int64
    }

    let tiers: [Tier]
    /// Width of each tier in units of the finest.
    let ratios: [Int64]
    /// Words per bucket record.
    let recordWords: Int

    /// The debtor's outgoing windows: 5 × 1 min, 12 × 5 min, 24 × 1 h, 28 × 6 h.
    static let outgoing = WindowLadder([(60, 5), (300, 12), (3_600, 24), (21_600, 28)], marks: false)
    /// The creditor's inbound windows: 12 × 5 min, 24 × 1 h, with first-time senders marked.
    static let inbound = WindowLadder([(300, 12), (3_600, 24)], marks: true)
    /// The long windows of either role (issue 14): 30 × 1 day, 30 × 3 days, so 30 days and 90 days. The marked events
    /// are payments to a payee paid for the first time (a debtor's new payees, a creditor's first-time senders). A
    /// history holds at most 30 + 30 buckets here (about 50 in practice: the 3-day tier holds the 60 days behind the
    /// daily ring), however often the account pays.
    static let long = WindowLadder([(86_400, 30), (259_200, 30)], marks: true)

    init(_ tiers: [(bucketSeconds: Int64, buckets: Int64)], marks: Bool) {
        precondition(!tiers.isEmpty && tiers.count <= 4, "a ladder has one to four tiers")
        for (finer, coarser) in zip(tiers, tiers.dropFirst()) {
            precondition(coarser.bucketSeconds % finer.bucketSeconds == 0, "each width divides the next")
            precondition(
                (finer.buckets - 1) * finer.bucketSeconds <= (coarser.buckets - 1) * coarser.bucketSeconds,
                "each ring reaches back at least as far as the finer one"
            )
        }
        self.tiers = tiers.map { Tier(bucketSeconds: $0.bucketSeconds, buckets: $0.buckets) }
        self.ratios = tiers.map { $0.bucketSeconds / tiers[0].bucketSeconds }
        self.recordWords = marks ? 3 : 2
    }

    /// What a window holds.
    struct Totals: Equatable, Sendable {
        var count = 0
        /// Exact sum (`ExactSum`).
        var sum: Int64 = 0
        /// Marked events among `count`.
        var marked = 0
    }

    /// Tier `tier`'s window at `t` for an account whose only event is one at `event`: that event, or nothing. What an
    /// account's one-payment form answers without bucket records.
    @inline(__always)
    func single(tier: Int, at t: Int64, event: Int64, sum: Int64, marked: Bool) -> Totals {
        guard range(tier: tier, at: t, newest: event)?.contains(floorDivide(event, tiers[tier].bucketSeconds)) == true else {
            return Totals()
        }
        return Totals(count: 1, sum: sum, marked: marked ? 1 : 0)
    }

    /// The buckets (indices in `tier`'s width) the window at `t` counts, when the newest event is at `newest`.
    @inline(__always)
    func range(tier: Int, at t: Int64, newest: Int64) -> ClosedRange<Int64>? {
        let width = tiers[tier].bucketSeconds
        let n = tiers[tier].buckets
        let bucket = floorDivide(t, width)
        let head = floorDivide(newest, width)
        let low = max(bucket - n + 1, head - n + 1)
        let high = min(bucket, head)
        return low <= high ? low...high : nil
    }

    /// The finest tier whose ring holds an event at `t` when the newest event is at `newest` (≥ `t`); nil when even
    /// the coarsest ring has moved past it.
    @inline(__always)
    func tier(holding t: Int64, newest: Int64) -> Int? {
        for level in tiers.indices where floorDivide(t, tiers[level].bucketSeconds) > floorDivide(newest, tiers[level].bucketSeconds) - tiers[level].buckets {
            return level
        }
        return nil
    }

    // MARK: records

    static let slotBits: UInt64 = 30
    static let slotMask: UInt64 = (1 << 30) - 1

    @inline(__always)
    static func key(slot: Int64, level: Int, count: UInt32) -> UInt64 {
        UInt64(bitPattern: slot) & slotMask | UInt64(level) << slotBits | UInt64(count) << 32
    }

    @inline(__always)
    static func level(_ key: UInt64) -> Int { Int(key >> slotBits & 3) }

    @inline(__always)
    static func count(_ key: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: key >> 32) }

    /// The bucket's start in finest-width units, resolved against the newest event's slot (it is never newer, and
    /// never 2^30 units older).
    @inline(__always)
    static func slot(_ key: UInt64, newestSlot: Int64) -> Int64 {
        newestSlot - Int64((UInt64(bitPattern: newestSlot) &- key) & slotMask)
    }

    @inline(__always)
    static func addingCounts(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    /// The total of `tier`'s window at `t` over the `count` records from word `start`.
    func total(_ words: ContiguousArray<UInt64>, start: Int, count: Int, tier: Int, at t: Int64, newest: Int64) -> Totals {
        var totals = Totals()
        guard let range = range(tier: tier, at: t, newest: newest) else { return totals }
        let newestSlot = floorDivide(newest, tiers[0].bucketSeconds)
        let ratio = ratios[tier]
        var i = start
        let end = start + count * recordWords
        while i < end {
            let key = words[i]
            if Self.level(key) <= tier, range.contains(floorDivide(Self.slot(key, newestSlot: newestSlot), ratio)) {
                totals.count += Int(Self.count(key))
                totals.sum = ExactSum.adding(totals.sum, Int64(bitPattern: words[i + 1]))
                if recordWords == 3 { totals.marked += Int(words[i + 2]) }
            }
            i += recordWords
        }
        return totals
    }

    /// Adds an event at `t` to the records; `newest` already accounts for it (call `advance` first when it moved).
    func add(
        _ words: inout ContiguousArray<UInt64>, start: Int, count: inout Int, at t: Int64, sum: Int64, marked: Bool, newest: Int64
    ) {
        guard let level = tier(holding: t, newest: newest) else { return }
        let bucket = floorDivide(floorDivide(t, tiers[0].bucketSeconds), ratios[level]) * ratios[level]
        let newestSlot = floorDivide(newest, tiers[0].bucketSeconds)
        var i = start
        let end = start + count * recordWords
        while i < end {
            let key = words[i]
            if Self.level(key) == level, Self.slot(key, newestSlot: newestSlot) == bucket {
                words[i] = Self.key(slot: bucket, level: level, count: Self.addingCounts(Self.count(key), 1))
                words[i + 1] = UInt64(bitPattern: ExactSum.adding(Int64(bitPattern: words[i + 1]), sum))
                if marked, recordWords == 3 { words[i + 2] &+= 1 }
                return
            }
            i += recordWords
        }
        Words.insert(&words, count: recordWords, at: end)
        words[end] = Self.key(slot: bucket, level: level, count: 1)
        words[end + 1] = UInt64(bitPattern: sum)
        if marked, recordWords == 3 { words[end + 2] = 1 }
        count += 1
    }

    /// Moves the newest event from `old` to `new` (> `old`): buckets a ring lets go of move up a tier or are dropped.
    func advance(_ words: inout ContiguousArray<UInt64>, start: Int, count: inout Int, from old: Int64, to new: Int64) {
        let oldSlot = floorDivide(old, tiers[0].bucketSeconds)
        // Widths divide one another, so while the newest event stays in its finest bucket no ring moves: the long
        // ladder's buckets are scanned once a day, not on every payment.
        guard floorDivide(new, tiers[0].bucketSeconds) != oldSlot else { return }
        var moved = false
        var i = 0
        while i < count {
            let at = start + i * recordWords
            let key = words[at]
            var level = Self.level(key)
            var slot = Self.slot(key, newestSlot: oldSlot)
            let original = level
            while level < tiers.count,
                  floorDivide(slot, ratios[level]) <= floorDivide(new, tiers[level].bucketSeconds) - tiers[level].buckets {
                level += 1
                if level < tiers.count { slot = floorDivide(slot, ratios[level]) * ratios[level] }
            }
            if level == tiers.count {
                removeRecord(&words, start: start, count: &count, index: i)
                continue
            }
            if level != original {
                words[at] = Self.key(slot: slot, level: level, count: Self.count(key))
                moved = true
            }
            i += 1
        }
        if moved { mergeDuplicates(&words, start: start, count: &count) }
    }

    /// Merges records of the same bucket (left by `advance` when a bucket moved up onto one already there).
    func mergeDuplicates(_ words: inout ContiguousArray<UInt64>, start: Int, count: inout Int) {
        var i = 0
        while i < count {
            let a = start + i * recordWords
            var j = i + 1
            while j < count {
                let b = start + j * recordWords
                // Every record is within 2^30 units of the newest, so equal low words mean the same bucket.
                if words[a] & 0xFFFF_FFFF == words[b] & 0xFFFF_FFFF {
                    let merged = Self.addingCounts(Self.count(words[a]), Self.count(words[b]))
                    words[a] = words[a] & 0xFFFF_FFFF | UInt64(merged) << 32
                    words[a + 1] = UInt64(bitPattern: ExactSum.adding(Int64(bitPattern: words[a + 1]), Int64(bitPattern: words[b + 1])))
                    if recordWords == 3 { words[a + 2] &+= words[b + 2] }
                    removeRecord(&words, start: start, count: &count, index: j)
                } else {
                    j += 1
                }
            }
            i += 1
        }
    }

    /// Removes record `index` by moving the last record into its place.
    func removeRecord(_ words: inout ContiguousArray<UInt64>, start: Int, count: inout Int, index: Int) {
        let last = start + (count - 1) * recordWords
        let at = start + index * recordWords
        if at != last {
            for w in 0..<recordWords { words[at + w] = words[last + w] }
        }
        Words.remove(&words, last..<(last + recordWords))
        count -= 1
    }
}
