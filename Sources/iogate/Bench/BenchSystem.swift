import CIOGateAffinity
import Glibc
import IOGate
import IOGateSystem

/// Process, CPU-affinity, timing and memory helpers for `iogate bench`.
enum BenchSystem {
    /// CLOCK_MONOTONIC in nanoseconds.
    @inline(__always)
    static func now() -> UInt64 { monotonicNanoseconds() }

    /// The CPUs this thread may run on.
    static func affinity(_ tid: pid_t = 0) -> [Int] {
        var set = [UInt8](repeating: 0, count: 128)
        guard iogate_get_affinity(tid, set.count, &set) == 0 else { return [] }
        return (0..<(set.count * 8)).filter { set[$0 / 8] & (1 << ($0 % 8)) != 0 }
    }

    /// Restricts one thread (`tid`; 0 = the calling thread) to `cpus`. Threads and processes it
    /// creates afterwards inherit the mask.
    @discardableResult
    static func pin(_ tid: pid_t = 0, to cpus: [Int]) -> Bool {
        var set = [UInt8](repeating: 0, count: 128)
        for c in cpus where c / 8 < set.count { set[c / 8] |= UInt8(1 << (c % 8)) }
        return iogate_set_affinity(tid, set.count, &set) == 0
    }

    /// Restricts every thread of process `pid` to `cpus` (what `taskset -a -p` does).
    static func pinProcess(_ pid: pid_t, to cpus: [Int]) {
        for t in FileSystem.list("/proc/\(pid)/task") { if let tid = pid_t(t) { pin(tid, to: cpus) } }
    }

    /// `VmRSS` of a process in KiB, from `/proc/<pid>/status`.
    static func residentKiB(_ pid: pid_t) -> Int? {
        guard let text = readTextFile("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// Spawns `argv` with stdout and stderr on /dev/null and waits for it; returns its exit status.
    static func spawnAndWait(_ argv: [String]) -> Int32 { ChildProcess.runQuietly(argv) }

    /// Runs `argv` to completion and returns its standard output; throws with its stderr on failure.
    static func output(_ argv: [String]) throws -> String {
        let (status, out, err) = try ChildProcess.run(argv)
        guard status == 0 else {
            throw IOGateError(
                .system, "\(argv.joined(separator: " ")) failed (status \(status)): \(String(decoding: err, as: UTF8.self))")
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The directory holding the C baselines: `explicit`, `$IOGATE_BENCH_C`, else `Benchmarks/c`
    /// found by walking up from the executable and from the current directory.
    static func locateCSources(_ explicit: String?) throws -> String {
        if let d = explicit ?? FileSystem.environment("IOGATE_BENCH_C") {
            guard FileSystem.exists(d + "/echo_server.c") else {
                throw IOGateError(.notFound, "\(d) does not hold the C baselines (echo_server.c and the others from Benchmarks/c)")
            }
            return d
        }
        let me = FileSystem.executablePath() ?? CommandLine.arguments[0]
        var tried: [String] = []
        for start in [FileSystem.canonical(FileSystem.directory(of: me)), FileSystem.currentDirectory()].compactMap({ $0 }) {
            var dir = start
            while true {
                let candidate = (dir == "/" ? "" : dir) + "/Benchmarks/c"
                if FileSystem.exists(candidate + "/echo_server.c") { return candidate }
                tried.append(candidate)
                let parent = FileSystem.directory(of: dir)
                if parent == dir { break }
                dir = parent
            }
        }
        throw IOGateError(
            .notFound,
            "cannot find the C baselines (Benchmarks/c/echo_server.c) above the executable or the current directory; set IOGATE_BENCH_C or --c-sources"
        )
    }

    /// Compiles each C baseline at `-O2` into `dir` with the system C compiler: `$CC`, else the
    /// first of `cc`, `gcc`, `clang` on `PATH` (the Swift toolchain brings clang).
    static func compileBaselines(from sources: String, into dir: String) throws {
        let path = (FileSystem.environment("PATH") ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        let names = [FileSystem.environment("CC"), "cc", "gcc", "clang"].compactMap { $0 }
        let found = names.lazy.compactMap { n in
            n.hasPrefix("/") ? n : path.map { "\($0)/\(n)" }.first { access($0, X_OK) == 0 }
        }.first
        guard let cc = found else {
            throw IOGateError(.notFound, "no C compiler found (tried $CC, cc, gcc, clang on PATH) for the baselines in \(sources)")
        }
        for name in ["echo_server", "echo_client", "batch_server", "devmem_once", "volatile_loop"] {
            _ = try output([cc, "-O2", "-o", "\(dir)/\(name)", "\(sources)/\(name).c"])
        }
    }

    /// Median of a non-empty list.
    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? .nan : s[s.count / 2]
    }
}

/// A child process (daemon or C server) that is killed when the benchmark ends.
final class BenchChild {
    let process: ChildProcess
    let logPath: String

    /// Starts `argv` with stderr to `logPath`; when `waitForReady`, waits for a "ready" line on stdout.
    init(_ argv: [String], logPath: String, waitForReady: Bool) throws {
        self.logPath = logPath
        process = try ChildProcess(argv, stdout: waitForReady ? .pipe : .discard, stderr: .file(logPath))
        if waitForReady {
            let line = String(decoding: process.readAvailableOutput(), as: UTF8.self)
            guard line.hasPrefix("ready") else { throw IOGateError(.system, "\(argv[0]) did not start: \(log)") }
        }
    }

    var pid: pid_t { process.pid }
    var log: String { readTextFile(logPath) ?? "" }

    func stop() {
        if process.isRunning { process.terminate() }
        process.wait()
    }

    deinit { stop() }
}
