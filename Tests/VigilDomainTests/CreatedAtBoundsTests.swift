import Testing
import VigilDomain

struct CreatedAtBoundsTests {
    let bounds = CreatedAtBounds(skewSeconds: 300, lagSeconds: 86_400)
    let received = Instant(epochMillis: 1_795_000_000_000)

    func at(_ offsetMillis: Int64, utcOffset: Int32 = 0) -> Instant {
        Instant(epochMillis: received.epochMillis + offsetMillis, utcOffsetSeconds: utcOffset)
    }

    @Test func theDefaultsAreFiveMinutesAheadAndADayBehind() {
        #expect(CreatedAtBounds.standard == CreatedAtBounds(skewSeconds: 300, lagSeconds: 86_400))
    }

    @Test(arguments: [(Int64(0), true), (Int64(300_000), true), (Int64(300_001), false), (Int64(-86_400_000 * 400), true)])
    func acceptsUpToTheSkewAhead(offset: Int64, accepted: Bool) {
        #expect(bounds.accepts(createdAt: at(offset), receivedAt: received) == accepted)
    }

    @Test func aYear2099TimeIsNotAccepted() {
        #expect(!bounds.accepts(createdAt: Instant(rfc3339: "2099-01-01T00:00:00Z")!, receivedAt: received))
        #expect(!bounds.accepts(createdAt: Instant(rfc3339: "9999-12-31T23:59:59Z")!, receivedAt: received))
    }

    @Test func featuresUseCreatedAtWithinTheLag() {
        for offset: Int64 in [0, -1, -3_600_000, -86_400_000] {
            #expect(bounds.featureTime(createdAt: at(offset, utcOffset: 3600), receivedAt: received) == at(offset, utcOffset: 3600))
        }
    }

    /// Ahead of the clock (even within the skew) or older than the lag: the receive time, in the payer's own offset.
    @Test func featuresUseTheReceiveTimeAheadOfTheClockOrPastTheLag() {
        for offset: Int64 in [1, 299_000, 300_000, -86_400_001, -86_400_000 * 30] {
            #expect(bounds.featureTime(createdAt: at(offset, utcOffset: -10_800), receivedAt: received) == at(0, utcOffset: -10_800))
        }
    }
}
