public import NIOCore

/// Parses RESP2 values out of a byte stream, one complete value at a time, without I/O.
///
/// `next(from:)` either consumes one whole value, or consumes nothing and returns `nil` when the bytes so far end
/// inside a value. Input that is not RESP2, or that exceeds a limit, throws a ``RedisError`` with code
/// ``RedisError/Code/protocolViolation``, after which the stream cannot be resynchronised and the connection must close.
public struct RESPParser: Sendable {
    /// Bounds on what a server may send, so a broken or hostile peer cannot make the client allocate without limit.
    public struct Limits: Sendable, Hashable {
        /// The longest bulk string, in bytes (Redis' own `proto-max-bulk-len` default is 512 MiB).
        public var maxBulkLength: Int
        /// The most elements in one array.
        public var maxArrayCount: Int
        /// The deepest nesting of arrays.
        public var maxDepth: Int
        /// The longest simple string, error or integer line, in bytes.
        public var maxLineLength: Int

        public init(maxBulkLength: Int = 512 * 1024 * 1024, maxArrayCount: Int = 1 << 24, maxDepth: Int = 32, maxLineLength: Int = 64 * 1024) {
            self.maxBulkLength = maxBulkLength
            self.maxArrayCount = maxArrayCount
            self.maxDepth = maxDepth
            self.maxLineLength = maxLineLength
        }
    }

    public var limits: Limits

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Reads one complete value from the front of `buffer`.
    /// - Returns: the value, or `nil` (with `buffer` untouched) when it is not complete yet.
    /// - Throws: ``RedisError`` with code `protocolViolation` for malformed input or a limit exceeded.
    public func next(from buffer: inout ByteBuffer) throws(RedisError) -> RedisValue? {
        var index = buffer.readerIndex
        guard let value = try parseValue(buffer, at: &index, depth: 0) else { return nil }
        buffer.moveReaderIndex(to: index)
        return value
    }

    private func parseValue(_ buffer: ByteBuffer, at index: inout Int, depth: Int) throws(RedisError) -> RedisValue? {
        guard let type = buffer.getInteger(at: index, as: UInt8.self) else { return nil }
        var cursor = index + 1
        guard let line = try readLine(buffer, at: &cursor) else { return nil }
        let value: RedisValue
        switch type {
        case UInt8(ascii: "+"):
            value = .simpleString(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: "-"):
            value = .error(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: ":"):
            value = .integer(try integer(line))
        case UInt8(ascii: "$"):
            let length = try integer(line)
            if length == -1 {
                value = .bulkString(nil)
                break
            }
            guard length >= 0 else { throw violation("negative bulk string length") }
            guard length <= limits.maxBulkLength else { throw violation("bulk string longer than the limit of \(limits.maxBulkLength) bytes") }
            let count = Int(length)
            guard buffer.writerIndex - cursor >= count + 2 else { return nil }
            let bytes = buffer.getSlice(at: cursor, length: count)!
            guard buffer.getInteger(at: cursor + count, as: UInt8.self) == UInt8(ascii: "\r"),
                buffer.getInteger(at: cursor + count + 1, as: UInt8.self) == UInt8(ascii: "\n")
            else { throw violation("bulk string not terminated by CRLF") }
            cursor += count + 2
            value = .bulkString(bytes)
        case UInt8(ascii: "*"):
            let count = try integer(line)
            if count == -1 {
                value = .array(nil)
                break
            }
            guard count >= 0 else { throw violation("negative array length") }
            guard count <= limits.maxArrayCount else { throw violation("array longer than the limit of \(limits.maxArrayCount) elements") }
            guard depth < limits.maxDepth else { throw violation("arrays nested deeper than the limit of \(limits.maxDepth)") }
            // Every element needs at least 3 bytes, so a count the buffer cannot hold yet waits without allocating.
            guard buffer.writerIndex - cursor >= Int(count) * 3 else { return nil }
            var elements: [RedisValue] = []
            elements.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let element = try parseValue(buffer, at: &cursor, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            value = .array(elements)
        default:
            throw violation("unknown RESP2 type byte \(type)")
        }
        index = cursor
        return value
    }

    /// The bytes up to the next CRLF, or `nil` if the CRLF has not arrived yet.
    private func readLine(_ buffer: ByteBuffer, at cursor: inout Int) throws(RedisError) -> ByteBufferView? {
        let available = buffer.writerIndex - cursor
        let view = buffer.readableBytesView
        // ByteBufferView's indices are the buffer's own indices.
        let start = cursor
        let end = start + min(available, limits.maxLineLength + 2)
        guard let cr = view[start..<end].firstIndex(of: UInt8(ascii: "\r")) else {
            if available > limits.maxLineLength { throw violation("line longer than the limit of \(limits.maxLineLength) bytes") }
            return nil
        }
        guard cr + 1 < view.endIndex else { return nil }
        guard view[cr + 1] == UInt8(ascii: "\n") else { throw violation("CR not followed by LF") }
        cursor = cr + 2
        return view[start..<cr]
    }

    /// A decimal integer with an optional sign, parsed from the bytes without making a string.
    private func integer(_ line: ByteBufferView) throws(RedisError) -> Int64 {
        var digits = line
        var negative = false
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { throw violation("not an integer") }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { throw violation("not an integer") }
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflow1 && !overflow2 else { throw violation("integer out of range") }
            value = next
        }
        return value
    }

    private func violation(_ message: String) -> RedisError {
        RedisError(code: .protocolViolation, message: message)
    }
}

/// Feeds ``RESPParser`` from a channel: one ``RedisValue`` per complete RESP2 value.
struct RESPDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = RedisValue
    let parser: RESPParser

    mutating func decode(buffer: inout ByteBuffer) throws -> RedisValue? {
        try parser.next(from: &buffer)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RedisValue? {
        try decode(buffer: &buffer)
    }
}

/// Writes a command the way clients send them: an array of bulk strings.
enum RESPEncoder {
    static func encode(_ arguments: [RedisArgument], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            buffer.writeStaticString("$")
            buffer.writeString(String(argument.bytes.readableBytes))
            buffer.writeStaticString("\r\n")
            buffer.writeImmutableBuffer(argument.bytes)
            buffer.writeStaticString("\r\n")
        }
    }
}
