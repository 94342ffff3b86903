/// The byte form of feature state, for stores outside the process (Valkey/Redis).
///
/// Each record starts with a format byte (``version``) and then holds the state's own words, little-endian, so a
/// record decodes to exactly the state that was encoded and the extractor computes the same values from it as from
/// `InMemoryFeatureStore`. A record that does not decode (another format, a damaged value) is refused with
/// ``StateStoreError/Kind/corrupt``: the extractor never indexes past a history's words.
///
/// | record | bytes |
/// |---|---|
/// | account | version, outgoing part, incoming part |
/// | a part | tag 0 (none); tag 1 and the one payment (28 or 30 bytes); tag 2, a word count (u32) and the words |
/// | pair | version, last time, max amount, newest amount, count, newest currency, then per earlier payment 12 bytes |
/// | device/IP | version, tag 0; tag 1, debtor and sighting; tag 2, a word count (u32) and the words |
///
/// Format 2 (issue 14) adds the long-horizon state: a debtor's one payment ends with whether it went to a new payee
/// (a byte), a creditor's with its sender's fingerprint (u32), and histories carry long buckets and senders in their
/// words (their layout word counts them). Format 1 records still read: a one payment then counts as a new payee's
/// (a debtor's only payment is) with an unknown sender, and a history's long windows start empty.
public enum FeatureStateCoding {
    public static let version: UInt8 = 2
    /// The formats this build reads.
    public static let readableVersions: ClosedRange<UInt8> = 1...2

    public static func encode(_ state: AccountState) -> [UInt8] {
        var out = ByteWriter()
        out.byte(version)
        switch state.outgoing {
        case .none: out.byte(0)
        case .one(let payment):
            out.byte(1)
            out.word(UInt64(bitPattern: payment.at))
            out.word(payment.creditor)
            out.amount(payment.amount)
            out.byte(payment.hour)
            out.half(payment.currency)
            out.byte(payment.isNewPayee ? 1 : 0)
        case .many(let history):
            out.byte(2)
            out.words(history.words)
        }
        switch state.incoming {
        case .none: out.byte(0)
        case .one(let payment):
            out.byte(1)
            out.word(UInt64(bitPattern: payment.at))
            out.word(payment.bank)
            out.amount(payment.amount)
            out.byte((payment.isFirstTime ? 1 : 0) | (payment.hasBank ? 2 : 0))
            out.u32(payment.sender)
        case .many(let history):
            out.byte(2)
            out.words(history.words)
        }
        return out.bytes
    }

    public static func decodeAccount(_ bytes: [UInt8]) throws(StateStoreError) -> AccountState {
        var input = ByteReader(bytes)
        let version = try input.expectVersion()
        var state = AccountState()
        switch try input.byte() {
        case 0: break
        case 1:
            let at = Int64(bitPattern: try input.word())
            let creditor = try input.word()
            let amount = try input.amount()
            let hour = try input.byte()
            guard hour < 24 else { throw ByteReader.corrupt("an hour of day past 23") }
            let currency = try input.half()
            let isNewPayee = version >= 2 ? try input.byte() != 0 : true
            state.outgoing = .one(OutgoingPayment(at: at, creditor: creditor, amount: amount, hour: hour, currency: currency, isNewPayee: isNewPayee))
        case 2:
            let history = OutgoingHistory(words: try input.words())
            guard history.isWellFormed else { throw ByteReader.corrupt("a debtor history whose layout does not fit its words") }
            state.outgoing = .many(history)
        default: throw ByteReader.corrupt("an unknown debtor part")
        }
        switch try input.byte() {
        case 0: break
        case 1:
            let at = Int64(bitPattern: try input.word())
            let bank = try input.word()
            let amount = try input.amount()
            let flags = try input.byte()
            let sender = version >= 2 ? try input.u32() : 0
            state.incoming = .one(
                IncomingPayment(at: at, bank: bank, amount: amount, isFirstTime: flags & 1 != 0, hasBank: flags & 2 != 0, sender: sender)
            )
        case 2:
            let history = IncomingHistory(words: try input.words())
            guard history.isWellFormed else { throw ByteReader.corrupt("a creditor history whose layout does not fit its words") }
            state.incoming = .many(history)
        default: throw ByteReader.corrupt("an unknown creditor part")
        }
        try input.expectEnd()
        return state
    }

    public static func encode(_ pair: PairState) -> [UInt8] {
        var out = ByteWriter()
        out.byte(version)
        out.word(UInt64(bitPattern: pair.lastAt))
        out.word(pair.maxAmount.bitPattern)
        out.word(UInt64(bitPattern: pair.newestMinorUnits))
        out.word(UInt64(pair.count))
        out.half(pair.newestCurrency)
        for payment in pair.earlier {
            out.word(UInt64(bitPattern: payment.minorUnits))
            out.half(payment.age)
            out.half(payment.currency)
        }
        return out.bytes
    }

