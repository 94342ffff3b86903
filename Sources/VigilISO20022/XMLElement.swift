/// One element of a read document: its namespace-resolved name, attributes, child elements and character data.
///
/// The one model every ISO 20022 message is decoded from, whether it arrived as XML or as JSON
/// (`ISO20022JSON`), so one mapping serves both.
public struct XMLElement: Sendable, Hashable {
    /// The namespace URI the element's prefix (or the default namespace) is bound to; empty for none.
    public var namespace: String
    /// The local name, without prefix.
    public var name: String
    public var attributes: [XMLAttribute]
    public var children: [XMLElement]
    /// The element's own character data (entity and character references resolved, CDATA included); child
    /// elements' text is not part of it.
    public var text: String

    public init(namespace: String, name: String, attributes: [XMLAttribute] = [], children: [XMLElement] = [], text: String = "") {
        self.namespace = namespace
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child called `name` in this element's namespace; elements of other namespaces are never matched.
    public func child(_ name: String) -> XMLElement? {
        children.first { $0.name == name && $0.namespace == namespace }
    }

    /// Every child called `name` in this element's namespace, in document order.
    public func children(_ name: String) -> [XMLElement] {
        children.filter { $0.name == name && $0.namespace == namespace }
    }

    /// The element at a path of child names (`["Id", "IBAN"]`), first match at each step.
    public func descendant(_ path: String...) -> XMLElement? {
        var current = self
        for name in path {
            guard let next = current.child(name) else { return nil }
            current = next
        }
        return current
    }

    /// The value of the un-prefixed attribute `name`.
    public func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name && $0.namespace.isEmpty }?.value
    }
}

/// One attribute, namespace-resolved (an un-prefixed attribute has no namespace).
public struct XMLAttribute: Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var value: String

    public init(namespace: String = "", name: String, value: String) {
        self.namespace = namespace
        self.name = name
        self.value = value
    }
}
