/// What opening a ``FileEventLog`` found on disk.
public struct RecoveryReport: Sendable, Equatable {
    /// Segment files in the log after recovery, including one created for an empty log.
    public var segments: Int
    /// Intact records in the log; the next append gets this sequence number.
    public var records: UInt64
    /// Bytes cut from the end of the last segment because they did not form intact records.
    public var truncatedBytes: Int
    /// The segment that was truncated, when `truncatedBytes > 0`.
    public var truncatedFile: String?

    public init(segments: Int, records: UInt64, truncatedBytes: Int, truncatedFile: String? = nil) {
        self.segments = segments
        self.records = records
        self.truncatedBytes = truncatedBytes
        self.truncatedFile = truncatedFile
    }
}
