import VigilDomain
/// One account of the simulated world, pre-rendered as the seven CSV columns of a party so a row copies bytes.
struct Account {
    var bank: Int
    var name: String
    /// The account as its own columns, for the daily files that name it without a holder.
    var identifier: AccountIdentifierText
    /// `name,iban,sortCode,accountNumber,scheme,id,agent`, escaped, as the account is usually written.
    var columns: [UInt8]
    /// The same account written as a GB IBAN (UK accounts only): one account, two spellings, one token.
    var ibanColumns: [UInt8]?

    init(bank: Int, name: String, identifier: AccountIdentifierText) {
        self.bank = bank
        self.name = name
        self.identifier = identifier
        let agent = Bank.all[bank].bic
        let escapedName = csvField(name)
        if !identifier.sortCode.isEmpty {
            columns = Array("\(escapedName),,\(identifier.sortCode),\(identifier.accountNumber),,,\(agent)".utf8)
            ibanColumns = Array("\(escapedName),\(identifier.iban),,,,,\(agent)".utf8)
        } else if !identifier.iban.isEmpty {
            columns = Array("\(escapedName),\(identifier.iban),,,,,\(agent)".utf8)
        } else {
            columns = Array("\(escapedName),,,,\(identifier.scheme),\(csvField(identifier.id)),\(agent)".utf8)
        }
    }
}
