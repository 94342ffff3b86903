import VigilDomain

/// Writes `history.csv` and `labels.csv` rows (and the ids, UETRs and times the daily files share with them) (docs/data-formats.md) from pre-rendered bytes, with no per-row
/// Foundation formatting.
struct HistoryFormat {
    /// The history columns, in order.
    static let historyHeader = "paymentId,perspective,type,scheme,channel,amount,currency,createdAt,"
        + "debtor.name,debtor.account.iban,debtor.account.sortCode,debtor.account.accountNumber,debtor.account.scheme,"
        + "debtor.account.id,debtor.agent,creditor.name,creditor.account.iban,creditor.account.sortCode,"
        + "creditor.account.accountNumber,creditor.account.scheme,creditor.account.id,creditor.agent,"
        + "payee.firstSeenAt,payee.confirmationOfPayee,device.id,device.ip,reference,uetr"
    static let labelsHeader = "paymentId,reportedAt,fraudType"

    private let world: World
    private let timeline: Timeline
    private let idKey: UInt64
    private let idPrefixes: [[UInt8]]
    private let schemes: [[UInt8]]
    private let channels: [[UInt8]]
    private let confirmations: [[UInt8]]
    private let currencies: [[UInt8]]
    private let fraudTypes: [FraudType: [UInt8]]
    private let sending = Array(",sending,".utf8)
    private let receiving = Array(",receiving,".utf8)
    private let push = Array("push,".utf8)
    private let pull = Array("pull,".utf8)

    init(world: World, timeline: Timeline, idKey: UInt64) {
        self.world = world
        self.timeline = timeline
        self.idKey = idKey
        idPrefixes = Bank.all.map { Array($0.bic.utf8.prefix(4)) }
        schemes = [PaymentScheme.fps, .sepaInstant, .pix, .upi, .fedNow, .rtp].map { Array(($0.text + ",").utf8) }
        channels = [Channel.mobile, .web, .branch, .api].map { Array($0.text.utf8) }
        confirmations = [PaymentEvent.Confirmation.none, .match, .closeMatch, .noMatch, .unavailable].map { Array($0.text.utf8) }
        currencies = Rail.allCases.map { Array(($0.currency + ",").utf8) }
        fraudTypes = Dictionary(uniqueKeysWithValues: FraudType.allCases.map { ($0, Array($0.rawValue.utf8)) })
    }

    func writeHeader(_ file: OutputFile) {
        file.append(HistoryFormat.historyHeader + "\n")
    }

    /// The payment id: the payer bank's code and a scrambled sequence number (unique, but not in time order).
    func writePaymentId(bank: Int, sequence: UInt32, to file: OutputFile) {
        file.append(idPrefixes[bank])
        file.append(hex: RandomSource.mix(UInt64(sequence) &+ idKey))
    }

    /// Whether a payment on `scheme` carries an ISO 20022 UETR: SEPA Instant, FedNow and RTP messages do; Faster
    /// Payments, PIX and UPI name payments their own way.
    static func hasUETR(_ scheme: PaymentScheme) -> Bool {
        scheme == .sepaInstant || scheme == .fedNow || scheme == .rtp
    }

    /// The payment's UETR, a lower-case version-4 UUID made from its sequence number (no random draw, so adding it
    /// left every other column as it was).
    func writeUETR(sequence: UInt32, to file: OutputFile) {
        let high = RandomSource.mix(UInt64(sequence) &+ idKey &+ 0x5545_5452)
        let low = RandomSource.mix(high ^ 0x9E37_79B9_7F4A_7C15)
        let hex = Array("0123456789abcdef".utf8)
        for i in 0..<32 {
            if i == 8 || i == 12 || i == 16 || i == 20 { file.append(byte: 45) }
            var nibble = Int(((i < 16 ? high : low) >> UInt64(60 - (i % 16) * 4)) & 0xF)
            if i == 12 { nibble = 4 }
            if i == 16 { nibble = 8 | (nibble & 3) }
            file.append(byte: hex[nibble])
        }
    }

