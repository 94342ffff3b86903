/// Splits RFC 4180 CSV into records as chunks of it arrive, holding only the record being read: its cells' bytes
/// (quotes undone) end to end, and where each cell ends. A chunk may end anywhere: inside a cell, a quoted cell, a
/// multi-byte character or a CRLF.
///
/// It enforces the shape every daily file shares (docs/data-formats.md): one line ending throughout, no bare CR, rows
/// no longer than ``maxRowBytes``. Quoting mistakes inside a row are the row's problem, not the file's.
struct CSVRecordSplitter {
    enum LineEnding: Equatable {
        case lf, crlf
        var name: String { self == .lf ? "LF" : "CRLF" }
    }

    enum State {
        /// At the start of a cell: a quote here opens a quoted cell.
        case cellStart
        case unquoted
        case quoted
        /// A quote inside a quoted cell: the cell's end, or the first half of a doubled quote.
        case quoteInQuoted
        /// A CR outside quotes: only an LF may follow.
        case afterCR
    }

    /// The longest row accepted, so a runaway quoted cell cannot hold the whole file in memory.
    static let maxRowBytes = 1 << 20

    /// The current record's cells, end to end.
    private(set) var bytes: [UInt8] = []
    /// Where each completed cell of the current record ends in `bytes`.
    private(set) var ends: [Int] = []
    /// The current record's first quoting mistake, if any.
    private(set) var problem: String?
    /// The current record's number, the header being 1.
    private(set) var row = 1
    private(set) var lineEnding: LineEnding?
    private(set) var state = State.cellStart
    /// Bytes of the file seen so far.
    private(set) var consumed = 0

    init() {
        bytes.reserveCapacity(512)
        ends.reserveCapacity(32)
    }

    /// True when the file has ended inside a record: its last line has no line ending.
    var isInsideRecord: Bool { state != .cellStart || !bytes.isEmpty || !ends.isEmpty }

    /// The current record's cell `i`.
    func cell(_ i: Int) -> ArraySlice<UInt8> { bytes[(i == 0 ? 0 : ends[i - 1])..<ends[i]] }

    /// Makes room for the next record once the caller is done with the current one.
    mutating func clearRecord() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        problem = nil
        row += 1
    }

    /// Reads `chunk` from `position` until a record is complete (true: the record is in ``bytes`` and ``ends``;
    /// `position` is just past its line ending) or the chunk is used up (false).
    /// - Throws: ``FileRefusal`` for a bare CR, a line ending unlike the first one, or a row over ``maxRowBytes``.
    mutating func next(_ chunk: UnsafeBufferPointer<UInt8>, position: inout Int) throws(FileRefusal) -> Bool {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var i = position
        let end = chunk.count
        defer {
            consumed += i - position
            position = i
        }
        while i < end {
            let byte = chunk[i]
            switch state {
            case .cellStart, .unquoted:
                if byte == comma {
                    ends.append(bytes.count)
                    state = .cellStart
                } else if byte == lf {
                    i += 1
                    try endRecord(.lf)
                    return true
                } else if byte == cr {
                    state = .afterCR
                } else if byte == quote {
                    if state == .cellStart {
                        state = .quoted
                    } else {
                        if problem == nil { problem = "a double quote inside an unquoted cell; quote the whole cell and double the quote" }
                        bytes.append(byte)
                    }
                } else {
                    // Plain bytes run until the next special one: append them in one go.
                    var j = i + 1
                    while j < end {
                        let b = chunk[j]
                        if b == comma || b == lf || b == cr || b == quote { break }
                        j += 1
                    }
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[i..<j]))
                    state = .unquoted
                    i = j
                    try checkLength()
                    continue
                }
            case .quoted:
                if byte == quote {
                    state = .quoteInQuoted
                } else {
                    var j = i + 1
                    while j < end, chunk[j] != quote { j += 1 }
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[i..<j]))
                    i = j
                    try checkLength()
                    continue
                }
            case .quoteInQuoted:
                if byte == quote {
                    bytes.append(quote)
                    state = .quoted
                } else if byte == comma {
                    ends.append(bytes.count)
                    state = .cellStart
                } else if byte == lf {
                    i += 1
                    try endRecord(.lf)
                    return true
                } else if byte == cr {
                    state = .afterCR
                } else {
                    if problem == nil { problem = "text after a quoted cell's closing quote; double a quote inside a quoted cell" }
                    bytes.append(byte)
                    state = .unquoted
                }
            case .afterCR:
                guard byte == lf else {
                    throw FileRefusal("row \(row) has a carriage return (CR) not followed by a line feed; end lines with LF or CRLF")
                }
                i += 1
                try endRecord(.crlf)
                return true
            }
            i += 1
        }
        return false
    }

    private mutating func endRecord(_ ending: LineEnding) throws(FileRefusal) {
        ends.append(bytes.count)
        state = .cellStart
        if let lineEnding, lineEnding != ending {
            throw FileRefusal(
                "row \(row) ends with \(ending.name) where the rows before it end with \(lineEnding.name); use one line ending throughout"
            )
        }
        lineEnding = ending
    }

    private func checkLength() throws(FileRefusal) {
        if bytes.count > Self.maxRowBytes {
            throw FileRefusal("row \(row) is longer than \(Self.maxRowBytes) bytes; is a quoted cell left open?")
        }
    }
}
