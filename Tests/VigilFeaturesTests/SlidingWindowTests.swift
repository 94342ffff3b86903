import Testing
import VigilFeatures

struct SlidingWindowTests {
    @Test func countsWithinTheWindowAndExpiresOldBuckets() {
        var window = SlidingWindow(bucketSeconds: 60, buckets: 5)
        window.add(at: 0, amount: 10)
        window.add(at: 30, amount: 5)
        window.add(at: 90, amount: 1)
        #expect(window.total(at: 90) == (3, 16))
        // At 300 s the window is buckets 1…5: the two events of bucket 0 have expired.
        #expect(window.total(at: 300) == (1, 1))
        #expect(window.total(at: 360) == (0, 0))
    }

    @Test func reusesBucketsAfterALongGap() {
        var window = SlidingWindow(bucketSeconds: 60, buckets: 5)
        window.add(at: 0, amount: 10)
        window.add(at: 10_000, amount: 2)
        #expect(window.total(at: 10_000) == (1, 2))
        window.add(at: 10_060, amount: 3)
        #expect(window.total(at: 10_060) == (2, 5))
    }

    @Test func queriesInThePastSeeOnlyWhatWasThen() {
        var window = SlidingWindow(bucketSeconds: 60, buckets: 5)
        window.add(at: 0, amount: 1)
        window.add(at: 200, amount: 1)
        #expect(window.total(at: 100) == (1, 1))
        #expect(window.total(at: 200) == (2, 2))
    }

    @Test func dropsEventsOlderThanTheRing() {
        var window = SlidingWindow(bucketSeconds: 60, buckets: 5)
        window.add(at: 1000, amount: 1)
        window.add(at: 0, amount: 100)
        #expect(window.total(at: 1000) == (1, 1))
        #expect(window.total(at: 0) == (0, 0))
    }

    @Test func handlesNegativeTimes() {
        var window = SlidingWindow(bucketSeconds: 60, buckets: 5)
        window.add(at: -30, amount: 1)
        window.add(at: 10, amount: 1)
        #expect(window.total(at: 10) == (2, 2))
    }
}

struct RecentSetTests {
    @Test func countsDistinctKeysWithinTheHorizon() {
        var set = RecentSet(horizon: 100)
        set.insert(1, at: 0)
        set.insert(2, at: 10)
        set.insert(1, at: 50)
        #expect(set.count(at: 50) == 2)
        #expect(set.count(at: 105) == 2)
        #expect(set.count(at: 111) == 1)
        #expect(set.count(at: 151) == 0)
    }

    @Test func isBoundedByItsCapacity() {
        var set = RecentSet(horizon: 1000, capacity: 4)
        for key in 0..<10 { set.insert(UInt64(key), at: Int64(key)) }
        #expect(set.count(at: 10) == 4)
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
