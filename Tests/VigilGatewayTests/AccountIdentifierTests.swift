import Testing
import VigilGateway

struct AccountIdentifierTests {
    /// The canonical text is what gets tokenised, so it must stay exactly what it always was: a UK IBAN (22
    /// characters from "GB") folds to sort code and account number, every other IBAN is kept whole.
    @Test(arguments: [
        ("GB82WEST12345698765432", "gb:123456:98765432"),
        ("GB29NWBK60161331926819", "gb:601613:31926819"),
        ("DE89370400440532013000", "iban:DE89370400440532013000"),
        ("GB82WEST1234569876543", "iban:GB82WEST1234569876543"),
        ("GB82WEST123456987654321", "iban:GB82WEST123456987654321"),
        ("GB82 WEST 1234 5698 7654", "iban:GB82 WEST 1234 5698 7654"),
        ("GB82WÉST12345698765432", "gb:123456:98765432"),
        ("GB82WEST1234569876543é", "gb:123456:9876543é"),
        ("GB82WEST12345698765432\u{301}", "gb:123456:98765432\u{301}"),
    ])
    func ibansFoldAsTheyAlwaysHave(iban: String, canonical: String) {
        #expect(AccountIdentifier.iban(iban).canonical == canonical)
    }

    @Test func domesticAndSchemeIdentifiersKeepTheirParts() {
        #expect(AccountIdentifier.ukDomestic(sortCode: "404142", accountNumber: "12345678").canonical == "gb:404142:12345678")
        #expect(AccountIdentifier.scheme(scheme: "upi", id: "alice@bank").canonical == "scheme:upi:alice@bank")
    }
}
