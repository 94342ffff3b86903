/// How far a payment's `createdAt` may stray from the server's clock when it is scored live.
///
/// A client sets `createdAt`, and features are computed at the time they are given, so a client that could date a
/// payment years ahead would move an account's windows past every real payment and switch its velocity checks off.
/// Live scoring therefore refuses a `createdAt` more than `skewSeconds` ahead of the receive time, and computes
/// features at the receive time when `createdAt` is ahead of it at all or more than `lagSeconds` behind it. History
/// files and offline replay have no such bound: they are computed at `createdAt`, always.
public struct CreatedAtBounds: Sendable, Hashable {
    /// How far ahead of the server's clock a `createdAt` is still accepted.
    public var skewSeconds: Int64
    /// How far behind the server's clock a `createdAt` still counts as the time features are computed at.
    public var lagSeconds: Int64

    /// The defaults: 5 minutes ahead, 24 hours behind.
    public static let standard = CreatedAtBounds(skewSeconds: 300, lagSeconds: 86_400)

    public init(skewSeconds: Int64, lagSeconds: Int64) {
        self.skewSeconds = skewSeconds
        self.lagSeconds = lagSeconds
    }

    /// Whether `createdAt` is no further ahead of `receivedAt` than the skew allows.
    @inlinable
    public func accepts(createdAt: Instant, receivedAt: Instant) -> Bool {
        createdAt.epochMillis <= receivedAt.epochMillis &+ skewSeconds &* 1000
    }

    /// The time a live payment's features are computed at: `createdAt` when it lies between `lagSeconds` before
    /// `receivedAt` and `receivedAt`, otherwise `receivedAt`. The UTC offset stays the payment's own, so the payer's
    /// local hour is read in the payer's time zone.
    ///
    /// Never later than `receivedAt`: an event ahead of the server's clock, even within the skew, would move the
    /// account's newest event forward and push its real payments out of the finest windows.
    @inlinable
    public func featureTime(createdAt: Instant, receivedAt: Instant) -> Instant {
        let received = receivedAt.epochMillis
        guard createdAt.epochMillis > received || createdAt.epochMillis < received &- lagSeconds &* 1000 else { return createdAt }
        return Instant(epochMillis: received, utcOffsetSeconds: createdAt.utcOffsetSeconds)
    }
}
