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
        for secret in ["Alice", "ALICE", "404142", "12345678", "98765432", "dev-1", "203.0.113.9", "rent"] {
            #expect(!text.contains(secret), "tokenised payment leaks \(secret)")
        }
        #expect(try keys.open(.account, payment.debtor.sealedAccount) == Array("gb:404142:12345678".utf8))
        #expect(try keys.open(.name, payment.debtor.sealedName!) == Array("Alice Example".utf8))
        #expect(try keys.open(.reference, payment.sealedReference!) == Array("rent".utf8))
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
}
