import Testing
import VigilISO20022

struct XMLReaderTests {
    func read(_ text: String, limits: XMLReader.Limits = .standard) throws(XMLReaderError) -> XMLElement {
        try XMLReader(limits: limits).read(Array(text.utf8))
    }

    func code(_ text: String, limits: XMLReader.Limits = .standard) -> XMLReaderError.Code? {
        do {
            _ = try read(text, limits: limits)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func resolvesDefaultAndPrefixedNamespacesPerScope() throws {
        let root = try read("""
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- a comment --><p:Document xmlns:p="urn:a" xmlns="urn:b" q:at="1" xmlns:q="urn:q" plain="2">
              <Child><p:Inner xmlns:p="urn:c">x</p:Inner></Child><p:Other/>
            </p:Document>
            """)
        #expect(root.namespace == "urn:a" && root.name == "Document")
        #expect(root.attributes == [XMLAttribute(namespace: "urn:q", name: "at", value: "1"), XMLAttribute(name: "plain", value: "2")])
        #expect(root.children.map(\.namespace) == ["urn:b", "urn:a"])
        #expect(root.children[0].children[0].namespace == "urn:c")
        #expect(root.children[0].children[0].text == "x")
        // Lookups match the parent's namespace only.
        #expect(root.child("Other") != nil)
        #expect(root.child("Child") == nil)
    }

    @Test func resolvesThePredefinedEntitiesCharacterReferencesAndCDATA() throws {
        let root = try read(#"<a t="&quot;x&apos; &#65;">&amp;&lt;&gt;&#x263A;&#66;<![CDATA[<raw & text>]]></a>"#)
        #expect(root.text == "&<>☺B<raw & text>")
        #expect(root.attribute("t") == "\"x' A")
    }

    @Test(arguments: [
        ("<!DOCTYPE a [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><a>&xxe;</a>", XMLReaderError.Code.doctype),
        ("<!DOCTYPE a [<!ENTITY % p SYSTEM \"http://x.invalid/e.dtd\"> %p;]><a/>", .doctype),
        ("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><a>&lol2;</a>", .doctype),
        ("<!DOCTYPE a SYSTEM \"http://x.invalid/a.dtd\"><a/>", .doctype),
        ("<a><!DOCTYPE b><b/></a>", .doctype),
        ("<a><!ENTITY x \"y\"></a>", .doctype),
        ("<a>&xxe;</a>", .entityReference),
        ("<a b=\"&ent;\"/>", .entityReference),
        ("<?xml-stylesheet href=\"a.xsl\"?><a/>", .processingInstruction),
        ("<a><?php echo 1 ?></a>", .processingInstruction),
        ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", .unsupportedEncoding),
        ("<a><b></a></b>", .unbalancedTags),
        ("<a><b>", .unbalancedTags),
        ("<p:a/>", .unboundPrefix),
        ("<a p:b=\"1\"/>", .unboundPrefix),
        ("<a b=\"1\" b=\"2\"/>", .duplicateAttribute),
        ("<a xmlns:p=\"u\" xmlns:q=\"u\" p:b=\"1\" q:b=\"2\"/>", .duplicateAttribute),
        ("<a>&#0;</a>", .malformed),
        ("<a>&#xD800;</a>", .malformed),
        ("<a>\u{1}</a>", .malformed),
        ("<a/><b/>", .malformed),
        ("text", .malformed),
        ("", .malformed),
        ("<a b=1/>", .malformed),
        ("<a>& b</a>", .malformed),
    ])
    func refuses(_ text: String, _ expected: XMLReaderError.Code) {
        #expect(code(text) == expected)
    }

    @Test(arguments: [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82], [0xFF]] as [[UInt8]])
    func refusesMalformedUTF8WithItsOffset(_ sequence: [UInt8]) {
        let body = Array("<a>ok".utf8) + sequence + Array("</a>".utf8)
        #expect(throws: XMLReaderError(.malformedUTF8, at: 5, "The document is not valid UTF-8.")) { try XMLReader().read(body) }
    }

    @Test func nestingIsBoundedAtTheDocumentedDepth() {
        let limit = XMLReader.Limits.standard.maxDepth
        let nested = { (depth: Int) in String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth) }
        #expect(code(nested(limit)) == nil)
        #expect(code(nested(limit + 1)) == .tooDeep)
        #expect(code(nested(100_000)) == .tooDeep)
    }

    @Test func elementsAttributesAndTextAreBounded() {
        let limits = XMLReader.Limits(maxDepth: 32, maxElements: 10, maxAttributes: 3, maxTextBytes: 8)
        #expect(code("<a>" + String(repeating: "<b/>", count: 9) + "</a>", limits: limits) == nil)
        #expect(code("<a>" + String(repeating: "<b/>", count: 10) + "</a>", limits: limits) == .tooManyElements)
        #expect(code("<a x=\"1\" y=\"2\" z=\"3\"/>", limits: limits) == nil)
        #expect(code("<a x=\"1\" y=\"2\" z=\"3\" w=\"4\"/>", limits: limits) == .tooManyAttributes)
        #expect(code("<a>12345678</a>", limits: limits) == nil)
        #expect(code("<a>123456789</a>", limits: limits) == .textTooLong)
        #expect(code("<a>1234<![CDATA[56789]]></a>", limits: limits) == .textTooLong)
        #expect(code("<a x=\"123456789\"/>", limits: limits) == .textTooLong)
    }

    @Test func errorsNeverQuoteTheDocument() {
        do {
            _ = try read("<a>SECRET-CANARY &secret;</a>")
            Issue.record("accepted")
        } catch {
            #expect(!error.message.contains("SECRET") && !error.message.contains("secret"))
            #expect(error.byteOffset == 17)
        }
    }
}
