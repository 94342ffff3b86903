import NIOCore
import Testing

@testable import VigilRedis

@Suite struct RESPParserTests {
    private func parseAll(_ text: String, limits: RESPParser.Limits = RESPParser.Limits()) throws(RedisError) -> [RedisValue] {
        var buffer = ByteBuffer(string: text)
        var values: [RedisValue] = []
        let parser = RESPParser(limits: limits)
        while let value = try parser.next(from: &buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0)
        return values
    }

    @Test func everyType() throws {
        #expect(try parseAll(":9223372036854775807\r\n:-9223372036854775808\r\n:+7\r\n") == [.integer(.max), .integer(.min), .integer(7)])
        let values = try parseAll("+OK\r\n-ERR wrong\r\n:-42\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n")
        #expect(values == [
            .simpleString("OK"), .error("ERR wrong"), .integer(-42), .bulkString(ByteBuffer(string: "hello")),
            .bulkString(ByteBuffer()), .bulkString(nil), .array(nil), .array([]),
        ])
    }

    @Test func bulkStringsAreBinarySafe() throws {
        #expect(try parseAll("$4\r\na\r\nb\r\n") == [.bulkString(ByteBuffer(string: "a\r\nb"))])
    }

    @Test func nestedArrays() throws {
        let values = try parseAll("*3\r\n:1\r\n*2\r\n+a\r\n$-1\r\n*1\r\n*0\r\n")
        #expect(values == [.array([.integer(1), .array([.simpleString("a"), .bulkString(nil)]), .array([.array([])])])])
    }

    /// Every prefix of a valid stream yields nothing and consumes nothing; the whole yields the value.
    @Test func partialFramesWaitWithoutConsuming() throws {
        let frame = "*3\r\n$3\r\nSET\r\n:12345\r\n*2\r\n+OK\r\n-ERR x\r\n"
        let bytes = Array(frame.utf8)
        let parser = RESPParser()
        for cut in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes[..<cut])
            #expect(try parser.next(from: &buffer) == nil, "prefix of \(cut) bytes")
            #expect(buffer.readableBytes == cut)
        }
        var whole = ByteBuffer(bytes: bytes)
        #expect(try parser.next(from: &whole)?.array?.count == 3)
    }

    @Test func byteAtATimeThroughTheDecoder() throws {
        var decoder = RESPDecoder(parser: RESPParser())
        var buffer = ByteBuffer()
        var values: [RedisValue] = []
        for byte in "+PONG\r\n$3\r\nabc\r\n".utf8 {
            buffer.writeInteger(byte)
            while let value = try decoder.decode(buffer: &buffer) { values.append(value) }
        }
        #expect(values == [.simpleString("PONG"), .bulkString(ByteBuffer(string: "abc"))])
    }

    @Test(arguments: [
        "?what\r\n",  // unknown type byte
        ":12a\r\n",  // not an integer
        ":\r\n",
        ":-\r\n",
        ":9223372036854775808\r\n",  // beyond Int64
        "$3\r\nabcd\r\n",  // bulk string longer than announced
        "$-2\r\n",  // negative length
        "*-5\r\n",
        "+OK\rX",  // CR without LF
    ])
    func malformedInputIsAProtocolViolation(_ text: String) {
        var buffer = ByteBuffer(string: text)
        #expect {
            _ = try RESPParser().next(from: &buffer)
        } throws: { error in
            (error as? RedisError)?.code == .protocolViolation
        }
    }

    @Test func limitsAreEnforcedBeforeTheBytesArrive() throws {
        let limits = RESPParser.Limits(maxBulkLength: 10, maxArrayCount: 3, maxDepth: 2, maxLineLength: 8)
        for text in ["$11\r\n", "*4\r\n", "*1\r\n*1\r\n*1\r\n:1\r\n", "+123456789"] {
            var buffer = ByteBuffer(string: text)
            #expect(throws: RedisError.self, "\(text.debugDescription)") { _ = try RESPParser(limits: limits).next(from: &buffer) }
        }
        var fits = ByteBuffer(string: "*1\r\n*1\r\n$10\r\n0123456789\r\n")
        #expect(try RESPParser(limits: limits).next(from: &fits) != nil)
    }

    @Test func encoderWritesArraysOfBulkStrings() throws {
        var buffer = ByteBuffer()
        RESPEncoder.encode(["SET", "k", RedisArgument(ByteBuffer(string: "a\r\nb")), 7], into: &buffer)
        #expect(String(buffer: buffer) == "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n$1\r\n7\r\n")
        // What the encoder writes, the parser reads back.
        #expect(try RESPParser().next(from: &buffer)?.array?.count == 4)
    }
}
