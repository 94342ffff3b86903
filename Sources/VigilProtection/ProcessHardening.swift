import CVigilSystem

#if canImport(Glibc)
import Glibc
#endif

/// What the enclave is for: plaintext personal data and keys live in this process's memory, so nothing may copy
/// that memory out. At start `vigil serve` forbids core dumps twice over: `RLIMIT_CORE` 0 (soft and hard, so the
/// process cannot raise it again) and `PR_SET_DUMPABLE` 0, which also stops other unprivileged processes of the
/// same user from attaching with ptrace or reading `/proc/PID/mem`.
public enum ProcessHardening {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Applies both settings; throws naming the one that failed.
    public static func apply() throws(Failure) {
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        guard setrlimit(Int32(RLIMIT_CORE.rawValue), &limit) == 0 else {
            throw Failure(description: "cannot set RLIMIT_CORE to 0: \(String(cString: strerror(errno)))")
        }
        guard vigil_set_dumpable(0) == 0 else {
            throw Failure(description: "cannot set PR_SET_DUMPABLE to 0: \(String(cString: strerror(errno)))")
        }
    }

    /// Whether the process may dump core or be traced (`PR_GET_DUMPABLE` is not 0).
    public static var isDumpable: Bool { vigil_get_dumpable() != 0 }

    /// The current core-file size limits (soft, hard).
    public static var coreLimit: (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }
}
