import Foundation
import Testing
import VigilProtection

struct ProcessHardeningTests {
    /// What `vigil serve` does at start, checked the way an auditor would: the kernel's view in /proc/self/limits,
    /// and the dumpable flag.
    @Test func noCoreDumpsAndNotDumpable() throws {
        try ProcessHardening.apply()
        let limits = try String(contentsOfFile: "/proc/self/limits", encoding: .utf8)
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        let fields = line.dropFirst("Max core file size".count).split(separator: " ")
        #expect(fields.prefix(2) == ["0", "0"])
        #expect(ProcessHardening.coreLimit == (0, 0))
        #expect(!ProcessHardening.isDumpable)
    }
}
