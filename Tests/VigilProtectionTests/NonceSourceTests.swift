import Foundation
import Testing
import VigilDomain
import VigilProtection

/// Seal nonces (the first 12 bytes of every seal) come from a buffered pool; these check it never repeats one.
struct NonceSourceTests {
    /// Many more seals than one refill of the pool (341 nonces): every nonce is new, across refills too.
    @Test func noncesDoNotRepeat() throws {
        let keys = try FixedKeys.keyRing()
        var nonces = Set<[UInt8]>()
        for _ in 0..<5_000 {
            nonces.insert(Array(keys.seal(.device, [1, 2, 3]).bytes.prefix(12)))
        }
        #expect(nonces.count == 5_000)
    }

    /// Seals made concurrently on one key ring still get distinct nonces.
    @Test func concurrentSealsGetDistinctNonces() async throws {
        let keys = try FixedKeys.keyRing()
        let batches = await withTaskGroup(of: [[UInt8]].self) { group in
            for _ in 0..<4 {
                group.addTask { (0..<1_000).map { _ in Array(keys.seal(.ip, [7]).bytes.prefix(12)) } }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(batches.joined()).count == 4_000)
    }

    #if os(Linux)
    /// A forked child must not hand out the nonces the parent still holds in its pool: the parent and the
    /// child each seal once after the fork, and the two nonces differ.
    @Test func aForkedChildDrawsItsOwnNonces() throws {
        let keys = try FixedKeys.keyRing()
        _ = keys.seal(.name, [1])  // the pool is now full and holds the next nonces
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let child = fork()
        if child == 0 {
            alarm(10)  // a child that hangs dies and fails the test below instead of hanging it
            let nonce = Array(keys.seal(.name, [1]).bytes.prefix(12))
            _ = nonce.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
            _exit(0)
        }
        #expect(child > 0)
        close(fds[1])
        let parentNonce = Array(keys.seal(.name, [1]).bytes.prefix(12))
        var childNonce = [UInt8](repeating: 0, count: 12)
        let read = childNonce.withUnsafeMutableBytes { Glibc.read(fds[0], $0.baseAddress, $0.count) }
        close(fds[0])
        var status: Int32 = 0
        waitpid(child, &status, 0)
        #expect(status == 0)
        #expect(read == 12)
        #expect(childNonce != parentNonce)
    }
    #endif
}
