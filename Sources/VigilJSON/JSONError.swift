/// Why a document is not JSON, and where parsing stopped.
///
/// ``code`` and ``byteOffset`` never repeat the document, so a caller parsing untrusted personal data can
/// report them as they are. ``message`` is for the person fixing a file and may quote one character or a
/// duplicated key.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A broad classification of the syntax error, safe to show for any input.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case unexpectedEndOfInput
            case unexpectedCharacter
            case trailingContent
            case controlCharacterInString
            case invalidEscape
            case invalidUTF8
            case nestingTooDeep
            case duplicateKey
        }

        private var wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// The input ends inside a value.
        public static let unexpectedEndOfInput = Code(.unexpectedEndOfInput)
        /// A byte that the grammar does not allow where it stands.
        public static let unexpectedCharacter = Code(.unexpectedCharacter)
        /// Something other than whitespace follows the top-level value.
        public static let trailingContent = Code(.trailingContent)
        /// A byte below 0x20 inside a string; RFC 8259 requires it to be escaped.
        public static let controlCharacterInString = Code(.controlCharacterInString)
        /// A backslash escape that RFC 8259 does not define, or a `\u` escape of a lone surrogate.
        public static let invalidEscape = Code(.invalidEscape)
        /// A string whose bytes are not valid UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// Arrays and objects nested deeper than ``JSONParser/maximumDepth``.
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// An object names the same key twice. Parsers disagree on which one wins, so neither is accepted.
        public static let duplicateKey = Code(.duplicateKey)

        public var description: String {
            switch self.wrapped {
            case .unexpectedEndOfInput: "unexpected end of input"
            case .unexpectedCharacter: "unexpected character"
            case .trailingContent: "content after the end of the top-level value"
            case .controlCharacterInString: "unescaped control character in a string"
            case .invalidEscape: "invalid escape sequence in a string"
            case .invalidUTF8: "a string is not valid UTF-8"
            case .nestingTooDeep: "nesting deeper than \(JSONParser.maximumDepth) levels"
            case .duplicateKey: "an object key appears twice"
            }
        }
    }

    public var code: Code
    /// What is wrong, for example `unexpected '}', expected a value`.
    public var message: String
    /// The offset of the byte at which parsing failed.
    public var byteOffset: Int

    public init(code: Code, message: String, byteOffset: Int) {
        self.code = code
        self.message = message
        self.byteOffset = byteOffset
    }

    public var description: String {
        "invalid JSON at byte \(self.byteOffset): \(self.message)"
    }
}
