import Testing
import VigilDomain
@testable import VigilFeatures

/// The long-horizon state (issue 14) in both stored forms: Redis records (`FeatureStateCoding`, format 2) and snapshot
/// images (`FeatureStoreImage`, format 3) carry it, and the formats before still read, their long windows empty.
struct FeatureStateCodingTests {
    static let amount = StateAmount(minorUnits: 12_345, exponent: 2)

    /// An account in both roles with long buckets and senders in its histories.
    static func busyAccount() -> AccountState {
        var state = AccountState()
        for day in 0..<40 {
            let t = Int64(day) * 86_400 + 600
            state.outgoing.record(OutgoingPayment(at: t, creditor: UInt64(day % 5), amount: amount, hour: 3, currency: 1, isNewPayee: day < 5))
            state.incoming.record(IncomingPayment(at: t + 60, bank: 4, amount: amount, isFirstTime: day % 3 == 0, hasBank: true, sender: UInt32(day % 7 + 1)))
        }
        return state
    }

    @Test func aRecordRoundTripsTheLongState() throws {
        let busy = Self.busyAccount()
        guard case .many(let outgoing) = busy.outgoing, case .many(let incoming) = busy.incoming else {
            Issue.record("40 payments should make histories")
            return
        }
        #expect(outgoing.longCount > 0 && incoming.longCount > 0 && incoming.senderCount == 7)
        #expect(try FeatureStateCoding.decodeAccount(FeatureStateCoding.encode(busy)) == busy)

        var single = AccountState()
        single.outgoing = .one(OutgoingPayment(at: 5, creditor: 8, amount: Self.amount, hour: 2, currency: 3, isNewPayee: false))
        single.incoming = .one(IncomingPayment(at: 6, bank: 9, amount: Self.amount, isFirstTime: true, hasBank: true, sender: 0xDEAD_BEEF))
        let bytes = FeatureStateCoding.encode(single)
        #expect(bytes[0] == 2)
        #expect(try FeatureStateCoding.decodeAccount(bytes) == single)
    }