    func writeRow(_ event: PaymentEvent, to file: OutputFile) {
        let debtor = world.accounts[Int(event.debtor)]
        let creditor = world.accounts[Int(event.creditor)]
        writePaymentId(bank: debtor.bank, sequence: event.sequence, to: file)
        file.append(event.perspective == .sending ? sending : receiving)
        file.append(event.isPull ? pull : push)
        file.append(schemes[Int(event.scheme.rawValue)])
        if let channel = event.channel { file.append(channels[Int(channel.rawValue)]) }
        file.append(byte: 44)
        file.append(number: event.amountMinor / 100)
        file.append(byte: 46)
        file.append(digits: Int(event.amountMinor % 100), width: 2)
        file.append(byte: 44)
        file.append(currencies[Bank.all[debtor.bank].rail.rawValue])
        let asking = event.perspective == .sending ? debtor.bank : creditor.bank
        writeTimestamp(event.millis, bank: asking, seconds: false, to: file)
        file.append(byte: 44)
        file.append(event.debtorAsIBAN ? debtor.ibanColumns ?? debtor.columns : debtor.columns)
        file.append(byte: 44)
        file.append(event.creditorAsIBAN ? creditor.ibanColumns ?? creditor.columns : creditor.columns)
        file.append(byte: 44)
        if event.payeeFirstSeenMillis != .min { writeTimestamp(event.payeeFirstSeenMillis, bank: asking, seconds: true, to: file) }
        file.append(byte: 44)
        file.append(confirmations[Int(event.confirmation.rawValue)])
        file.append(byte: 44)
        if event.device >= 0 { file.append(world.devices[Int(event.device)]) }
        file.append(byte: 44)
        if event.ip >= 0 { file.append(world.ips[Int(event.ip)]) }
        file.append(byte: 44)
        if event.reference >= 0 {
            let template = ReferenceText.templates[Int(event.reference)]
            file.append(template.text)
            if template.numbered { file.append(number: Int64(event.referenceNumber)) }
        }
        file.append(byte: 44)
        if HistoryFormat.hasUETR(event.scheme) { writeUETR(sequence: event.sequence, to: file) }
        file.append(byte: 10)
    }

    func writeLabels(_ labels: [Label], to file: OutputFile) {
        file.append(HistoryFormat.labelsHeader + "\n")
        for label in labels {
            writePaymentId(bank: label.debtorBank, sequence: label.sequence, to: file)
            file.append(byte: 44)
            writeTimestamp(label.reportedAtMillis, offsetSeconds: 0, utc: true, millis: false, to: file)
            file.append(byte: 44)
            file.append(fraudTypes[label.type]!)
            file.append(byte: 10)
        }
    }

    /// An RFC 3339 date-time as `bank` writes them: UTC with `Z` or its local offset, with milliseconds or not
    /// (`seconds` forces whole seconds, as for payee dates).
    func writeTimestamp(_ millis: Int64, bank: Int, seconds: Bool, to file: OutputFile) {
        let style = Bank.all[bank]
        let offset = style.writesUTC ? 0 : timeline.offsetSeconds(bank: bank, at: millis)
        writeTimestamp(millis, offsetSeconds: offset, utc: style.writesUTC, millis: style.writesMillis && !seconds, to: file)
    }

    func writeTimestamp(_ millis: Int64, offsetSeconds: Int, utc: Bool, millis withMillis: Bool, to file: OutputFile) {
        let local = millis + Int64(offsetSeconds) * 1000
        let day = Timeline.floorDiv(local, Timeline.dayMillis)
        let ofDay = Int(local - day * Timeline.dayMillis)
        let (year, month, dayOfMonth) = CivilDate.civil(epochDay: Int(day))
        file.append(digits: year, width: 4)
        file.append(byte: 45)
        file.append(digits: month, width: 2)
        file.append(byte: 45)
        file.append(digits: dayOfMonth, width: 2)
        file.append(byte: 84)
        file.append(digits: ofDay / 3_600_000, width: 2)
        file.append(byte: 58)
        file.append(digits: ofDay / 60_000 % 60, width: 2)
        file.append(byte: 58)
        file.append(digits: ofDay / 1000 % 60, width: 2)
        if withMillis {
            file.append(byte: 46)
            file.append(digits: ofDay % 1000, width: 3)
        }
        if utc {
            file.append(byte: 90)
        } else {
            file.append(byte: offsetSeconds < 0 ? 45 : 43)
            let magnitude = abs(offsetSeconds)
            file.append(digits: magnitude / 3600, width: 2)
            file.append(byte: 58)
            file.append(digits: magnitude / 60 % 60, width: 2)
        }
    }
}
