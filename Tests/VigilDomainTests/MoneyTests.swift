import Testing
import VigilDomain

struct MoneyTests {
    let gbp = Currency(code: "GBP")!
    let jpy = Currency(code: "JPY")!
    let kwd = Currency(code: "KWD")!

    @Test(arguments: [("250.00", 25000), ("250", 25000), ("0.01", 1), ("1.5", 150), ("999999999999999.99", 99_999_999_999_999_999)])
    func parsesExactMinorUnits(text: String, minor: Int64) throws {
        let money = try Money.parse(text, currency: gbp).get()
        #expect(money.minorUnits == minor)
    }

    @Test func respectsEachCurrencyScale() throws {
        #expect(try Money.parse("100", currency: jpy).get().minorUnits == 100)
        #expect(Money.parse("100.5", currency: jpy) == .failure(.tooPrecise(allowedDecimals: 0)))
        #expect(try Money.parse("1.234", currency: kwd).get().minorUnits == 1234)
        #expect(Money.parse("10.001", currency: gbp) == .failure(.tooPrecise(allowedDecimals: 2)))
        #expect(Money.parse("10.000", currency: gbp) == .failure(.tooPrecise(allowedDecimals: 2)))
    }

    @Test(arguments: ["", "-1.00", "+1", "1e3", "1.", ".5", "1,00", " 1", "1.2.3", "NaN", "0x10"])
    func refusesWhatIsNotAPlainDecimal(text: String) {
        #expect(Money.parse(text, currency: gbp) == .failure(.notADecimal))
    }

    @Test func refusesZeroAndHugeAmounts() {
        #expect(Money.parse("0", currency: gbp) == .failure(.notPositive))
        #expect(Money.parse("0.00", currency: gbp) == .failure(.notPositive))
        #expect(Money.parse("1234567890123456", currency: gbp) == .failure(.tooLarge))
    }

    /// Found by `FuzzPaymentRequest`: 15 integer digits scaled to four decimals overflowed `Int64` and trapped.
    @Test func refusesFourDecimalAmountsBeyondInt64InsteadOfTrapping() throws {
        let clf = Currency(code: "CLF")!
        #expect(Money.parse("999999999999999", currency: clf) == .failure(.tooLarge))
        #expect(Money.parse("999999999999999.9999", currency: clf) == .failure(.tooLarge))
        #expect(Money.parse("922337203685477.5808", currency: clf) == .failure(.tooLarge))
        #expect(try Money.parse("922337203685477.5807", currency: clf).get().minorUnits == .max)
        // Nineteen digits that would overflow are still over-precise first for a two-decimal currency.
        #expect(Money.parse("999999999999999.9999", currency: gbp) == .failure(.tooPrecise(allowedDecimals: 2)))
        #expect(try Money.parse("999999999999999.99", currency: gbp).get().minorUnits == 99_999_999_999_999_999)
    }

    @Test func printsCanonicalDecimal() throws {
        #expect(try Money.parse("1.5", currency: gbp).get().decimalString == "1.50")
        #expect(try Money.parse("0.07", currency: gbp).get().decimalString == "0.07")
        #expect(try Money.parse("42", currency: jpy).get().decimalString == "42")
        #expect(try Money.parse("0.5", currency: kwd).get().majorUnits == 0.5)
    }

    @Test func knowsActiveCurrenciesOnly() {
        #expect(Currency(code: "EUR")?.minorUnits == 2)
        #expect(Currency(code: "XYZ") == nil)
        #expect(Currency(code: "gbp") == nil)
        #expect(Currency(code: "XAU") == nil)
        #expect(Currency(code: "HRK") == nil)
    }
}
