// Feeds raw bytes to `EventCoding.decodeRecord`, the entry recovery, export and reporting read event-log records
// through: the compact binary records and the JSON records older logs hold.
//
// A log record is read back after a crash, a disk error or a copy, so damage is expected input: an
// `EventDecodingError` is the expected outcome; a crash, trap, sanitizer report or hang is a finding. Beyond not
// crashing, each input checks what the record format promises:
// - a refusal has a non-empty message of at most 512 bytes;
// - a record that reads, written again as a binary record, reads again and writes back to the same bytes (the
//   writer's output is a fixed point), and renders as JSON (`exportJSON`) exactly as `encode` writes its event;
// - every binary record that reads is refused as truncated without its last byte.
import VigilDomain
import VigilEngine

/// The longest error message allowed, in UTF-8 bytes.
let longestMessage = 512

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEventRecord(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let payload = Array(UnsafeBufferPointer(start: start, count: count))
    let event: LoggedEvent
    do {
        event = try EventCoding.decodeRecord(payload)
    } catch {
        guard !error.message.isEmpty, error.message.utf8.count <= longestMessage else {
            fatalError("a refusal with a message of \(error.message.utf8.count) bytes: \(error)")
        }
        return 0
    }
    // JSON records start with `{` (or whitespace before it); every other first byte is a binary format.
    let binary = payload.first.map { ![UInt8(ascii: "{"), 0x20, 0x09, 0x0A, 0x0D].contains($0) } ?? false
    let rewritten = record(event)
    do {
        let again = record(try EventCoding.decodeRecord(rewritten))
        guard again == rewritten else { fatalError("a rewritten record changed when read and written again") }
    } catch {
        fatalError("a record written from a read one is refused: \(error)")
    }
    do {
        let json = try EventCoding.exportJSON(payload)
        if binary {
            guard json == encode(event) else { fatalError("exportJSON differs from encode for a binary record") }
        }
    } catch {
        fatalError("a record that reads does not export: \(error)")
    }
    if binary {
        do {
            _ = try EventCoding.decodeRecord(Array(payload.dropLast()))
            fatalError("a binary record without its last byte still reads")
        } catch {
            guard error.code == .truncated else { fatalError("a binary record without its last byte: \(error)") }
        }
    }
    return 0
}

func record(_ event: LoggedEvent) -> [UInt8] {
    switch event {
    case .scored(let event): EventCoding.record(event)
    case .duplicateAnswered(let event): EventCoding.record(event)
    case .intake(let event): EventCoding.record(event)
    case .label(let event): EventCoding.record(event)
    case .shadow(let event): EventCoding.record(event)
    }
}

func encode(_ event: LoggedEvent) -> [UInt8] {
    switch event {
    case .scored(let event): EventCoding.encode(event)
    case .duplicateAnswered(let event): EventCoding.encode(event)
    case .intake(let event): EventCoding.encode(event)
    case .label(let event): EventCoding.encode(event)
    case .shadow(let event): EventCoding.encode(event)
    }
}
