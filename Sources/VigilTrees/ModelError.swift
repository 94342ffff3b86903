/// An error found while loading a tree model.
///
/// Every error has a broad ``Code`` for programs to switch on and a ``message`` for the person who has
/// to fix the model file: it names the tree, the node and the field involved.
public struct ModelError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A broad classification of what is wrong with the model.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case malformedJSON
            case missingField
            case wrongType
            case invalidValue
            case countMismatch
            case unsupportedObjective
            case unsupportedModel
            case unsupportedSplit
            case invalidTree
            case indexOutOfRange
        }

        private var wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// The bytes are not valid JSON; ``ModelError/byteOffset`` says where parsing stopped.
        public static let malformedJSON = Code(.malformedJSON)
        /// A field the model needs is absent.
        public static let missingField = Code(.missingField)
        /// A field holds a JSON value of the wrong kind, for example a string where an array belongs.
        public static let wrongType = Code(.wrongType)
        /// A field has the right type but an unusable value: a non-finite threshold, a base score outside (0, 1).
        public static let invalidValue = Code(.invalidValue)
        /// Two counts that must agree do not: `num_trees` against the trees, an array against `num_nodes`.
        public static let countMismatch = Code(.countMismatch)
        /// The objective is not `binary:logistic`.
        public static let unsupportedObjective = Code(.unsupportedObjective)
        /// The model is not a single-target gradient-boosted tree model (for example DART, multi-class).
        public static let unsupportedModel = Code(.unsupportedModel)
        /// A tree uses a split this runtime does not evaluate, such as a categorical split.
        public static let unsupportedSplit = Code(.unsupportedSplit)
        /// A tree's shape is not a tree: a cycle, a shared child, an orphan node or a half-leaf.
        public static let invalidTree = Code(.invalidTree)
        /// A child index or feature index points outside its range.
        public static let indexOutOfRange = Code(.indexOutOfRange)

        public var description: String {
            switch self.wrapped {
            case .malformedJSON: "malformed JSON"
            case .missingField: "missing field"
            case .wrongType: "wrong type"
            case .invalidValue: "invalid value"
            case .countMismatch: "count mismatch"
            case .unsupportedObjective: "unsupported objective"
            case .unsupportedModel: "unsupported model"
            case .unsupportedSplit: "unsupported split"
            case .invalidTree: "invalid tree"
            case .indexOutOfRange: "index out of range"
            }
        }
    }

    /// What kind of problem this is.
    public var code: Code
    /// What is wrong and where: the tree, node and field, or the byte offset for JSON syntax errors.
    public var message: String
    /// For ``Code/malformedJSON``, the offset of the byte at which parsing failed; otherwise `nil`.
    public var byteOffset: Int?

    public init(code: Code, message: String, byteOffset: Int? = nil) {
        self.code = code
        self.message = message
        self.byteOffset = byteOffset
    }

    public var description: String {
        "\(self.code): \(self.message)"
    }
}
