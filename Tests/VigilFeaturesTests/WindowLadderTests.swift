import Testing
@testable import VigilFeatures

/// One ring of time buckets exactly as `docs/features.md` defines a window (the implementation before the ladder):
/// the reference the ladder must agree with, tier by tier.
struct ReferenceRing {
    let width: Int64
    let n: Int64
    var head: Int64 = .min
    var counts: [Int: Int] = [:]
    var sums: [Int: Int64] = [:]
    var marked: [Int: Int] = [:]

    init(width: Int64, buckets: Int64) {
        self.width = width
        self.n = buckets
    }

    func slot(_ b: Int64) -> Int { Int(((b % n) + n) % n) }

    mutating func add(at t: Int64, sum: Int64, marked isMarked: Bool = false) {
        let b = floorDivide(t, width)
        if head == .min {
            head = b
        } else if b > head {
            var i = head + 1
            while i <= min(b, head + n) {
                counts[slot(i)] = 0
                sums[slot(i)] = 0
                marked[slot(i)] = 0
                i += 1
            }
            head = b
        } else if b <= head - n {
            return
        }
        counts[slot(b), default: 0] += 1
        sums[slot(b), default: 0] += sum
        if isMarked { marked[slot(b), default: 0] += 1 }
    }

    func total(at t: Int64) -> WindowLadder.Totals {
        guard head != .min else { return WindowLadder.Totals() }
        let b = floorDivide(t, width)
        var totals = WindowLadder.Totals()
        var i = max(b - n + 1, head - n + 1)
        while i <= min(b, head) {
            totals.count += counts[slot(i)] ?? 0
            totals.sum += sums[slot(i)] ?? 0
            totals.marked += marked[slot(i)] ?? 0
            i += 1
        }
        return totals
    }
}

/// A ladder over its own word array, driven the way the histories drive it.
struct LadderUnderTest {
    let ladder: WindowLadder
    var words: ContiguousArray<UInt64> = []
    var count = 0
    var newest = Int64.min

    mutating func add(at t: Int64, sum: Int64, marked: Bool = false) {
        let new = newest == .min ? t : max(newest, t)
        if newest != .min, new > newest { ladder.advance(&words, start: 0, count: &count, from: newest, to: new) }
        newest = new
        ladder.add(&words, start: 0, count: &count, at: t, sum: sum, marked: marked, newest: new)
    }

    func total(_ tier: Int, at t: Int64) -> WindowLadder.Totals {
        newest == .min ? WindowLadder.Totals() : ladder.total(words, start: 0, count: count, tier: tier, at: t, newest: newest)
    }
}

/// A small deterministic generator for the randomised tests.
struct Random {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 11
    }
    mutating func below(_ n: Int64) -> Int64 { Int64(next() % UInt64(n)) }
}

struct WindowLadderTests {
    static let outgoingTiers: [(Int64, Int64)] = [(60, 5), (300, 12), (3_600, 24), (21_600, 28)]

    @Test(arguments: [
        (name: "in order", jitter: Int64(0), step: Int64(90)),
        (name: "late by up to 20 minutes", jitter: 1_200, step: 90),
        (name: "late by up to 3 days", jitter: 259_200, step: 600),
        (name: "sparse, with long gaps", jitter: 0, step: 40_000),
        (name: "before 1970", jitter: 600, step: 90),
    ])
    func agreesWithOneRingPerWindow(name: String, jitter: Int64, step: Int64) {
        for (ladder, tiers) in [(WindowLadder.outgoing, Self.outgoingTiers), (WindowLadder.inbound, [(300, 12), (3_600, 24)])] {
            var random = Random(state: UInt64(bitPattern: jitter &+ step))
            var subject = LadderUnderTest(ladder: ladder)
            var rings = tiers.map { ReferenceRing(width: $0.0, buckets: $0.1) }
            var clock: Int64 = name == "before 1970" ? -2_000_000 : 1_795_000_000
            for _ in 0..<1_500 {
                clock += random.below(step)
                let t = clock - (jitter > 0 ? random.below(jitter) : 0)
                let sum = random.below(1_000_000)
                let marked = random.below(3) == 0
                subject.add(at: t, sum: sum, marked: marked)
                for i in rings.indices { rings[i].add(at: t, sum: sum, marked: marked) }
                for query in [t, clock, t - 1, t - 60, t - 301, t - 3_599, t - 86_400, t + 59, clock - random.below(700_000)] {
                    for tier in tiers.indices {
                        var expected = rings[tier].total(at: query)
                        if ladder.recordWords == 2 { expected.marked = 0 }
                        #expect(subject.total(tier, at: query) == expected, "\(name), tier \(tier), at \(query)")
                    }
                }
            }
            // Each tier holds at most one bucket more than its ring.
            #expect(subject.count <= tiers.reduce(0) { $0 + Int($1.1) + 1 })
        }
    }

