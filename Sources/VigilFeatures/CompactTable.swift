import VigilDomain

/// The key of a state record: 96 bits of a token (for a relationship, see `AccountTables.pairKey`), in 12 bytes.
///
/// `shard` picks the shard (its low six bits) and `word` the first index slot. Tokens are 256-bit HMAC outputs, so
/// any of their bits are as good as random: with the shard's six bits spent, 90 bits tell keys apart, so a billion
/// keys hold a colliding pair with odds of about 10^-11. The full 32-byte token would cost 20 bytes more per key.
struct StateKey: Hashable, Sendable {
    var shard: UInt32
    var high: UInt32
    var low: UInt32

    init(shard: UInt32, word: UInt64) {
        self.shard = shard
        self.high = UInt32(truncatingIfNeeded: word >> 32)
        self.low = UInt32(truncatingIfNeeded: word)
    }

    init(_ token: Token) {
        self.init(shard: UInt32(truncatingIfNeeded: token.a), word: token.b)
    }

    var word: UInt64 { UInt64(high) << 32 | UInt64(low) }
}

/// A hash table for millions of small records: an open-addressing index of row numbers over dense arrays of keys
/// and values.
///
/// An index slot is 4 bytes and the index is kept at most 3/4 full; keys and values sit in dense arrays with no
/// empty slots, so a record costs about `12 + MemoryLayout<Value>.stride` bytes plus 5 to 11 of index. Records are
/// never removed.
struct CompactTable<Value> {
    private(set) var keys: ContiguousArray<StateKey> = []
    var values: ContiguousArray<Value> = []
    /// Row + 1 of the key hashed to each slot, 0 for an empty slot; linear probing.
    private var index = ContiguousArray<UInt32>(repeating: 0, count: 16)

    init() {}

    /// A table holding `keys` (distinct) with `values` in the same rows, as a snapshot recorded them.
    init(keys: ContiguousArray<StateKey>, values: ContiguousArray<Value>) {
        precondition(keys.count == values.count)
        self.keys = keys
        self.values = values
        var slots = 16
        while keys.count * 4 > slots * 3 { slots *= 2 }
        rebuildIndex(slots: slots)
    }

    var count: Int { keys.count }

    /// Bytes held: the index, and the keys and values in use (a dense array's spare capacity is not touched, so it
    /// costs address space, not memory).
    var bytes: Int { index.count * 4 + keys.count * MemoryLayout<StateKey>.stride + values.count * MemoryLayout<Value>.stride }

    @inline(__always)
    private func firstSlot(_ key: StateKey) -> Int { Int(truncatingIfNeeded: key.word) & (index.count - 1) }

    /// The row holding `key`, if any.
    func row(of key: StateKey) -> Int? {
        var slot = firstSlot(key)
        while true {
            let entry = index[slot]
            if entry == 0 { return nil }
            if keys[Int(entry) - 1] == key { return Int(entry) - 1 }
            slot = (slot + 1) & (index.count - 1)
        }
    }

    /// The row holding `key`, adding it with `make()` when absent.
    mutating func row(of key: StateKey, orAdd make: () -> Value) -> Int {
        var slot = firstSlot(key)
        while true {
            let entry = index[slot]
            if entry == 0 { break }
            if keys[Int(entry) - 1] == key { return Int(entry) - 1 }
            slot = (slot + 1) & (index.count - 1)
        }
        return add(key, make(), atSlot: slot)
    }

    /// Adds `key`, which must be absent, and returns its row.
    mutating func add(_ key: StateKey, _ value: Value) -> Int {
        var slot = firstSlot(key)
        while index[slot] != 0 { slot = (slot + 1) & (index.count - 1) }
        return add(key, value, atSlot: slot)
    }

    private mutating func add(_ key: StateKey, _ value: Value, atSlot slot: Int) -> Int {
        precondition(keys.count < Int(UInt32.max), "a table holds fewer than 2^32 records")
        let row = keys.count
        keys.append(key)
        values.append(value)
        if (row + 1) * 4 > index.count * 3 {
            rebuildIndex(slots: index.count * 2)
        } else {
            index[slot] = UInt32(row + 1)
        }
        return row
    }

    private mutating func rebuildIndex(slots: Int) {
        index = ContiguousArray(repeating: 0, count: slots)
        for (row, key) in keys.enumerated() {
            var slot = firstSlot(key)
            while index[slot] != 0 { slot = (slot + 1) & (slots - 1) }
            index[slot] = UInt32(row + 1)
        }
    }
}

extension CompactTable: Sendable where Value: Sendable {}
