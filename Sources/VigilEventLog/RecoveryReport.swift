/// What opening a ``FileEventLog`` found on disk.
public struct RecoveryReport: Sendable, Equatable {
    /// Segment files in the log after recovery, including one created for an empty log.
    public var segments: Int
    /// The sequence number the next append gets: the records in the log, counting those retention deleted.
    public var records: UInt64
    /// The first record the log still holds: 0 until retention deletes segments.
    public var firstSequence: UInt64 = 0
    /// Bytes after the last intact record of the last segment that did not form intact records (a torn
    /// write), up to the last non-zero byte, discarded by overwriting them with zeros; the file keeps its size.
    public var truncatedBytes: Int
    /// The segment whose torn tail was discarded, when `truncatedBytes > 0`.
    public var truncatedFile: String?

    public init(segments: Int, records: UInt64, truncatedBytes: Int, truncatedFile: String? = nil) {
        self.segments = segments
        self.records = records
        self.truncatedBytes = truncatedBytes
        self.truncatedFile = truncatedFile
    }
}
