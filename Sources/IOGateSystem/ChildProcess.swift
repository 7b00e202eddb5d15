import Glibc

/// A child process started with `posix_spawn`: no Foundation, and nothing runs in the child between
/// fork and exec but the C library's own redirections.
public final class ChildProcess {
    /// Where one of the child's standard streams goes.
    public enum Output {
        /// The parent's own stream.
        case inherit
        /// `/dev/null`.
        case discard
        /// A file, created or truncated with mode 0600.
        case file(String)
        /// A pipe the parent reads (`readStandardOutput`, `readStandardError`).
        case pipe
    }

    /// The child's process id.
    public let pid: pid_t
    /// The program that was started (argv[0]).
    public let program: String
    /// The parent's ends of the `.pipe` outputs, or -1.
    private var stdoutPipe: Int32 = -1, stderrPipe: Int32 = -1
    private var status: Int32?

    /// Starts `argv` (argv[0] is a path, not searched on `PATH`) with the parent's environment.
    public init(_ argv: [String], stdout: Output = .inherit, stderr: Output = .inherit) throws(Errno) {
        precondition(!argv.isEmpty, "ChildProcess needs a program to run")
        program = argv[0]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        defer { for fd in childEnds { Descriptor.close(fd) } }
        func route(_ output: Output, to target: Int32) throws(Errno) -> Int32 {
            switch output {
            case .inherit: return -1
            case .discard:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
                return -1
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                return -1
            case .pipe:
                var ends: [Int32] = [-1, -1]
                try retryOnInterrupt("pipe") { pipe(&ends) }
                // Close-on-exec on both ends: the dup2 below gives the child its own copy without the
                // flag, and no other child spawned meanwhile inherits either end.
                for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
                posix_spawn_file_actions_adddup2(&actions, ends[1], target)
                parentEnds.append(ends[0])
                childEnds.append(ends[1])
                return ends[0]
            }
        }
        do throws(Errno) {
            let out = try route(stdout, to: 1)
            let err = try route(stderr, to: 2)
            // SAFETY: strdup'ed copies, freed by the defer below after posix_spawn has copied them.
            var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
            defer { for p in cargs { free(p) } }
            var child = pid_t()
            // SAFETY: cargs is a NUL-terminated array of strdup'ed C strings that outlives the call;
            // environ is the C library's own NULL-terminated environment.
            let rc = posix_spawn(&child, argv[0], &actions, nil, &cargs, environ)
            guard rc == 0 else { throw Errno(rc, call: "posix_spawn \(argv[0])") }
            pid = child
            stdoutPipe = out
            stderrPipe = err
        } catch {
            for fd in parentEnds { Descriptor.close(fd) }
            throw error
        }
    }

    deinit {
        if stdoutPipe >= 0 { Descriptor.close(stdoutPipe) }
        if stderrPipe >= 0 { Descriptor.close(stderrPipe) }
    }

    /// True until the child has exited (and been reaped).
    public var isRunning: Bool {
        if status != nil { return false }
        var s: Int32 = 0
        let r = waitpid(pid, &s, WNOHANG)
        if r == pid { status = s }
        return status == nil
    }

    /// Sends `SIGTERM` (or `signal`) unless the child has already been reaped.
    public func terminate(_ signal: Int32 = SIGTERM) {
        if status == nil { kill(pid, signal) }
    }

    /// Waits for the child to exit and returns `terminationStatus`.
    @discardableResult
    public func wait() -> Int32 {
        while status == nil {
            var s: Int32 = 0
            let r = waitpid(pid, &s, 0)
            if r == pid {
                status = s
            } else if r == -1 && errno != EINTR {
                status = 0x7F00  // ECHILD: someone else reaped it; report exit status 127
            }
        }
        return terminationStatus
    }

    /// The exit status, or the number of the signal that ended the child (as Foundation's `Process`
    /// reports it); -1 while it runs.
    public var terminationStatus: Int32 {
        guard let s = status else { return -1 }
        let signal = s & 0x7F
        return signal == 0 ? (s >> 8) & 0xFF : signal
    }

    /// Reads the `.pipe` standard output until the child closes it.
    public func readStandardOutput() -> [UInt8] { drain(&stdoutPipe) }

    /// Reads the `.pipe` standard error until the child closes it.
    public func readStandardError() -> [UInt8] { drain(&stderrPipe) }

    /// One read of the `.pipe` standard output: what is there, waiting for at least one byte (or
    /// end of file). The pipe stays open, so the child can go on writing.
    public func readAvailableOutput() -> [UInt8] {
        guard stdoutPipe >= 0 else { return [] }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { p in
            // SAFETY: read writes at most p.count bytes into the array's own storage.
            (try? retryOnInterrupt("read") { read(stdoutPipe, p.baseAddress, p.count) }) ?? 0
        }
        return Array(buf[0..<n])
    }

    private func drain(_ fd: inout Int32) -> [UInt8] {
        guard fd >= 0 else { return [] }
        defer {
            Descriptor.close(fd)
            fd = -1
        }
        return (try? Descriptor.readAll(fd)) ?? []
    }

    /// Runs `argv` to completion with both outputs captured (read together with `poll`, so a child
    /// that fills one pipe while the parent waits on the other cannot stall).
    public static func run(_ argv: [String]) throws(Errno) -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        let child = try ChildProcess(argv, stdout: .pipe, stderr: .pipe)
        var outputs: [[UInt8]] = [[], []]
        var fds = [
            pollfd(fd: child.stdoutPipe, events: Int16(POLLIN), revents: 0),
            pollfd(fd: child.stderrPipe, events: Int16(POLLIN), revents: 0),
        ]
        var buf = [UInt8](repeating: 0, count: 65536)
        while fds.contains(where: { $0.fd >= 0 }) {
            _ = try retryOnInterrupt("poll") { poll(&fds, nfds_t(fds.count), -1) }
            for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
                let fd = fds[i].fd
                let n = buf.withUnsafeMutableBytes { p in
                    // SAFETY: read writes at most p.count bytes into the array's own storage.
                    (try? retryOnInterrupt("read") { read(fd, p.baseAddress, p.count) }) ?? 0
                }
                if n > 0 { outputs[i] += buf[0..<n] } else { fds[i].fd = -1 }  // poll ignores negative descriptors
            }
        }
        return (child.wait(), outputs[0], outputs[1])
    }

    /// Spawns `argv` with both outputs on `/dev/null` and waits: the exit status, or -1 when it
    /// could not start. Spawns directly, so the spawner adds as little as possible to a
    /// process-per-access measurement.
    public static func runQuietly(_ argv: [String]) -> Int32 {
        guard let child = try? ChildProcess(argv, stdout: .discard, stderr: .discard) else { return -1 }
        return child.wait()
    }
}
