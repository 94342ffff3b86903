/// Editing a word array that holds runs of fixed-size records: the storage of the compact state types.
///
/// An account's history is one `ContiguousArray<UInt64>` (one allocation, 32 bytes of header) rather than a class
/// with an array per structure, which would cost a header and an allocation each. These helpers keep its capacity
/// close to its size: a small array grows to fit exactly (an allocation per new record, bought with memory), a large
/// one by an eighth, and one whose records mostly went is copied to a fitting allocation.
enum Words {
    /// Inserts `count` zero words at `index`.
    static func insert(_ words: inout ContiguousArray<UInt64>, count: Int, at index: Int) {
        let needed = words.count + count
        if words.capacity < needed { words.reserveCapacity(needed < 32 ? needed : needed + needed / 8) }
        words.insert(contentsOf: repeatElement(0, count: count), at: index)
    }

    /// Removes `range`; copies the rest to a smaller allocation when over half the capacity would lie unused.
    static func remove(_ words: inout ContiguousArray<UInt64>, _ range: Range<Int>) {
        words.removeSubrange(range)
        if words.capacity > 2 * words.count + 8 {
            // `ContiguousArray(words)` would share the old storage; copy into one that fits.
            var fitted = ContiguousArray<UInt64>()
            fitted.reserveCapacity(words.count)
            fitted.append(contentsOf: words)
            words = fitted
        }
    }

    /// Reads the `index`-th byte of the little-endian bytes starting at word `start`.
    @inline(__always)
    static func byte(_ words: ContiguousArray<UInt64>, start: Int, index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: words[start + index / 8] >> UInt64(index % 8 * 8))
    }

    @inline(__always)
    static func setByte(_ words: inout ContiguousArray<UInt64>, start: Int, index: Int, _ value: UInt8) {
        let shift = UInt64(index % 8 * 8)
        words[start + index / 8] = words[start + index / 8] & ~(0xFF << shift) | UInt64(value) << shift
    }

    /// Reads the `index`-th 32-bit half of the words starting at `start`.
    @inline(__always)
    static func half(_ words: ContiguousArray<UInt64>, start: Int, index: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: words[start + index / 2] >> UInt64(index % 2 * 32))
    }

    @inline(__always)
    static func setHalf(_ words: inout ContiguousArray<UInt64>, start: Int, index: Int, _ value: UInt32) {
        let shift = UInt64(index % 2 * 32)
        words[start + index / 2] = words[start + index / 2] & ~(0xFFFF_FFFF << shift) | UInt64(value) << shift
    }
}

/// `a / b` rounded towards minus infinity (`b > 0`), so times before 1970 fall into the right bucket.
@inline(__always)
func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : (a - b + 1) / b
}
