import Dispatch

/// Appends little-endian fixed-width values to a byte array: the body of a state snapshot.
///
/// - Performance: One capacity check and one unaligned store per value; a snapshot of millions of records is written
///   at memory speed, which decides how soon a restarted node is ready (`vigil-microbench --mode snapshot`).
public struct SnapshotWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 1 << 16) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    mutating func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func byte(_ value: UInt8) { bytes.append(value) }
    public mutating func half(_ value: UInt16) { put(value) }
    public mutating func u32(_ value: UInt32) { put(value) }
    public mutating func word(_ value: UInt64) { put(value) }
    public mutating func int(_ value: Int64) { put(value) }
    public mutating func double(_ value: Double) { put(value.bitPattern) }

    /// A count or length, as a u64.
    public mutating func count(_ value: Int) { put(UInt64(value)) }

    public mutating func string(_ text: String) {
        count(text.utf8.count)
        bytes.append(contentsOf: text.utf8)
    }

    public mutating func words(_ words: ContiguousArray<UInt64>) {
        count(words.count)
        words.withUnsafeBytes { raw in
            #if _endian(little)
            bytes.append(contentsOf: raw)
            #else
            for word in words { put(word) }
            #endif
        }
    }

    public mutating func raw(_ other: [UInt8]) { bytes.append(contentsOf: other) }

    /// Appends what `body` writes behind its byte length (a u64), so a reader can find the part without decoding it
    /// and decode the parts on several cores (``SnapshotReader/parts(_:)``).
    public mutating func lengthPrefixed(_ body: (inout SnapshotWriter) -> Void) {
        let start = bytes.count
        count(0)
        body(&self)
        let length = UInt64(bytes.count - start - 8).littleEndian
        withUnsafeBytes(of: length) { length in
            bytes.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: start).copyMemory(from: length.baseAddress!, byteCount: 8) }
        }
    }

    /// Takes the bytes out, leaving the writer empty.
    public mutating func take() -> [UInt8] {
        var out: [UInt8] = []
        swap(&out, &bytes)
        return out
    }
}

/// Why a snapshot's bytes do not decode: too few of them, or a value no writer produces.
public struct SnapshotDecodingError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Reads what a ``SnapshotWriter`` wrote, checking every length against the bytes that remain, so damaged bytes throw
/// rather than read past the end.
public struct SnapshotReader {
    let base: UnsafeRawBufferPointer
    public private(set) var position = 0