    /// A format-1 record (before issue 14) reads: its one payments count in the long windows (a debtor's only payment
    /// went to a new payee; the sender is unknown), and its histories' long windows start empty and then fill.
    @Test func aFormatOneRecordStillReadsWithItsLongWindowsEmpty() throws {
        var old = ByteWriter()
        old.byte(1)
        old.byte(1)
        old.word(1_000)
        old.word(8)
        old.amount(Self.amount)
        old.byte(2)
        old.half(3)
        old.byte(1)
        old.word(1_000)
        old.word(9)
        old.amount(Self.amount)
        old.byte(3)
        let state = try FeatureStateCoding.decodeAccount(old.bytes)
        #expect(state.outgoing == .one(OutgoingPayment(at: 1_000, creditor: 8, amount: Self.amount, hour: 2, currency: 3, isNewPayee: true)))
        #expect(state.outgoing.longWindow(0, at: 2_000).marked == 1)
        #expect(state.incoming.distinctSenders(days: 30, at: 2_000) == 0)
        #expect(state.incoming.longWindow(1, at: 2_000).count == 1)

        // A history as format 1 wrote it: the same words without the long sections, the layout word's new counts 0.
        let busy = Self.busyAccount()
        guard case .many(let outgoing) = busy.outgoing, case .many(let incoming) = busy.incoming else { return }
        var outgoingWords = ContiguousArray(outgoing.words[..<outgoing.longStart])
        outgoingWords[5] &= 0xFFFF_FFFF_FFFF
        var incomingWords = ContiguousArray(incoming.words[..<incoming.longStart])
        incomingWords[2] &= 0xFFFF_FFFF
        var history = ByteWriter()
        history.byte(1)
        history.byte(2)
        history.words(outgoingWords)
        history.byte(2)
        history.words(incomingWords)
        var read = try FeatureStateCoding.decodeAccount(history.bytes)
        let t = 39 * 86_400 + 660 as Int64
        for tier in 0..<4 { #expect(read.outgoing.window(tier, at: t) == busy.outgoing.window(tier, at: t)) }
        for tier in 0..<2 { #expect(read.incoming.window(tier, at: t) == busy.incoming.window(tier, at: t)) }
        #expect(read.incoming.distinctBanks(at: t) == busy.incoming.distinctBanks(at: t))
        #expect(read.outgoing.longWindow(1, at: t) == WindowLadder.Totals())
        #expect(read.incoming.longWindow(1, at: t) == WindowLadder.Totals())
        #expect(read.incoming.distinctSenders(days: 90, at: t) == 0)
        read.incoming.record(IncomingPayment(at: t + 10, bank: 4, amount: Self.amount, isFirstTime: true, hasBank: true, sender: 99))
        #expect(read.incoming.longWindow(0, at: t + 10) == WindowLadder.Totals(count: 1, sum: Self.amount.exact, marked: 1))
        #expect(read.incoming.distinctSenders(days: 30, at: t + 10) == 1)
        // Format 2 after the upgrade, so an old node's record is never taken for a new one.
        #expect(FeatureStateCoding.encode(read)[0] == 2)
        #expect(throws: StateStoreError.self) { try FeatureStateCoding.decodeAccount([3, 0, 0]) }
    }

    @Test func aSnapshotImageRoundTripsTheLongState() async throws {
        let store = InMemoryFeatureStore()
        let extractor = FeatureExtractor(store: store)
        var features: [Double] = []
        for i in 0..<200 {
            try await extractor.observe(payment("c\(i)", from: UInt64(i % 9), to: UInt64(i % 4) + 20, at: Int64(i) * 40_000), into: &features)
        }
        var out = SnapshotWriter()
        store.capture().encode(into: &out)
        let bytes = out.take()
        let decoded = try bytes.withUnsafeBytes { raw in
            var input = SnapshotReader(raw)
            return try FeatureStoreImage.decode(&input)
        }
        var again = SnapshotWriter()
        decoded.encode(into: &again)
        #expect(again.take() == bytes)
        let restored = InMemoryFeatureStore()
        restored.restore(decoded)
        let t = 1_795_000_000 + 200 * 40_000 as Int64
        let probe = Application(payment: 1, part: .creditor, at: t)
        let before = try await store.withAccount(token(20), applying: probe) { ($0.incoming.longWindow(1, at: t), $0.incoming.distinctSenders(days: 90, at: t)) }
        let after = try await restored.withAccount(token(20), applying: probe) { ($0.incoming.longWindow(1, at: t), $0.incoming.distinctSenders(days: 90, at: t)) }
        #expect(before.0 == after.0 && before.1 == after.1)
        #expect(after.0.count > 30 && after.1 == 9)
    }

    /// A format-2 feature section (before issue 14) reads: its one payments as in format 1 records.
    @Test func aFormatTwoSnapshotSectionStillReads() async throws {
        let key = StateKey(token(5))
        var out = SnapshotWriter()
        out.count(64)
        for shard in 0..<64 {
            out.lengthPrefixed { w in
                let here = shard == Int(key.shard) & 63
                // Debtors, then creditors: one account in both roles, one payment each, in the old form.
                for role in 0..<2 {
                    w.count(here ? 1 : 0)
                    guard here else { continue }
                    w.u32(key.shard)
                    w.u32(key.high)
                    w.u32(key.low)
                    w.byte(1)
                    w.int(1_000)
                    w.word(role == 0 ? 8 : 9)
                    w.int(Self.amount.minorUnits)
                    w.byte(Self.amount.exponent)
                    if role == 0 {
                        w.byte(2)
                        w.half(3)
                    } else {
                        w.byte(3)
                    }
                }
                w.count(0)
                w.count(0)
                w.count(here ? 1 : 0)
                w.count(here ? 1 : 0)
            }
        }
        out.count(64)
        for _ in 0..<64 {
            out.lengthPrefixed { w in
                w.count(0)
                w.count(0)
                w.count(0)
            }
        }
        out.count(64)
        for _ in 0..<64 {
            out.lengthPrefixed { w in
                w.int(.min)
                w.count(0)
            }
        }
        let bytes = out.take()
        let image = try bytes.withUnsafeBytes { raw in
            var input = SnapshotReader(raw)
            return try FeatureStoreImage.decode(&input, format: 2)
        }
        #expect(image.counts == (accounts: 1, pairs: 1, entities: 0))
        let store = InMemoryFeatureStore()
        store.restore(image)
        let state = try await store.withAccount(token(5), applying: Application(payment: 1, part: .creditor, at: 2_000)) { $0 }
        #expect(state.outgoing == .one(OutgoingPayment(at: 1_000, creditor: 8, amount: Self.amount, hour: 2, currency: 3, isNewPayee: true)))
        #expect(state.incoming == .one(IncomingPayment(at: 1_000, bank: 9, amount: Self.amount, isFirstTime: true, hasBank: true, sender: 0)))
        // The same bytes are not a format-3 section, and no other format is read.
        #expect(throws: SnapshotDecodingError.self) {
            try bytes.withUnsafeBytes { raw in
                var input = SnapshotReader(raw)
                _ = try FeatureStoreImage.decode(&input, format: 1)
            }
        }
    }
}
