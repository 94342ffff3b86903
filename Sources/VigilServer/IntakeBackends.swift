public import VigilFiles

/// The daily-file intake's back ends, chosen by the `vigil` executable (which alone imports the adapters:
/// `VigilIntake`'s clamd scanner and gpg opener, `VigilPostgres`'s metadata store) and handed to `buildApplication`.
public struct IntakeBackends: Sendable {
    /// Scans each file before it is opened; ``ScanningOff`` by default (warned about at start).
    public var scanner: any MalwareScanner
    /// Decrypts and verifies each file; ``PlaintextOpener`` by default (PGP intake off).
    public var opener: any FileOpener
    /// Where file metadata is kept; nil for the data directory's files.
    public var store: (any FileMetadataStore)?
    /// Stops what the back ends started (the gpg opener's agent); called once, when the service or verb ends.
    public var shutdown: @Sendable () async -> Void

    public init(
        scanner: any MalwareScanner = ScanningOff(), opener: any FileOpener = PlaintextOpener(), store: (any FileMetadataStore)? = nil,
        shutdown: @escaping @Sendable () async -> Void = {}
    ) {
        self.scanner = scanner
        self.opener = opener
        self.store = store
        self.shutdown = shutdown
    }
}
