/// How the intake treats files: the `intake*` configuration keys, checked (docs/intake.md, "Configuration").
public struct IntakeSettings: Sendable, Equatable {
    /// The fraction of a file's data rows (0–1) that may be bad before the file is rejected whole; at or below it
    /// the good rows load (`intakeErrorThreshold`, default 1%).
    public var errorThreshold: Double
    /// The largest file taken, in bytes, over HTTPS and from the inbox (`intakeMaxFileBytes`, default 2 GiB).
    public var maxFileBytes: Int
    /// How long a file in the inbox must stay unchanged (size and modification time) before it is taken, so a
    /// file still being written over SFTP is never read half-way (`intakeSettleMilliseconds`, default 2000).
    public var settleMilliseconds: Int
    /// Records handed to the sink at a time.
    public var batchSize: Int

    public init(errorThreshold: Double = 0.01, maxFileBytes: Int = 2 << 30, settleMilliseconds: Int = 2000, batchSize: Int = 4096) {
        self.errorThreshold = errorThreshold
        self.maxFileBytes = maxFileBytes
        self.settleMilliseconds = settleMilliseconds
        self.batchSize = batchSize
    }

    /// Whether `rejected` bad rows out of `rows` is more than the threshold allows.
    public func isOverThreshold(rejected: Int, rows: Int) -> Bool {
        guard rows > 0 else { return false }
        return Double(rejected) > errorThreshold * Double(rows)
    }
}

/// Where received files are scanned for malware (`intakeScan`).
public enum IntakeScanSetting: Sendable, Equatable, CustomStringConvertible {
    /// No scanning (the embedded default, warned about at start).
    case off
    /// clamd on a Unix socket path.
    case clamdSocket(String)
    /// clamd over TCP: host and port.
    case clamdTCP(host: String, port: Int)

    /// Reads `off`, `clamd:/path/to/clamd.ctl` or `clamd:tcp://host:port`.
    public init(parsing text: String) throws(IntakeSettingError) {
        if text == "off" {
            self = .off
            return
        }
        guard text.hasPrefix("clamd:"), text.count > 6 else { throw IntakeSettingError(Self.rule) }
        let target = String(text.dropFirst(6))
        if target.hasPrefix("tcp://") {
            let address = target.dropFirst(6)
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port),
                colon > address.startIndex
            else { throw IntakeSettingError(Self.rule) }
            self = .clamdTCP(host: String(address[..<colon]), port: port)
        } else {
            guard target.hasPrefix("/") else { throw IntakeSettingError(Self.rule) }
            self = .clamdSocket(target)
        }
    }

    static let rule = "intakeScan must be off, clamd:/path/to/clamd.socket or clamd:tcp://host:port"

    public var description: String {
        switch self {
        case .off: "off"
        case .clamdSocket(let path): "clamd:" + path
        case .clamdTCP(let host, let port): "clamd:tcp://\(host):\(port)"
        }
    }
}

/// Whether received files are PGP (`intakePGP`).
public enum IntakePGPSetting: String, Sendable, Equatable, CaseIterable {
    /// Plain CSV files (``PlaintextOpener``), the embedded default.
    case off
    /// Encrypted to Vigil's intake key and signed by the tenant's registered key, opened with `gpg`.
    case gpg

    public init(parsing text: String) throws(IntakeSettingError) {
        guard let value = Self(rawValue: text) else { throw IntakeSettingError("intakePGP must be off or gpg") }
        self = value
    }
}

/// A malformed intake setting, with the rule it breaks.
public struct IntakeSettingError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
