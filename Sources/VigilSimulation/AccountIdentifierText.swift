/// An account identifier as the CSV's five account columns spell it.
struct AccountIdentifierText {
    var iban = ""
    var sortCode = ""
    var accountNumber = ""
    var scheme = ""
    var id = ""
}

/// Random decimal digit strings.
enum Digits {
    static func random(_ count: Int, _ random: inout RandomSource) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count { bytes[i] = UInt8(48 + random.int(below: 10)) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Random RFC 4122 version-4 identifiers, the shape of PIX keys and mobile device ids.
enum UUIDText {
    static func random(_ random: inout RandomSource, upperCase: Bool) -> String {
        let hex = Array(upperCase ? "0123456789ABCDEF".utf8 : "0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        let high = random.next()
        let low = random.next()
        for i in 0..<32 {
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(UInt8(ascii: "-")) }
            var nibble = Int(((i < 16 ? high : low) >> UInt64((i % 16) * 4)) & 0xF)
            if i == 12 { nibble = 4 }
            if i == 16 { nibble = 8 | (nibble & 3) }
            out.append(hex[nibble])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// IBAN assembly with correct ISO 7064 mod-97-10 check digits.
enum IBANText {
    static func make(country: String, bban: String) -> String {
        var remainder = 0
        for byte in (bban + country + "00").utf8 {
            if byte >= 65 {
                remainder = (remainder * 100 + Int(byte) - 55) % 97
            } else {
                remainder = (remainder * 10 + Int(byte) - 48) % 97
            }
        }
        let check = 98 - remainder
        return country + (check < 10 ? "0" : "") + String(check) + bban
    }

    /// The French RIB key, so French IBANs also pass national checks.
    static func ribKey(bank: String, branch: String, account: String) -> String {
        let key = 97 - (89 * Int(bank)! + 15 * Int(branch)! + 3 * Int(account)!) % 97
        return (key < 10 ? "0" : "") + String(key)
    }
}
