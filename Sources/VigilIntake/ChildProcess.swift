#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A program the adapters run (gpg, gpgconf), started with posix_spawn in its own process group, with stdin from
/// /dev/null or a file, stdout on a pipe, stderr discarded and a status pipe as fd 3 (gpg's `--status-fd 3`).
/// Its pipes are non-blocking, so every read waits with a deadline (``Descriptor``).
struct ChildProcess: Sendable {
    struct SpawnFailure: Error, CustomStringConvertible {
        var executable: String
        var code: Int32
        var description: String {
            code == ENOENT ? "\(executable) is not installed (not found on PATH)" : "\(executable) could not start: \(Descriptor.message(code))"
        }
    }

    let pid: pid_t
    /// The read end of the child's stdout.
    let output: Int32
    /// The read end of the child's fd 3.
    let status: Int32

    /// Starts `executable` (looked up on PATH when it has no `/`) with `arguments` and exactly `environment`.
    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String]) throws(SpawnFailure) -> ChildProcess {
        var outputPipe: [Int32] = [-1, -1]
        var statusPipe: [Int32] = [-1, -1]
        // pipe2 is not visible to Swift from Glibc; close-on-exec right after is good enough here (another thread's
        // posix_spawn in between could inherit a pipe end, which only delays an end of file).
        guard pipe(&outputPipe) == 0 else { throw SpawnFailure(executable: executable, code: errno) }
        guard pipe(&statusPipe) == 0 else {
            let code = errno
            close(outputPipe[0])
            close(outputPipe[1])
            throw SpawnFailure(executable: executable, code: code)
        }
        for fd in outputPipe + statusPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, statusPipe[1], 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so a deadline kills whatever it started too; default signal handling (the server
        // ignores SIGPIPE) and no blocked signals.
        var defaults = sigset_t()
        sigfillset(&defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        close(outputPipe[1])
        close(statusPipe[1])
        guard result == 0 else {
            close(outputPipe[0])
            close(statusPipe[0])
            throw SpawnFailure(executable: executable, code: result)
        }
        Descriptor.setNonBlocking(outputPipe[0])
        Descriptor.setNonBlocking(statusPipe[0])
        return ChildProcess(pid: pid, output: outputPipe[0], status: statusPipe[0])
    }

    /// Kills the child's process group (a deadline passed, or its caller gave up).
    func kill() {
        _ = Glibc.kill(-pid, SIGKILL)
    }

    /// Reaps the child: its exit status, or 128 + the signal that ended it. Blocks until it has exited.
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    func closePipes() {
        close(output)
        close(status)
    }

    /// Runs the child to its end: everything it writes to stdout and to fd 3, and its exit status. Kills it when it
    /// produces nothing for `idle`.
    func collect(idle: Duration, outputLimit: Int = 4 << 20) throws(Descriptor.Failure) -> (output: [UInt8], status: [UInt8], exit: Int32) {
        var output: [UInt8] = []
        var status: [UInt8] = []
        var open = [self.output, self.status]
        defer { closePipes() }
        do throws(Descriptor.Failure) {
            while !open.isEmpty {
                for fd in try Descriptor.wait(open, for: Int16(POLLIN), until: .now + idle) {
                    guard let bytes = try Descriptor.readAvailable(fd, limit: 64 * 1024) else {
                        open.removeAll { $0 == fd }
                        continue
                    }
                    if fd == self.output { output += bytes } else { status += bytes }
                    guard output.count <= outputLimit && status.count <= outputLimit else { throw Descriptor.Failure.tooMuchOutput }
                }
            }
        } catch {
            kill()
            _ = wait()
            throw error
        }
        return (output, status, wait())
    }
}
