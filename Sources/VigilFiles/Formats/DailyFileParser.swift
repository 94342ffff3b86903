public import VigilDomain
public import VigilGateway

/// Reads a daily file's plaintext as it streams in (docs/data-formats.md): checks its encoding, line endings and
/// header, validates each row by its type's rules, and hands each valid row on. Memory is bounded by the longest row,
/// not the file.
///
/// A file-level problem throws ``FileRefusal`` and the file loads nothing. After any error thrown (a refusal, or the
/// row callback's own), discard the parser. A bad row is a ``RowError`` and the rows around it still load; whether
/// the file as a whole is taken is the pipeline's call (``exceedsErrorThreshold(_:)``).
///
/// - Performance: rows per second on a simulated history, parse and validate: `vigil-microbench files` (release build).
public struct DailyFileParser: Sendable {
    public let type: DailyFileType
    let history: HistoryReader
    let columns: DailyFileColumns
    var splitter = CSVRecordSplitter()
    /// The header's columns by name, once row 1 is read.
    var index: [String: Int]?
    var width = 0
    /// Where each history column comes from (history files only).
    var historySources: [HistoryColumn] = []
    /// The current row's cells as text, reused from row to row.
    var cells: [String] = []
    /// How many of the file's first bytes match a UTF-8 byte-order mark, while all of them do.
    var leadingBOMBytes = 0

    /// The row errors kept: the first ``maxRowErrors``; ``rejected`` counts them all.
    public private(set) var rowErrors: [RowError] = []
    public private(set) var accepted = 0
    public private(set) var rejected = 0

    public static let maxRowErrors = 1_000
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// - Parameter history: how `history` rows are read; its mapping, time and amount formats apply (the defaults
    ///   read the documented format).
    public init(type: DailyFileType, history: HistoryReader = HistoryReader()) {
        self.type = type
        self.history = history
        self.columns = DailyFileColumns.of(type, history: history)
    }

    /// Feeds the next chunk of plaintext; calls `row(rowNumber, parsedRow)` for each complete valid row.
    /// - Throws: ``FileRefusal`` for a file-level problem (BOM, header, mixed line endings, invalid UTF-8…), or what
    ///   `row` throws.
    public mutating func feed(_ chunk: ArraySlice<UInt8>, _ row: (Int, ParsedRow) throws -> Void) throws {
        try chunk.withUnsafeBufferPointer { buffer in
            if leadingBOMBytes == splitter.consumed, leadingBOMBytes < 3 {
                var k = 0
                while leadingBOMBytes < 3, k < buffer.count, buffer[k] == Self.byteOrderMark[leadingBOMBytes] {
                    leadingBOMBytes += 1
                    k += 1
                }
                if leadingBOMBytes == 3 { throw FileRefusal("the file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM") }
            }
            var position = 0
            while try splitter.next(buffer, position: &position) {
                try record(row)
                splitter.clearRecord()
            }
        }
    }

    /// Ends the file.
    /// - Throws: ``FileRefusal`` when the last line has no line ending (a truncated file), the file is empty, or it
    ///   holds only a header.
    public mutating func finish(_ row: (Int, ParsedRow) throws -> Void) throws {
        guard splitter.consumed > 0 else { throw FileRefusal("the file is empty (0 bytes): it has no rows") }
        guard !splitter.isInsideRecord else {
            throw FileRefusal("the last row (row \(splitter.row)) does not end with a line ending: the file looks truncated; send it again whole")
        }
        guard accepted + rejected > 0 else { throw FileRefusal("the file has a header but no rows") }
    }

    /// True when more than `fraction` (0–1, config `intakeErrorThreshold`) of the rows read were rejected: the file is
    /// then rejected whole and loads nothing.
    public func exceedsErrorThreshold(_ fraction: Double) -> Bool {
        Double(rejected) > fraction * Double(accepted + rejected)
    }

    /// Handles the record the splitter holds: the header, or a data row.
    private mutating func record(_ row: (Int, ParsedRow) throws -> Void) throws {
        let number = splitter.row
        let count = splitter.ends.count
        cells.removeAll(keepingCapacity: true)
        for i in 0..<count {
            let cell = splitter.cell(i)
            guard let text = Self.text(cell) else {
                throw FileRefusal("row \(number) is not valid UTF-8; save the file as UTF-8")
            }
            cells.append(text)
        }
        guard let index else {
            try header(number)
            return
        }
        if let problem = splitter.problem {
            reject(RowError(row: number, column: nil, reason: problem))
            return
        }
        guard count == width else {
            let reason = count == 1 && cells[0].isEmpty ? "an empty row; remove blank lines" : "expected \(width) cells, found \(count)"
            reject(RowError(row: number, column: nil, reason: reason))
            return
        }
        let parsed: Result<ParsedRow, RowRejection>
        switch type {
        case .history:
            parsed = history.request(cells, columns: historySources).map(ParsedRow.history)
        case .fraudReports:
            parsed = Result { () throws(RowRejection) in ParsedRow.fraudReport(try DailyFileRows.fraudReport(RowCells(cells: cells, index: index))) }
        case .status:
            parsed = Result { () throws(RowRejection) in try DailyFileRows.status(RowCells(cells: cells, index: index)) }
        case .entitlements:
            parsed = Result { () throws(RowRejection) in try DailyFileRows.entitlement(RowCells(cells: cells, index: index)) }
        case .directory:
            parsed = Result { () throws(RowRejection) in try DailyFileRows.directory(RowCells(cells: cells, index: index)) }
        case .accountMap:
            parsed = Result { () throws(RowRejection) in try DailyFileRows.accountLink(RowCells(cells: cells, index: index)) }
        }
        switch parsed {
        case .success(let value):
            try row(number, value)
            accepted += 1
        case .failure(let rejection):
            reject(RowError(row: number, column: rejection.column, reason: rejection.reason))
        }
    }

    private mutating func header(_ number: Int) throws(FileRefusal) {
        if let problem = splitter.problem { throw FileRefusal("the header row is malformed: \(problem)") }
        let index = try columns.check(header: cells, type: type)
        if type == .history {
            do {
                historySources = try history.sources { index[$0] }
            } catch {
                throw FileRefusal(error.description)
            }
        }
        self.index = index
        width = cells.count
    }

    private mutating func reject(_ error: RowError) {
        rejected += 1
        if rowErrors.count < Self.maxRowErrors { rowErrors.append(error) }
    }

    /// The cell as text, or nil when it is not valid UTF-8.
    static func text(_ cell: ArraySlice<UInt8>) -> String? {
        if cell.allSatisfy({ $0 < 0x80 }) { return String(decoding: cell, as: UTF8.self) }
        return String(validating: cell, as: UTF8.self)
    }
}
