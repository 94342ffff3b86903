import Foundation

/// How much anonymous memory the process holds, from `RssAnon` in `/proc/self/status` (Linux).
///
/// This is a level, not a count: the difference between two readings is memory *retained* in between
/// (heap grown and still resident), rounded to pages, not how much was allocated, and it says nothing about
/// how many allocation calls were made. glibc's `mallinfo2` would be finer but `malloc.h` is not in Swift's
/// Glibc module, and counting calls would need a malloc interposer; neither fits a single Swift target.
enum Heap {
    /// Resident anonymous bytes; nil where `/proc/self/status` has no `RssAnon` line.
    static func residentAnonymousBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("RssAnon:") {
            // "RssAnon:	   12345 kB"
            guard let kilobytes = line.split(separator: " ").dropLast().last.flatMap({ Int($0) }) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    /// Hands the allocator's free memory back to the system (glibc `malloc_trim(0)`, looked up at run time because
    /// `malloc.h` is not in the Glibc module), so a later reading counts reused memory as growth; a no-op elsewhere.
    static func trim() {
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)(0)
    }
}
