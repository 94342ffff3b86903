/// A 64-bit hash that is the same in every process and on every node (Swift's `Hasher` is seeded per process):
/// FNV-1a over the values' bytes, each string length-prefixed and each optional tagged, then the MurmurHash3 64-bit
/// finaliser so every output bit depends on every input bit. Not a keyed or cryptographic hash: it identifies
/// records that nodes must agree on (payment fingerprints, consortium payment identities), where the inputs are
/// already tokens.
public struct StableHash: Sendable {
    var state: UInt64 = 0xCBF2_9CE4_8422_2325

    public init(_ domain: UInt64) { combine(domain) }

    mutating func byte(_ byte: UInt8) {
        state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }

    public mutating func combine(_ word: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { byte(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
    }

    public mutating func combine(_ text: String) {
        combine(UInt64(text.utf8.count))
        for unit in text.utf8 { byte(unit) }
    }

    public mutating func combine(_ text: String?) {
        guard let text else { return byte(0) }
        byte(1)
        combine(text)
    }

    public mutating func combine(_ word: UInt64?) {
        guard let word else { return byte(0) }
        byte(1)
        combine(word)
    }

    public mutating func combine(_ token: Token) {
        combine(token.a)
        combine(token.b)
        combine(token.c)
        combine(token.d)
    }

    public mutating func combine(_ token: Token?) {
        guard let token else { return byte(0) }
        byte(1)
        combine(token)
    }

    public var value: UInt64 {
        var h = state
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}

extension TokenizedPayment {
    /// The payment as the consortium knows it, whichever bank asks: its UETR when the bank sent one (both banks of a
    /// payment have it), else a ``StableHash`` of the debtor's and the creditor's account tokens, the amount and
    /// currency, and `createdAt` (to the millisecond). The sending and the receiving bank scoring one payment give the
    /// same identity, so the shared feature state counts it once; a retry after a crash gives it too, so a payment
    /// half-counted before the crash is not counted again.
    public var consortiumIdentity: UInt64 {
        if let uetr {
            var hash = StableHash(0x5649_4749_4C55_4554)
            hash.combine(uetr)
            return hash.value
        }
        var hash = StableHash(0x5649_4749_4C43_4F4E)
        hash.combine(debtor.account)
        hash.combine(creditor.account)
        hash.combine(amount.currency.code)
        hash.combine(UInt64(bitPattern: amount.minorUnits))
        hash.combine(UInt64(bitPattern: createdAt.epochMillis))
        return hash.value
    }
}