    @Test func aBucketLeavesTheWindowAtItsBoundary() {
        var subject = LadderUnderTest(ladder: .outgoing)
        subject.add(at: 59, sum: 10)
        subject.add(at: 60, sum: 5)
        // The 5-minute window at 299 s holds minutes 0…4; at 300 s minute 0 has left it.
        #expect(subject.total(0, at: 299) == WindowLadder.Totals(count: 2, sum: 15))
        #expect(subject.total(0, at: 300) == WindowLadder.Totals(count: 1, sum: 5))
        #expect(subject.total(0, at: 360) == WindowLadder.Totals())
        // The hour window still holds both.
        #expect(subject.total(1, at: 360) == WindowLadder.Totals(count: 2, sum: 15))
    }

    @Test func mergesBucketsAsTheyAgeAndKeepsTheTotals() {
        var subject = LadderUnderTest(ladder: .outgoing)
        var ring7d = ReferenceRing(width: 21_600, buckets: 28)
        // One payment every 30 seconds for 8 days.
        for i in 0..<(8 * 2_880) {
            subject.add(at: Int64(i) * 30, sum: 1)
            ring7d.add(at: Int64(i) * 30, sum: 1)
        }
        #expect(subject.total(3, at: subject.newest) == ring7d.total(at: subject.newest))
        #expect(subject.total(0, at: subject.newest).count == 10)
        // Far fewer records than the 69 buckets of four rings: old buckets were merged into coarse ones.
        #expect(subject.count <= 5 + 1 + 12 + 1 + 24 + 1 + 28 + 1)
        #expect(subject.words.count == subject.count * 2)
    }

    @Test func dropsAnEventOnlyFromTheWindowsThatHaveMovedPastIt() {
        var subject = LadderUnderTest(ladder: .outgoing)
        subject.add(at: 10_000, sum: 1)
        subject.add(at: 10_000 - 1_800, sum: 100)  // 30 minutes late: too late for 5 min, in time for 1 h
        subject.add(at: 10_000 - 8 * 86_400, sum: 1_000)  // 8 days late: too late for every window
        #expect(subject.total(0, at: 10_000 - 1_800) == WindowLadder.Totals())
        #expect(subject.total(1, at: 10_000) == WindowLadder.Totals(count: 2, sum: 101))
        #expect(subject.total(3, at: 10_000) == WindowLadder.Totals(count: 2, sum: 101))
        #expect(subject.total(3, at: 10_000 - 8 * 86_400) == WindowLadder.Totals())
    }

    @Test func aLongGapDropsEverythingAndGivesBackTheStorage() {
        var subject = LadderUnderTest(ladder: .outgoing)
        for i in 0..<400 { subject.add(at: Int64(i) * 600, sum: 10) }
        #expect(subject.count > 30)
        subject.add(at: 400 * 86_400, sum: 2)
        #expect(subject.count == 1)
        #expect(subject.total(3, at: 400 * 86_400) == WindowLadder.Totals(count: 1, sum: 2))
        #expect(subject.words.capacity < 12)
    }

