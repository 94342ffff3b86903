import VigilJSON

/// The output formats of `vigil report` (docs/reporting.md describes each).
public enum ReportFormat: String, Sendable, CaseIterable {
    case md, csv, json
}

extension UsageReport {
    /// The per-day columns of the Markdown and CSV forms, in order.
    public static let csvColumns = [
        "tenant", "day", "scored", "sending", "receiving", "allow", "review", "block", "duplicates", "billable_units",
        "p50_micros", "p99_micros", "rule_firings",
    ]

    /// The columns of the billing CSV (`--monthly`).
    public static let monthlyColumns = ["tenant", "month", "billable_units", "scored", "duplicates"]

    /// The report in `format`, ending with a newline.
    public func rendered(_ format: ReportFormat) -> String {
        switch format {
        case .md: markdown()
        case .csv: csv()
        case .json: json()
        }
    }

    /// `name=count` for each rule that fired, by name, `;`-separated.
    static func firings(_ row: TenantDayUsage) -> String {
        row.ruleFirings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
    }

    static func cells(_ row: TenantDayUsage) -> [String] {
        [
            row.tenant, row.day.description, String(row.scored), String(row.sending), String(row.receiving),
            String(row.allow), String(row.review), String(row.block), String(row.duplicates), String(row.billableUnits),
            row.p50Micros.map(String.init) ?? "", row.p99Micros.map(String.init) ?? "", firings(row),
        ]
    }

    /// A Markdown table, one row per tenant and day, under a heading naming the range.
    public func markdown() -> String {
        var out = "# Vigil usage, \(from) to \(to) (UTC)\n\n"
        if let tenant { out += "Tenant: \(Self.markdownCell(tenant))\n\n" }
        out += "| tenant | day | scored | sending | receiving | allow | review | block | duplicates | billable units | p50 µs | p99 µs | rule firings |\n"
        out += "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n"
        for row in days {
            out += "| " + Self.cells(row).map(Self.markdownCell).joined(separator: " | ") + " |\n"
        }
        if days.isEmpty { out += "\nNo events in this range.\n" }
        return out
    }

    static func markdownCell(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\\" || character == "|" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// RFC 4180 CSV: a header line, one record per tenant and day, CRLF line ends.
    public func csv() -> String {
        Self.csv(header: Self.csvColumns, rows: days.map(Self.cells))
    }

    /// The billing CSV: one record per tenant and month.
    public func monthlyCSV() -> String {
        Self.csv(
            header: Self.monthlyColumns,
            rows: months.map { [$0.tenant, $0.month, String($0.billableUnits), String($0.scored), String($0.duplicates)] }
        )
    }

    static func csv(header: [String], rows: [[String]]) -> String {
        var out = header.map(csvField).joined(separator: ",") + "\r\n"
        for row in rows { out += row.map(csvField).joined(separator: ",") + "\r\n" }
        return out
    }

    /// A field quoted when it holds a comma, a quote, CR or LF, its quotes doubled (RFC 4180 §2).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return text }
        var quoted = "\""
        for character in text {
            if character == "\"" { quoted.append("\"") }
            quoted.append(character)
        }
        return quoted + "\""
    }

    /// The JSON document (`"schema": "vigil.report.v1"`), ending with a newline.
    public func json() -> String {
        var writer = JSONWriter(capacity: 256 + 384 * days.count)
        writer.beginObject()
        writer.key("schema")
        writer.string("vigil.report.v1")
        writer.key("from")
        writer.string(from.description)
        writer.key("to")
        writer.string(to.description)
        writer.key("tenant")
        if let tenant { writer.string(tenant) } else { writer.null() }
        writer.key("days")
        writer.beginArray()
        for row in days {
            writer.beginObject()
            writer.key("tenant")
            writer.string(row.tenant)
            writer.key("day")
            writer.string(row.day.description)
            writer.key("scored")
            writer.int(row.scored)
            writer.key("perspectives")
            writer.beginObject()
            writer.key("sending")
            writer.int(row.sending)
            writer.key("receiving")
            writer.int(row.receiving)
            writer.endObject()
            writer.key("decisions")
            writer.beginObject()
            writer.key("allow")
            writer.int(row.allow)
            writer.key("review")
            writer.int(row.review)
            writer.key("block")
            writer.int(row.block)
            writer.endObject()
            writer.key("duplicates")
            writer.int(row.duplicates)
            writer.key("billableUnits")
            writer.int(row.billableUnits)
            writer.key("processingMicros")
            writer.beginObject()
            writer.key("p50")
            if let p50 = row.p50Micros { writer.int(p50) } else { writer.null() }
            writer.key("p99")
            if let p99 = row.p99Micros { writer.int(p99) } else { writer.null() }
            writer.endObject()
            writer.key("ruleFirings")
            writer.beginObject()
            for (name, count) in row.ruleFirings.sorted(by: { $0.key < $1.key }) {
                writer.key(name)
                writer.int(count)
            }
            writer.endObject()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self) + "\n"
    }
}
