import Foundation
import Testing
import VigilDomain
import VigilGateway
import VigilProtection

struct GatewayTests {
    func keyRing() throws -> KeyRing {
        let dir = NSTemporaryDirectory() + "vigil-gw-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try KeyRing.open(directory: dir, provider: FileKeyProvider(path: dir + "/master.key"))
    }

    @Test func tokenisesEveryPersonalValue() throws {
        let keys = try keyRing()
        let gateway = Gateway(keys: keys)
        let request = try PaymentRequestDecoder().decode(encoded(validBody())).get()
        let payment = gateway.tokenize(request)
        let text = String(decoding: try JSONEncoder().encode(payment), as: UTF8.self)
        // The sort code 404142 stays readable as the debtor's institution (a bank's branch, not a person's).
        for secret in ["Alice", "ALICE", "12345678", "98765432", "dev-1", "203.0.113.9", "rent", "gb:404142"] {
            #expect(!text.contains(secret), "tokenised payment leaks \(secret)")
        }
        #expect(payment.debtor.institution == InstitutionCode(type: .sortCode, value: "404142"))
        #expect(try keys.open(.account, payment.debtor.sealedAccount) == Array("gb:404142:12345678".utf8))
        #expect(try keys.open(.name, payment.debtor.sealedName!) == Array("Alice Example".utf8))
        #expect(try keys.open(.reference, payment.sealedReference!) == Array("rent".utf8))
    }

    /// The party's institution code: a UK account's sort code (domestic or GB IBAN), else the agent BIC's first eight
    /// characters, else a US `ABA` account's routing number; none otherwise.
    @Test(arguments: [
        (AccountIdentifier.ukDomestic(sortCode: "404142", accountNumber: "12345678"), "NWBKGB2LXXX", InstitutionCode(type: .sortCode, value: "404142")),
        (.iban("GB82WEST12345698765432"), nil, InstitutionCode(type: .sortCode, value: "123456")),
        (.iban("DE89370400440532013000"), "cobadeffxxx", InstitutionCode(type: .bic, value: "COBADEFF")),
        (.scheme(scheme: "ABA", id: "021000021-1234567890"), nil, InstitutionCode(type: .routing, value: "021000021")),
        (.scheme(scheme: "ABA", id: "0210000219"), nil, nil),
        (.scheme(scheme: "PIX", id: "12345678901"), nil, nil),
        (.iban("DE89370400440532013000"), "SHORT", nil),
    ] as [(AccountIdentifier, String?, InstitutionCode?)])
    func aPartysInstitutionCode(account: AccountIdentifier, agent: String?, expected: InstitutionCode?) {
        #expect(Gateway.institution(of: Party(name: nil, account: account, agent: agent)) == expected)
    }

    @Test func aUKIBANAndItsDomesticFormAreOneAccount() throws {
        let gateway = Gateway(keys: try keyRing())
        var viaIBAN = validBody()
        viaIBAN["debtor"] = ["account": ["iban": "GB82WEST12345698765432"]]
        var viaDomestic = validBody()
        viaDomestic["debtor"] = ["account": ["sortCode": "123456", "accountNumber": "98765432"]]
        let a = gateway.tokenize(try PaymentRequestDecoder().decode(encoded(viaIBAN)).get())
        let b = gateway.tokenize(try PaymentRequestDecoder().decode(encoded(viaDomestic)).get())
        #expect(a.debtor.account == b.debtor.account)
    }

    @Test func namesAreNormalisedBeforeTokenising() throws {
        let gateway = Gateway(keys: try keyRing())
        var first = validBody()
        first["debtor"] = ["name": "alice   example", "account": ["iban": "GB82WEST12345698765432"]]
        var second = validBody()
        second["debtor"] = ["name": "ALICE EXAMPLE", "account": ["iban": "GB82WEST12345698765432"]]
        let a = gateway.tokenize(try PaymentRequestDecoder().decode(encoded(first)).get())
        let b = gateway.tokenize(try PaymentRequestDecoder().decode(encoded(second)).get())
        #expect(a.debtor.name == b.debtor.name)
        #expect(a.debtor.sealedName != b.debtor.sealedName)
    }

    /// Tokens computed outside Vigil (Python `hmac`) for `validBody()` under the fixed keys: changing how the
    /// gateway tokenises must not change a single token that is already stored.
    @Test func tokensOfAKnownPaymentAreUnchanged() throws {
        let keys = try fixedKeyRing()
        let payment = Gateway(keys: keys).tokenize(try PaymentRequestDecoder().decode(encoded(validBody())).get())
        #expect(payment.debtor.account.hex == "de420fb76fb8c38134e82e9398879cdbc8b966129e68601bfe7f4fe7e2c086dc")
        #expect(payment.debtor.name?.hex == "42d6e553657228c8059b561494ae4200875c24f8818e2d3b102da26531296558")
        #expect(payment.creditor.account.hex == "c9970a43e27818408b0deebcd2b343479b7be305e8588534b57e0b2af4e52714")
        #expect(payment.creditor.name == nil)
        #expect(payment.device?.hex == "4be79b8146ff92de4bc3dcea7a6ab01d178b08d7bc4f7ac769247d102651f696")
        #expect(payment.ip?.hex == "4e74cc189a89466ef1fcfdd997f376a4970838527e1ee017af7eb4dee7d5cd4f")
        #expect(try keys.open(.account, payment.creditor.sealedAccount) == Array("gb:123456:98765432".utf8))
        #expect(payment.debtor.agent == "NWBKGB2L")
    }

    /// The name token is the token of the upper-cased name with runs of whitespace made one space, the
    /// definition every stored name token was made with, for ASCII and non-ASCII names alike.
    @Test(arguments: [
        "alice   example", " Alice\tExample ", "a\r\nb", "a\u{0B}b\u{0C}c", "x\u{1C}y\u{1F}z", "o'brien-smith  jr.",
        "   ", "", "Zoë   Ångström", "straße", "ǅemal", "a\u{00A0}b", "a\u{2003}\u{3000}b", "e\u{301} \u{301}x",
        "İstanbul ıdır", "ＡＢＣ ａｂｃ", "李 小龙", "~!@#$%^&*()_+{}|:<>?`-=[]\\;',./\"",
    ])
    func namesAreTokenisedInTheirNormalForm(name: String) throws {
        let keys = try fixedKeyRing()
        var request = try PaymentRequestDecoder().decode(encoded(validBody())).get()
        request.debtor.name = name
        let payment = Gateway(keys: keys).tokenize(request)
        let normal = name.uppercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        #expect(payment.debtor.name == keys.token(.name, Array(normal.utf8)))
        #expect(try keys.open(.name, payment.debtor.sealedName!) == Array(name.utf8))
    }
}
