import Foundation
import Logging
import Testing
@testable import VigilServer

struct JSONLogHandlerTests {
    @Test func aLineTheDestinationRefusesIsDroppedAndCountedNotFatal() throws {
        // /dev/full fails every write with ENOSPC, as a full disk does; FileHandle.write trapped on it (SIGILL).
        let descriptor = open("/dev/full", O_WRONLY)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let output = LogOutput(fileDescriptor: descriptor)
        let logger = Logger(label: "vigil-test") { JSONLogHandler(label: $0, output: output) }
        logger.critical("The event log failed", metadata: ["vigil.error": "I/O error"])
        logger.error("Payments refused since the event log failed")
        #expect(output.droppedLines == 2)
    }

    @Test func aLineIsOneJSONObjectWithAMillisecondUTCTimestamp() throws {
        let path = temporaryDataDirectory() + ".log"
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        let output = LogOutput(fileDescriptor: handle.fileDescriptor)
        let logger = Logger(label: "vigil-test") { JSONLogHandler(label: $0, output: output) }
        logger.notice("Recovery finished; ready", metadata: ["vigil.recovery.events": "3"])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "Recovery finished; ready")
        #expect(object["vigil.recovery.events"] as? String == "3")
        let stamp = try #require(object["ts"] as? String)
        #expect(stamp.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil)
        #expect(output.droppedLines == 0)
    }

    @Test(arguments: [
        (0, 0, "1970-01-01T00:00:00.000Z"),
        (1_796_424_848, 7, "2026-12-04T22:54:08.007Z"),
        (951_782_400, 999, "2000-02-29T00:00:00.999Z"),
    ])
    func timestampsAreRFC3339InUTC(seconds: Int, milliseconds: Int, expected: String) {
        #expect(JSONLogHandler.timestamp(epochSeconds: seconds, milliseconds: milliseconds) == expected)
    }
}