    public static func decodePair(_ bytes: [UInt8]) throws(StateStoreError) -> PairState {
        var input = ByteReader(bytes)
        try input.expectVersion()
        var pair = PairState()
        pair.lastAt = Int64(bitPattern: try input.word())
        pair.maxAmount = Double(bitPattern: try input.word())
        pair.newestMinorUnits = Int64(bitPattern: try input.word())
        guard let count = UInt32(exactly: try input.word()) else { throw ByteReader.corrupt("a pair count past 32 bits") }
        pair.count = count
        pair.newestCurrency = try input.half()
        while !input.isAtEnd {
            guard pair.earlier.count < PairState.recentLimit - 1 else { throw ByteReader.corrupt("too many recent payments") }
            let minor = Int64(bitPattern: try input.word())
            let age = try input.half()
            pair.earlier.append(PairState.RecentPayment(minorUnits: minor, age: age, currency: try input.half()))
        }
        return pair
    }

    public static func encode(_ entity: EntityState) -> [UInt8] {
        var out = ByteWriter()
        out.byte(version)
        switch entity.debtors {
        case .none: out.byte(0)
        case .one(let debtor, let seen):
            out.byte(1)
            out.word(debtor)
            out.word(UInt64(bitPattern: seen))
        case .many(let words):
            out.byte(2)
            out.words(words)
        }
        return out.bytes
    }

    public static func decodeEntity(_ bytes: [UInt8]) throws(StateStoreError) -> EntityState {
        var input = ByteReader(bytes)
        try input.expectVersion()
        var entity = EntityState()
        switch try input.byte() {
        case 0: break
        case 1: entity.debtors = .one(debtor: try input.word(), seen: Int64(bitPattern: try input.word()))
        case 2:
            let words = try input.words()
            guard words.count % 2 == 0, words.count >= 4 else { throw ByteReader.corrupt("a device/IP set of odd length") }
            entity.debtors = .many(words)
        default: throw ByteReader.corrupt("an unknown device/IP form")
        }
        try input.expectEnd()
        return entity
    }
}

extension OutgoingHistory {
    /// Whether the layout word's counts fit the words, so every read stays inside them.
    var isWellFormed: Bool {
        words.count >= Self.headerWords && words[5] >> 33 & 0x7FFF == 0
            && words.count >= longStart + longCount * OutgoingState.longLadder.recordWords
    }
}

extension IncomingHistory {
    var isWellFormed: Bool {
        words.count >= Self.headerWords && words.count >= sendersStart + senderCount
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func half(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func word(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func amount(_ amount: StateAmount) {
        word(UInt64(bitPattern: amount.minorUnits))
        byte(amount.exponent)
    }

    mutating func words(_ words: ContiguousArray<UInt64>) {
        let count = UInt32(words.count)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
        bytes.reserveCapacity(bytes.count + words.count * 8)
        for value in words { word(value) }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func corrupt(_ what: String) -> StateStoreError {
        StateStoreError(.corrupt, "a stored feature record holds \(what)")
    }

    var isAtEnd: Bool { position == bytes.count }

    /// The record's format, one this build reads.
    @discardableResult
    mutating func expectVersion() throws(StateStoreError) -> UInt8 {
        let found = try byte()
        let readable = FeatureStateCoding.readableVersions
        guard readable.contains(found) else {
            throw StateStoreError(
                .corrupt, "a stored feature record has format \(found); this build reads formats \(readable.lowerBound) to \(readable.upperBound)"
            )
        }
        return found
    }

    mutating func expectEnd() throws(StateStoreError) {
        guard isAtEnd else { throw Self.corrupt("\(bytes.count - position) bytes past its end") }
    }

    mutating func byte() throws(StateStoreError) -> UInt8 {
        guard position < bytes.count else { throw Self.corrupt("too few bytes") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func half() throws(StateStoreError) -> UInt16 {
        UInt16(try byte()) | UInt16(try byte()) << 8
    }

    mutating func u32() throws(StateStoreError) -> UInt32 {
        UInt32(try half()) | UInt32(try half()) << 16
    }

    mutating func word() throws(StateStoreError) -> UInt64 {
        guard bytes.count - position >= 8 else { throw Self.corrupt("too few bytes") }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[position + i]) << UInt64(8 * i) }
        position += 8
        return value
    }

    mutating func amount() throws(StateStoreError) -> StateAmount {
        let minor = Int64(bitPattern: try word())
        let exponent = try byte()
        guard exponent <= 4 else { throw Self.corrupt("a currency exponent past 4") }
        return StateAmount(minorUnits: minor, exponent: exponent)
    }

    mutating func words() throws(StateStoreError) -> ContiguousArray<UInt64> {
        let count = Int(UInt32(try half()) | UInt32(try half()) << 16)
        guard count <= (bytes.count - position) / 8 else { throw Self.corrupt("a word count past its bytes") }
        var words = ContiguousArray<UInt64>()
        words.reserveCapacity(count)
        for _ in 0..<count { words.append(try word()) }
        return words
    }
}

extension OutgoingHistory {
    init(words: ContiguousArray<UInt64>) {
        self.init()
        self.words = words
    }
}

extension IncomingHistory {
    init(words: ContiguousArray<UInt64>) {
        self.init()
        self.words = words
    }
}
