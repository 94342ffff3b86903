/// A point in time as the payment carried it: UTC milliseconds plus the sender's UTC offset,
/// so features can use the payer's local hour of day.
public struct Instant: Hashable, Sendable, Comparable, Codable {
    public var epochMillis: Int64
    public var utcOffsetSeconds: Int32

    public init(epochMillis: Int64, utcOffsetSeconds: Int32 = 0) {
        self.epochMillis = epochMillis
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    enum CodingKeys: String, CodingKey {
        case epochMillis = "ms"
        case utcOffsetSeconds = "off"
    }

    public var epochSeconds: Double { Double(epochMillis) / 1000 }

    /// The local hour of day (0–23) in the offset the timestamp was written with.
    public var localHour: Int {
        let local = epochMillis / 1000 + Int64(utcOffsetSeconds)
        let secondsOfDay = ((local % 86_400) + 86_400) % 86_400
        return Int(secondsOfDay / 3600)
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.epochMillis < rhs.epochMillis }

    /// Parses an RFC 3339 `date-time` (e.g. `2026-11-22T09:30:00.250+01:00`); nil when it is not one.
    public init?(rfc3339 text: String) {
        var parser = DigitParser(Array(text.utf8))
        guard let year = parser.digits(4), parser.expect("-"),
              let month = parser.digits(2), parser.expect("-"),
              let day = parser.digits(2), parser.expectOneOf("T", "t"),
              let hour = parser.digits(2), parser.expect(":"),
              let minute = parser.digits(2), parser.expect(":"),
              let second = parser.digits(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Instant.daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var millis = 0
        if parser.expect(".") {
            var count = 0
            while let d = parser.digit() {
                if count < 3 { millis = millis * 10 + d }
                count += 1
            }
            guard count > 0 else { return nil }
            for _ in min(count, 3)..<3 { millis *= 10 }
        }
        var offset = 0
        if parser.expectOneOf("Z", "z") {
            offset = 0
        } else if let sign = parser.signChar() {
            guard let oh = parser.digits(2), parser.expect(":"), let om = parser.digits(2), oh <= 23, om <= 59 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard parser.atEnd else { return nil }
        // A leap second is folded onto the second before it; ordering within that second is kept by the millis.
        let days = Instant.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offset)
        self.init(epochMillis: seconds * 1000 + Int64(millis), utcOffsetSeconds: Int32(offset))
    }

    /// The RFC 3339 form in UTC with milliseconds, e.g. `2026-11-22T08:30:00.250Z`.
    public var rfc3339UTC: String {
        let seconds = epochMillis >= 0 ? epochMillis / 1000 : (epochMillis - 999) / 1000
        let millis = Int(epochMillis - seconds * 1000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (y, m, d) = Instant.civilFromDays(Int(days))
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    /// Days in a month of the proleptic Gregorian calendar.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a calendar date (Howard Hinnant's days_from_civil).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The calendar date of a day count since 1970-01-01 (civil_from_days).
    public static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

struct DigitParser {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func digit() -> Int? {
        guard index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else { return nil }
        defer { index += 1 }
        return Int(bytes[index] - UInt8(ascii: "0"))
    }

    mutating func digits(_ count: Int) -> Int? {
        var value = 0
        for _ in 0..<count {
            guard let d = digit() else { return nil }
            value = value * 10 + d
        }
        return value
    }

    mutating func expect(_ ch: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: ch) else { return false }
        index += 1
        return true
    }

    mutating func expectOneOf(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> Bool { expect(a) || expect(b) }

    mutating func signChar() -> Int? {
        if expect("+") { return 1 }
        if expect("-") { return -1 }
        return nil
    }
}
