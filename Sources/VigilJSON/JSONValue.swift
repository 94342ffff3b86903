/// A parsed JSON value.
///
/// Numbers keep their text so that each field can be converted at its own precision: a model threshold must
/// become the exact `Float` XGBoost wrote, not a `Double` rounded a second time.
public enum JSONValue: Sendable {
    /// One member of an object.
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    case null
    case bool(Bool)
    /// The number exactly as written; with ``JSONParser/Options/nonFiniteNumbers`` also `NaN`, `Infinity`
    /// or `-Infinity`.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order. The parser refuses an object that names a key twice.
    case object([Member])

    /// The kind of value with its article, for messages such as "found a string".
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value of the member named `key` when this is an object that has one; otherwise `nil`.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else {
            return nil
        }
        for member in members where member.key == key {
            return member.value
        }
        return nil
    }
}

extension JSONValue: Equatable {
    /// Objects are equal when they have the same members in the same order.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null):
            return true
        case (.bool(let a), .bool(let b)):
            return a == b
        case (.number(let a), .number(let b)):
            return a == b
        case (.string(let a), .string(let b)):
            return a == b
        case (.array(let a), .array(let b)):
            return a == b
        case (.object(let a), .object(let b)):
            return a == b
        default:
            return false
        }
    }
}
