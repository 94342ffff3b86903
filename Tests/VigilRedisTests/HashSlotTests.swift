import NIOCore
import Testing

@testable import VigilRedis

@Suite struct HashSlotTests {
    /// The check value from the Redis Cluster specification: CRC16 of "123456789" is 0x31C3.
    @Test func crc16MatchesTheSpecification() {
        #expect(HashSlot.crc16(Array("123456789".utf8)[...]) == 0x31C3)
        #expect(HashSlot.slot(of: "123456789") == 0x31C3 % 16384)
    }

    /// Slots as `CLUSTER KEYSLOT` reports them.
    @Test(arguments: [("foo", 12182), ("bar", 5061), ("hello", 866), ("", 0)])
    func knownSlots(_ key: String, _ slot: Int) {
        #expect(HashSlot.slot(of: key) == slot)
    }

    /// The hash-tag rules from the specification.
    @Test func hashTags() {
        #expect(HashSlot.slot(of: "{user1000}.following") == HashSlot.slot(of: "{user1000}.followers"))
        #expect(HashSlot.slot(of: "{user1000}.following") == HashSlot.slot(of: "user1000"))
        // The first `{` to the next `}`: "foo{bar}{zap}" hashes "bar".
        #expect(HashSlot.slot(of: "foo{bar}{zap}") == HashSlot.slot(of: "bar"))
        // "foo{{bar}}zap" hashes "{bar".
        #expect(HashSlot.slot(of: "foo{{bar}}zap") == HashSlot.slot(of: "{bar"))
        // An empty tag means the whole key is hashed.
        #expect(HashSlot.slot(of: "foo{}{bar}") == Int(HashSlot.crc16(Array("foo{}{bar}".utf8)[...]) % 16384))
        #expect(HashSlot.slot(of: "foo{}{bar}") != HashSlot.slot(of: "bar"))
        // No closing brace: the whole key.
        #expect(HashSlot.slot(of: "foo{bar") == Int(HashSlot.crc16(Array("foo{bar".utf8)[...]) % 16384))
    }

    @Test func commandsInferTheirRoutingKey() {
        #expect(RedisCommand("GET", "k").key == "k")
        #expect(RedisCommand("get", "k").key == "k")
        #expect(RedisCommand("PING").key == nil)
        #expect(RedisCommand("CLUSTER", "SLOTS").key == nil)
        #expect(RedisCommand("EVALSHA", "abc", "2", "k1", "k2", "arg").key == "k1")
        #expect(RedisCommand("EVAL", "return 1", "0", "arg").key == nil)
        #expect(RedisCommand(["XREAD", "STREAMS", "s", "0"], key: "s").key == "s")
    }

    @Test func redirectsAreParsed() {
        let node = RedisURL.Endpoint(host: "10.0.0.9", port: 7000)
        #expect(Redirect("MOVED 3999 127.0.0.1:6381", from: node) == Redirect(kind: .moved, slot: 3999, endpoint: .init(host: "127.0.0.1", port: 6381)))
        #expect(Redirect("ASK 1 [::1]:7002", from: node) == Redirect(kind: .ask, slot: 1, endpoint: .init(host: "::1", port: 7002)))
        #expect(Redirect("MOVED 5 :7003", from: node)?.endpoint == .init(host: "10.0.0.9", port: 7003))
        #expect(Redirect("ERR MOVED 1 a:1", from: node) == nil)
        #expect(Redirect("MOVED 99999 a:1", from: node) == nil)
    }
}
