/// A problem in a rule file, located at the 1-based line and column where reading it went wrong.
///
/// Rule files are checked completely when they are loaded, so every error surfaces here and
/// none at evaluation. Only the first error in a file is reported.
public struct RuleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem, for code that reacts to it; `message` is for people.
    public var code: Code
    /// The 1-based line of the problem.
    public var line: Int
    /// The 1-based column of the problem, counted in Unicode scalars; a tab counts as one.
    public var column: Int
    /// What was wrong and what was expected instead.
    public var message: String

    public init(code: Code, line: Int, column: Int, message: String) {
        self.code = code
        self.line = line
        self.column = column
        self.message = message
    }

    init(_ code: Code, at position: SourcePosition, _ message: String) {
        self.init(code: code, line: position.line, column: position.column, message: message)
    }

    /// `line L, column C: message`.
    public var description: String {
        "line \(self.line), column \(self.column): \(self.message)"
    }
}

extension RuleError {
    /// A broad classification of a rule error; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case unexpectedToken
            case unterminatedString
            case invalidEscape
            case invalidNumber
            case unknownOperand
            case typeMismatch
            case unknownOutcome
            case emptyName
            case duplicateName
            case nestingTooDeep
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        public var description: String {
            switch self.wrapped {
            case .unexpectedToken: "unexpected token"
            case .unterminatedString: "unterminated string"
            case .invalidEscape: "invalid escape"
            case .invalidNumber: "invalid number"
            case .unknownOperand: "unknown operand"
            case .typeMismatch: "type mismatch"
            case .unknownOutcome: "unknown outcome"
            case .emptyName: "empty name"
            case .duplicateName: "duplicate name"
            case .nestingTooDeep: "nesting too deep"
            }
        }

        /// Something other than what the grammar allows at this point, including a stray character.
        public static var unexpectedToken: Self { Self(.unexpectedToken) }
        /// A string literal without its closing quote on the same line.
        public static var unterminatedString: Self { Self(.unterminatedString) }
        /// A backslash in a string literal not followed by `"` or `\`.
        public static var invalidEscape: Self { Self(.invalidEscape) }
        /// A malformed number literal, such as `1.2.3`, `7x` or one too large for a `Double`.
        public static var invalidNumber: Self { Self(.invalidNumber) }
        /// An operand the schema does not define.
        public static var unknownOperand: Self { Self(.unknownOperand) }
        /// Text and numbers mixed, an ordering comparison on text, or `in` on a number.
        public static var typeMismatch: Self { Self(.typeMismatch) }
        /// An outcome other than `allow`, `review` or `block`.
        public static var unknownOutcome: Self { Self(.unknownOutcome) }
        /// A rule named `""`.
        public static var emptyName: Self { Self(.emptyName) }
        /// A rule name already used earlier in the file.
        public static var duplicateName: Self { Self(.duplicateName) }
        /// More nested `(` and `not` than ``RuleSet/maximumNesting``.
        public static var nestingTooDeep: Self { Self(.nestingTooDeep) }
    }
}
