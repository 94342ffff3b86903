import Testing
import VigilServer

struct DistinguishedNameTests {
    static let bankA = DER.name([
        [("2.5.4.6", DER.printable("GB"))], [("2.5.4.10", DER.utf8("Bank A"))], [("2.5.4.3", DER.utf8("bank-a-client"))],
    ])

    func certificateName(_ rdns: [[(String, [UInt8])]]) throws -> DistinguishedName {
        let der = TestCertificate(subject: rdns).der
        return try #require(ClientCertificate(der: der)).subject
    }

    @Test func readsRFC4514MostSpecificFirst() throws {
        let name = try DistinguishedName(parsing: "CN=bank-a-client,O=Bank A,C=GB")
        #expect(name.rdns.map { $0.map(\.type) } == [["2.5.4.6"], ["2.5.4.10"], ["2.5.4.3"]])
        #expect(name.rdns.map { $0.map(\.text) } == [["GB"], ["Bank A"], ["bank-a-client"]])
        let certificate = try certificateName([
            [("2.5.4.6", DER.printable("GB"))], [("2.5.4.10", DER.utf8("Bank A"))], [("2.5.4.3", DER.utf8("bank-a-client"))],
        ])
        #expect(name.matches(certificate))
        #expect(certificate.description == "CN=bank-a-client,O=Bank A,C=GB")
    }

    @Test(arguments: [
        "cn=bank-a-client,o=Bank A,c=GB",
        "CN = bank-a-client , O = Bank A , C = GB",
        "2.5.4.3=bank-a-client,2.5.4.10=Bank A,2.5.4.6=GB",
        "CN=bank\\2Da-client,O=Bank\\20A,C=GB",
        "CN=#0c0d62616e6b2d612d636c69656e74,O=Bank A,C=#13024742",
    ])
    func spellingsOfOneName(_ text: String) throws {
        let certificate = try certificateName([
            [("2.5.4.6", DER.printable("GB"))], [("2.5.4.10", DER.utf8("Bank A"))], [("2.5.4.3", DER.utf8("bank-a-client"))],
        ])
        #expect(try DistinguishedName(parsing: text).matches(certificate))
    }

    @Test(arguments: [
        "CN=bank-a-client,O=Bank A",  // an RDN short
        "CN=bank-a-client,O=Bank A,C=GB,DC=example",  // an RDN more
        "O=Bank A,CN=bank-a-client,C=GB",  // another order
        "CN=Bank-A-Client,O=Bank A,C=GB",  // values keep their case
        "CN=bank-a-client,OU=Bank A,C=GB",  // another type
        "CN=#1304626f6775,O=Bank A,C=GB",  // another encoding
    ])
    func otherNamesDoNotMatch(_ text: String) throws {
        let certificate = try certificateName([
            [("2.5.4.6", DER.printable("GB"))], [("2.5.4.10", DER.utf8("Bank A"))], [("2.5.4.3", DER.utf8("bank-a-client"))],
        ])
        #expect(!(try DistinguishedName(parsing: text).matches(certificate)))
    }

    @Test func escapesAndMultiValuedRDNs() throws {
        let certificate = try certificateName([
            [("2.5.4.10", DER.utf8("Smith, Jones + Co"))],
            [("2.5.4.3", DER.utf8(" lead#")), ("0.9.2342.19200300.100.1.1", DER.utf8("42"))],
        ])
        #expect(certificate.description == #"CN=\ lead#+UID=42,O=Smith\, Jones \+ Co"#)
        #expect(try DistinguishedName(parsing: certificate.description).matches(certificate))
        // The attributes of one RDN in either order.
        #expect(try DistinguishedName(parsing: #"UID=42+CN=\ lead#,O=Smith\, Jones \+ Co"#).matches(certificate))
        #expect(try DistinguishedName(parsing: #"CN=\20lead\23,UID=42,O=Smith\2C Jones \2B Co"#).matches(certificate) == false)
    }

    @Test func nonASCIIAndOtherStringTypes() throws {
        let certificate = try certificateName([[("2.5.4.10", DER.bmp("Bänk Ω"))], [("2.5.4.3", DER.utf8("Zoë"))]])
        #expect(certificate.description == "CN=Zoë,O=Bänk Ω")
        #expect(try DistinguishedName(parsing: "CN=Zo\\C3\\AB,O=Bänk Ω").matches(certificate))
    }

    @Test func typesWithoutAShortNameUseHex() throws {
        let certificate = try certificateName([[("2.5.4.3", DER.utf8("x"))], [("1.3.6.1.4.1.99999.1", DER.utf8("team"))]])
        #expect(certificate.description == "1.3.6.1.4.1.99999.1=#0c047465616d,CN=x")
        #expect(try DistinguishedName(parsing: certificate.description).matches(certificate))
        #expect(try DistinguishedName(parsing: "1.3.6.1.4.1.99999.1=team,CN=x").matches(certificate))
    }

    @Test(arguments: [
        ("", "is empty"),
        ("CN", "RDN 1 has no '='"),
        ("CN=a,O", "RDN 2 has no '='"),
        ("CN=a+O", "RDN 1 attribute 2 has no '='"),
        ("=a", "RDN 1 has no attribute type"),
        ("Nickname=Secret Person", "RDN 1: the attribute type is neither"),
        ("1.2.=x", "RDN 1: the attribute type is neither"),
        ("CN=", "RDN 1 has an empty value"),
        ("CN=a,O=  ", "RDN 2 has an empty value"),
        ("CN=Secret Person\\", "lone '\\'"),
        ("CN=Secret\\qPerson", "must be followed by"),
        ("CN=#abc", "even number of hex digits"),
        ("CN=#0c05ab", "not one DER-encoded item"),
        ("CN=\\ff\\fe", "not UTF-8"),
    ])
    func refusesBadNamesWithoutEchoingThem(_ text: String, _ expected: String) {
        let error = #expect(throws: DistinguishedName.Invalid.self) { try DistinguishedName(parsing: text) }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "no error")")
        #expect(error?.description.contains("Secret") == false)
        #expect(error?.description.contains("Person") == false)
    }
}
