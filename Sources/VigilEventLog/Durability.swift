/// When an appended record counts as done.
public enum Durability: String, Sendable, Codable, CaseIterable {
    /// `append` returns after the record's batch is written and `fdatasync`ed: it survives `kill -9` and power loss.
    case fsync
    /// `append` returns after the record's batch is written to the page cache: it survives `kill -9` but the
    /// last ~50 ms of records may be lost on power loss. The writer syncs at most every 50 ms and on shutdown.
    case async
}
