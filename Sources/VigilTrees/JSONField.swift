import VigilJSON

/// A JSON value together with its path in the document, so that a failed read names the field.
///
/// Reads are typed and throw ``ModelError`` with the path in the message, for example
/// `'learner.gradient_booster.model.trees[3].left_children[5]' is a string, expected an integer`.
struct JSONField {
    var value: JSONValue
    /// The dotted path from the document root, such as `learner.learner_model_param.base_score`.
    var path: String

    init(root: JSONValue) {
        self.value = root
        self.path = ""
    }

    init(value: JSONValue, path: String) {
        self.value = value
        self.path = path
    }

    /// The member named `key`.
    /// - Throws: ``ModelError/Code/missingField`` when it is absent, ``ModelError/Code/wrongType`` when this
    ///   value is not an object.
    func member(_ key: String) throws(ModelError) -> JSONField {
        guard let field = try self.optionalMember(key) else {
            throw ModelError(code: .missingField, message: "'\(self.memberPath(key))' is missing")
        }
        return field
    }

    /// The member named `key`, or `nil` when the object has no such member.
    func optionalMember(_ key: String) throws(ModelError) -> JSONField? {
        guard case .object(let members) = self.value else {
            throw self.wrongType(expected: "an object")
        }
        for member in members where member.key == key {
            return JSONField(value: member.value, path: self.memberPath(key))
        }
        return nil
    }

    func string() throws(ModelError) -> String {
        guard case .string(let text) = self.value else {
            throw self.wrongType(expected: "a string")
        }
        return text
    }

    func array() throws(ModelError) -> [JSONValue] {
        guard case .array(let elements) = self.value else {
            throw self.wrongType(expected: "an array")
        }
        return elements
    }

    /// The text of a scalar parameter, which XGBoost writes as a string (`"300"`) but a number also serves.
    func scalarText() throws(ModelError) -> String {
        switch self.value {
        case .number(let number): return number
        case .string(let string): return string
        default: throw self.wrongType(expected: "a string or a number")
        }
    }

    /// An integer written either as a JSON number or, as XGBoost writes its parameters, as a string.
    func integerScalar() throws(ModelError) -> Int {
        let text = try self.scalarText()
        guard let integer = Int(text) else {
            throw ModelError(code: .invalidValue, message: "'\(self.path)' is \"\(text)\", expected an integer")
        }
        return integer
    }

    func integerArray() throws(ModelError) -> [Int] {
        try self.mapElements { (element, index) throws(ModelError) -> Int in
            guard case .number(let text) = element, let integer = Int(text) else {
                throw self.elementWrongType(element, index: index, expected: "an integer")
            }
            return integer
        }
    }

    /// Elements converted straight from their text to `Float`, so each is the exact float32 XGBoost wrote.
    func floatArray() throws(ModelError) -> [Float] {
        try self.mapElements { (element, index) throws(ModelError) -> Float in
            guard case .number(let text) = element, let number = Float(text) else {
                throw self.elementWrongType(element, index: index, expected: "a number")
            }
            return number
        }
    }

    /// Flags written as `0`/`1` (XGBoost 1.6 and later) or as `false`/`true`.
    func flagArray() throws(ModelError) -> [Bool] {
        try self.mapElements { (element, index) throws(ModelError) -> Bool in
            switch element {
            case .bool(let flag):
                return flag
            case .number("0"):
                return false
            case .number("1"):
                return true
            case .number(let text):
                throw ModelError(
                    code: .invalidValue,
                    message: "'\(self.path)[\(index)]' is \(text), expected 0 or 1"
                )
            default:
                throw self.elementWrongType(element, index: index, expected: "0 or 1")
            }
        }
    }

    func stringArray() throws(ModelError) -> [String] {
        try self.mapElements { (element, index) throws(ModelError) -> String in
            guard case .string(let text) = element else {
                throw self.elementWrongType(element, index: index, expected: "a string")
            }
            return text
        }
    }

    private func mapElements<Element>(
        _ transform: (JSONValue, Int) throws(ModelError) -> Element
    ) throws(ModelError) -> [Element] {
        let elements = try self.array()
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for index in elements.indices {
            result.append(try transform(elements[index], index))
        }
        return result
    }

    private func memberPath(_ key: String) -> String {
        self.path.isEmpty ? key : "\(self.path).\(key)"
    }

    private func wrongType(expected: String) -> ModelError {
        let name = self.path.isEmpty ? "the document" : "'\(self.path)'"
        return ModelError(
            code: .wrongType,
            message: "\(name) is \(self.value.kindDescription), expected \(expected)"
        )
    }

    private func elementWrongType(_ element: JSONValue, index: Int, expected: String) -> ModelError {
        let found: String
        if case .number(let text) = element {
            found = text
        } else {
            found = element.kindDescription
        }
        return ModelError(code: .wrongType, message: "'\(self.path)[\(index)]' is \(found), expected \(expected)")
    }
}