    /// Reads `bytes`, which must outlive the reader.
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.base = bytes
    }

    public var isAtEnd: Bool { position == base.count }
    public var remaining: Int { base.count - position }

    @inline(__always)
    mutating func take<T: FixedWidthInteger>(_: T.Type) throws(SnapshotDecodingError) -> T {
        let size = MemoryLayout<T>.size
        guard base.count - position >= size else { throw SnapshotDecodingError("the bytes end inside a value") }
        let value = base.loadUnaligned(fromByteOffset: position, as: T.self)
        position += size
        return T(littleEndian: value)
    }

    public mutating func byte() throws(SnapshotDecodingError) -> UInt8 { try take(UInt8.self) }
    public mutating func half() throws(SnapshotDecodingError) -> UInt16 { try take(UInt16.self) }
    public mutating func u32() throws(SnapshotDecodingError) -> UInt32 { try take(UInt32.self) }
    public mutating func word() throws(SnapshotDecodingError) -> UInt64 { try take(UInt64.self) }
    public mutating func int() throws(SnapshotDecodingError) -> Int64 { try take(Int64.self) }
    public mutating func double() throws(SnapshotDecodingError) -> Double { Double(bitPattern: try take(UInt64.self)) }

    /// A count of items at least `minimumBytes` long each, checked against the bytes left.
    public mutating func count(minimumBytes: Int = 1) throws(SnapshotDecodingError) -> Int {
        let value = try take(UInt64.self)
        guard value <= UInt64(remaining / max(1, minimumBytes)) else {
            throw SnapshotDecodingError("a count of \(value) past the bytes that remain")
        }
        return Int(value)
    }

    /// A number that counts nothing in the bytes (a tally, an index), as a u64 that fits an `Int`: unlike
    /// ``count(minimumBytes:)`` it is not bounded by the bytes that remain.
    public mutating func number() throws(SnapshotDecodingError) -> Int {
        let value = try take(UInt64.self)
        guard value <= UInt64(Int.max) else { throw SnapshotDecodingError("a number of \(value), past the largest this build holds") }
        return Int(value)
    }

    public mutating func string() throws(SnapshotDecodingError) -> String {
        let length = try count()
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: base[position..<(position + length)]), as: UTF8.self)
        position += length
        return text
    }

    public mutating func words() throws(SnapshotDecodingError) -> ContiguousArray<UInt64> {
        let count = try count(minimumBytes: 8)
        let start = position
        position += count * 8
        return ContiguousArray(unsafeUninitializedCapacity: count) { buffer, initialized in
            let target = UnsafeMutableRawBufferPointer(buffer)
            target.copyMemory(from: UnsafeRawBufferPointer(rebasing: base[start..<(start + count * 8)]))
            #if !_endian(little)
            for i in 0..<count { buffer[i] = UInt64(littleEndian: buffer[i]) }
            #endif
            initialized = count
        }
    }

    /// The next `count` bytes, valid as long as the reader's bytes.
    public mutating func slice(_ count: Int) throws(SnapshotDecodingError) -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw SnapshotDecodingError("the bytes end inside a section") }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: base[position..<(position + count)])
    }

    public func expectEnd(_ what: String) throws(SnapshotDecodingError) {
        guard isAtEnd else { throw SnapshotDecodingError("\(remaining) bytes past the end of \(what)") }
    }

    /// The next `count` parts that ``SnapshotWriter/lengthPrefixed(_:)`` wrote, each checked to lie within the bytes
    /// that remain, valid as long as the reader's bytes.
    /// - Parameter what: What a part is, for the error (`"account shard"`: "account shard 3: …").
    public mutating func parts(_ count: Int, what: String) throws(SnapshotDecodingError) -> [UnsafeRawBufferPointer] {
        var parts: [UnsafeRawBufferPointer] = []
        parts.reserveCapacity(count)
        for index in 0..<count {
            let length = try take(UInt64.self)
            guard length <= UInt64(remaining) else {
                throw SnapshotDecodingError("\(what) \(index): a length of \(length) bytes past the \(remaining) that remain")
            }
            parts.append(try slice(Int(length)))
        }
        return parts
    }

    /// Decodes each of `parts` with `decode` on all cores, each from a reader of its own bytes that it must read to
    /// the end, and returns the results in the parts' order.
    ///
    /// Every part is decoded before anything is returned or thrown; the error is the first failing part's, by index,
    /// so the same bytes always give the same error.
    /// - Parameter what: What a part is, for the error (`"account shard"`: "account shard 3: …").
    /// - Throws: The first failing part's ``SnapshotDecodingError``, naming the part.
    /// - Performance: The parts are decoded in parallel; a snapshot's load time is its largest parts' divided by the
    ///   cores (`vigil-microbench recovery`).
    public static func decodeConcurrently<Value>(
        _ parts: [UnsafeRawBufferPointer], what: String, _ decode: (inout SnapshotReader) throws(SnapshotDecodingError) -> Value
    ) throws(SnapshotDecodingError) -> [Value] {
        var slots = [Result<Value, SnapshotDecodingError>?](repeating: nil, count: parts.count)
        slots.withUnsafeMutableBufferPointer { slots in
            let slots = slots
            let body: (Int) -> Void = { index in
                var reader = SnapshotReader(parts[index])
                slots[index] = Result { () throws(SnapshotDecodingError) in
                    let value = try decode(&reader)
                    try reader.expectEnd(what)
                    return value
                }
            }
            // Dispatch asks for a @Sendable closure; each part writes only its own slot, which is what makes sharing
            // the slots sound, and concurrentPerform returns only once every part is done.
            withoutActuallyEscaping(body) { body in
                let shared = UncheckedSendableBody(body)
                DispatchQueue.concurrentPerform(iterations: parts.count) { shared.body($0) }
            }
        }
        var values: [Value] = []
        values.reserveCapacity(parts.count)
        for (index, slot) in slots.enumerated() {
            switch slot {
            case .success(let value)?: values.append(value)
            case .failure(let error)?: throw SnapshotDecodingError("\(what) \(index): \(error.description)")
            case nil: throw SnapshotDecodingError("\(what) \(index) was not decoded")
            }
        }
        return values
    }
}

private struct UncheckedSendableBody: @unchecked Sendable {
    let body: (Int) -> Void

    init(_ body: @escaping (Int) -> Void) {
        self.body = body
    }
}
