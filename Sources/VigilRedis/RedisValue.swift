public import NIOCore

/// One RESP2 value, as the server sends it.
public enum RedisValue: Sendable, Hashable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    /// A bulk string; `nil` is RESP2's null bulk string (`$-1`).
    case bulkString(ByteBuffer?)
    /// An array; `nil` is RESP2's null array (`*-1`).
    case array([RedisValue]?)

    /// The value as text: a simple string, a bulk string decoded as UTF-8, or an integer's digits; `nil` otherwise.
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let b?): return String(buffer: b)
        case .integer(let i): return String(i)
        default: return nil
        }
    }

    /// The value as an integer: an integer, or a simple or bulk string holding one.
    public var int: Int64? {
        switch self {
        case .integer(let i): return i
        case .simpleString(let s): return Int64(s)
        case .bulkString(let b?): return Int64(String(buffer: b))
        default: return nil
        }
    }

    /// The elements of a non-null array.
    public var array: [RedisValue]? {
        if case .array(let a?) = self { return a }
        return nil
    }

    /// True for a null bulk string or a null array.
    public var isNull: Bool {
        switch self {
        case .bulkString(nil), .array(nil): return true
        default: return false
        }
    }
}

extension RedisValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .simpleString(let s): return "+\(s)"
        case .error(let e): return "-\(e)"
        case .integer(let i): return ":\(i)"
        case .bulkString(nil): return "(nil)"
        case .bulkString(let b?): return "$\(b.readableBytes)"
        case .array(nil): return "*(nil)"
        case .array(let a?): return "[\(a.map(\.description).joined(separator: ", "))]"
        }
    }
}

/// One argument of a command: RESP2 sends every argument as a bulk string.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public var bytes: ByteBuffer

    public init(_ bytes: ByteBuffer) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = ByteBuffer(string: string) }
    public init(_ value: some BinaryInteger) { self.bytes = ByteBuffer(string: String(value)) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(value) }
}
