import Foundation

/// Number formatting for the Markdown and the SVGs: fixed, locale-free and never `nan`.
enum Formatting {
    /// `x` with `digits` decimals, or `n/a`.
    static func decimal(_ value: Double?, _ digits: Int = 3) -> String {
        guard let value, value.isFinite else { return "n/a" }
        return String(format: "%.\(digits)f", value)
    }

    /// A probability with three significant digits, in scientific notation below 0.0001 (`0.15`, `0.000113`,
    /// `1.53e-06`), so that the small probabilities most payments get stay distinguishable; `n/a` when unknown.
    static func probability(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "n/a" }
        return String(format: "%.3g", value)
    }

    /// A rate as a percentage with two decimals under 1% and one above, or `n/a`.
    static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "n/a" }
        let percent = value * 100
        return String(format: abs(percent) < 1 && percent != 0 ? "%.2f%%" : "%.1f%%", percent)
    }

    /// An integer with thousands separators: `12,345`.
    static func count(_ value: Int?) -> String {
        guard let value else { return "n/a" }
        let digits = String(value.magnitude)
        var grouped = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return value < 0 ? "-" + grouped : grouped
    }

    /// An amount in major units with thousands separators and two decimals.
    static func amount(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        let cents = (abs(value) * 100).rounded()
        guard cents < 9e15 else { return String(format: "%.0f", value) }
        let whole = Int(cents / 100)
        let fraction = Int(cents) % 100
        return (value < 0 ? "-" : "") + self.count(whole) + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }

    /// `text` safe inside SVG/XML character data and attribute values.
    static func xmlEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            // XML 1.0 cannot hold control characters other than tab, line feed and carriage return, even escaped.
            case _ where character.unicodeScalars.contains { $0.value < 0x20 && !"\t\n\r".unicodeScalars.contains($0) }:
                escaped += " "
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// `text` safe inside a Markdown table cell.
    static func markdownCell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
