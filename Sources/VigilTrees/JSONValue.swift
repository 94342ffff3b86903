/// A parsed JSON value, just rich enough to read model files.
///
/// Numbers keep their text so that each field can be converted at its own precision: a threshold must
/// become the exact `Float` XGBoost wrote, not a `Double` rounded a second time.
enum JSONValue {
    case null
    case bool(Bool)
    /// The number exactly as written, including XGBoost's `NaN`, `Infinity` and `-Infinity` extensions.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; a key that appears twice is found at its first occurrence.
    case object([(key: String, value: JSONValue)])

    /// The kind of value with its article, for messages such as "found a string".
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
