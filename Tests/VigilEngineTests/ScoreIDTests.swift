import Foundation
import Testing
import VigilDomain
@testable import VigilEngine

/// Score ids are random version-4 UUIDs in lower-case text, drawn from the buffered CSPRNG.
struct ScoreIDTests {
    @Test func idsAreLowerCaseVersionFourUUIDs() throws {
        let random = RandomBytes()
        for _ in 0..<1_000 {
            let id = ScoreID.random(random)
            let parsed = try #require(UUID(uuidString: id), "\(id) is not a UUID")
            #expect(parsed.uuidString.lowercased() == id)
            let bytes = withUnsafeBytes(of: parsed.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 4, "version nibble of \(id)")
            #expect(bytes[8] >> 6 == 0b10, "variant bits of \(id)")
        }
    }

    /// More ids than one 4 KiB refill of the pool holds (256), so ids across refills are distinct too.
    @Test func idsDoNotRepeat() {
        let random = RandomBytes()
        let ids = (0..<10_000).map { _ in ScoreID.random(random) }
        #expect(Set(ids).count == ids.count)
    }

    @Test func textRoundTripsThroughItsSixteenBytes() throws {
        let text = "0123abcd-4567-4def-89ab-cdef01234567"
        let halves = try #require(ScoreID.pack(text))
        #expect(halves.0 == 0x0123_abcd_4567_4def && halves.1 == 0x89ab_cdef_0123_4567)
        #expect(ScoreID.format(halves) == text)
        for other in ["0123ABCD-4567-4def-89ab-cdef01234567", "0123abcd45674def89abcdef01234567", "not a uuid", ""] {
            #expect(ScoreID.pack(other) == nil, "\(other)")
        }
    }
}