    @Test func sumsSaturateInsteadOfOverflowing() {
        var subject = LadderUnderTest(ladder: .outgoing)
        for _ in 0..<3 { subject.add(at: 0, sum: .max / 2) }
        #expect(subject.total(0, at: 0) == WindowLadder.Totals(count: 3, sum: .max))
    }
}

struct RecentKeysTests {
    /// A set over its own word array, driven the way the histories drive it.
    struct SetUnderTest {
        let keys: RecentKeys
        var words: ContiguousArray<UInt64> = []
        var count = 0
        var newest = Int64.min

        mutating func insert(_ key: UInt64, at t: Int64) {
            let new = max(newest, t)
            if new > newest { keys.expire(&words, start: 0, count: &count, newest: new) }
            newest = new
            keys.insert(&words, start: 0, count: &count, key: key, at: t, newest: new)
        }

        func count(at t: Int64) -> Int { keys.count(words, start: 0, count: count, at: t) }

        var records: Set<[UInt64]> {
            Set((0..<count).map { [words[2 * $0], words[2 * $0 + 1]] })
        }
    }

    @Test func countsDistinctKeysWithinTheHorizon() {
        var set = SetUnderTest(keys: RecentKeys(horizon: 100, capacity: 64))
        set.insert(1, at: 0)
        set.insert(2, at: 10)
        set.insert(1, at: 50)
        #expect(set.count(at: 50) == 2)
        #expect(set.count(at: 105) == 2)
        #expect(set.count(at: 111) == 1)
        #expect(set.count(at: 151) == 0)
    }

    @Test func dropsKeysTheNewestSightingLeftBehind() {
        var set = SetUnderTest(keys: RecentKeys(horizon: 100, capacity: 64))
        set.insert(1, at: 0)
        set.insert(2, at: 100)
        #expect(set.count == 1)
        // A sighting already a horizon behind the newest is not recorded at all.
        set.insert(3, at: 0)
        #expect(set.count == 1)
        #expect(set.count(at: 0) == 0)
    }

    @Test func keepsTheMostRecentlySeenWhenFull() {
        var set = SetUnderTest(keys: RecentKeys(horizon: 1_000, capacity: 4))
        for key in 0..<10 { set.insert(UInt64(key), at: Int64(key)) }
        #expect(set.count(at: 10) == 4)
        #expect(set.records == [[6, 6], [7, 7], [8, 8], [9, 9]])
        // Older than every key held: ignored. On a tie with the oldest, the larger key wins.
        set.insert(100, at: 5)
        set.insert(1, at: 6)
        #expect(set.records == [[6, 6], [7, 7], [8, 8], [9, 9]])
        set.insert(50, at: 6)
        #expect(set.records == [[50, 6], [7, 7], [8, 8], [9, 9]])
    }

    @Test func theSameSightingsInAnyOrderGiveTheSameSet() {
        var random = Random(state: 7)
        let sightings = (0..<400).map { _ in (key: UInt64(random.below(90)), at: random.below(300_000)) }
        var reference = SetUnderTest(keys: .day)
        for s in sightings { reference.insert(s.key, at: s.at) }
        for seed in 1...5 {
            var shuffler = Random(state: UInt64(seed))
            var shuffled = sightings
            for i in shuffled.indices.reversed() { shuffled.swapAt(i, Int(shuffler.below(Int64(i + 1)))) }
            var set = SetUnderTest(keys: .day)
            for s in shuffled { set.insert(s.key, at: s.at) }
            #expect(set.records == reference.records)
        }
    }
}

struct WelfordTests {
    @Test func matchesTheTextbookMeanAndDeviation() {
        var w = Welford()
        for x in [2.0, 4, 4, 4, 5, 5, 7, 9] { w.add(x) }
        #expect(w.mean == 5)
        #expect(w.standardDeviation == 2)
        #expect(Welford().standardDeviation.isNaN)
    }
}
