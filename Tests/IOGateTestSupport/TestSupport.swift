// Fixtures shared by the test targets: temporary directories, sparse device files, running the
// built products (as another uid when root), a daemon process, an in-process daemon with a log
// that can be read back.
import Foundation
import Glibc
import IOGate
import IOGateSystem
import Synchronization

/// Where `swift build` put the executables: beside the test bundle.
public let productsDirectory: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = (exe as NSString).deletingLastPathComponent
    // The test binary may sit inside an .xctest bundle directory on some layouts.
    if dir.hasSuffix(".xctest") { dir = (dir as NSString).deletingLastPathComponent }
    return dir
}()

/// The repository root (for boards/).
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The unprivileged account the tests act as: `nobody` (65534).
public let otherUID: UInt32 = 65534

/// A short, private temporary directory (Unix socket paths must stay under 108 bytes),
/// traversable by the unprivileged test uid.
public final class TempDir: Sendable {
    public let path: String

    public init() {
        var template = Array("/tmp/iogate-t-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        chmod(path, 0o755)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A sparse file of `size` bytes at `path` (mode 0600): memory for a daemon's `device`.
@discardableResult
public func makeSparseFile(_ path: String, size: Int) -> String {
    let fd = open(path, O_RDWR | O_CREAT, 0o600)
    ftruncate(fd, off_t(size))
    close(fd)
    return path
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; returns whether it held. For
/// effects that arrive asynchronously (a log line after SIGHUP, an audit record from the writer
/// thread): a fixed sleep is either slow or, on a loaded CI machine, too short.
@discardableResult
public func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if try condition() { return true }
        if Date() >= deadline { return false }
        usleep(20_000)
    }
}

/// The result of running a program.
public struct Run {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `program` with `args`, optionally as another uid via `setpriv` (CI runs as root).
@discardableResult
public func run(_ program: String, _ args: [String], asUID uid: UInt32? = nil, environment: [String: String] = [:]) throws -> Run {
    let p = Process()
    if let uid, uid != getuid() {
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", program] + args
    } else {
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
    }
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "IOGATE_SOCKET")
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// Runs the `iogate` CLI against a socket.
@discardableResult
public func iogate(_ socket: String, _ args: [String], asUID uid: UInt32? = nil) throws -> Run {
    try run(productsDirectory + "/iogate", ["--socket", socket] + args, asUID: uid)
}

/// Bytes that one thread appends and others read.
final class LockedBytes: Sendable {
    let bytes = Mutex(Data())
}

/// A running `iogated` process with its own config and socket.
public final class DaemonProcess: Sendable {
    public let dir: TempDir
    public let socket: String
    public let configPath: String
    public let process = Process()
    public let stderrPipe = Pipe()
    /// What the daemon wrote to standard error so far (appended by the pipe's reader thread).
    private let stderrData = LockedBytes()

    /// Writes `config` (with `@SOCKET@` and `@DIR@` replaced) mode 0600, starts the daemon and
    /// waits until it says it is ready. Throws with its stderr if it exits instead.
    public init(config: String, dir: TempDir = TempDir(), configMode: mode_t = 0o600) throws {
        self.dir = dir
        socket = dir.file("s.sock")
        configPath = dir.file("iogate.toml")
        let text = config.replacingOccurrences(of: "@SOCKET@", with: socket).replacingOccurrences(of: "@DIR@", with: dir.path)
        try text.write(toFile: configPath, atomically: false, encoding: .utf8)
        chmod(configPath, configMode)
        process.executableURL = URL(fileURLWithPath: productsDirectory + "/iogated")
        process.arguments = ["--config", configPath, "--boards", repositoryRoot + "/boards"]
        process.standardError = stderrPipe
        process.standardOutput = FileHandle.nullDevice
        stderrPipe.fileHandleForReading.readabilityHandler = { [stderrData] h in
            let d = h.availableData
            stderrData.bytes.withLock { $0.append(d) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if stderrText.contains("iogated: ready") { return }
            if !process.isRunning { break }
            usleep(20_000)
        }
        process.waitUntilExit()
        throw DaemonFailed(status: process.terminationStatus, stderr: stderrText)
    }

    public var stderrText: String {
        String(decoding: stderrData.bytes.withLock { $0 }, as: UTF8.self)
    }

    public var pid: Int32 { process.processIdentifier }

    /// SIGTERM, then wait; returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    public func client() throws -> IOGateClient { try IOGateClient(socketPath: socket) }

    deinit { stop() }
}

public struct DaemonFailed: Error, CustomStringConvertible {
    public var status: Int32
    public var stderr: String
    public var description: String { "iogated exited with \(status): \(stderr)" }
}

/// Starts the daemon expecting it to refuse; returns its exit status and stderr.
public func daemonRefusal(config: String, configMode: mode_t = 0o600) -> (Int32, String) {
    do {
        let d = try DaemonProcess(config: config, configMode: configMode)
        d.stop()
        return (0, "daemon started")
    } catch let f as DaemonFailed {
        return (f.status, f.stderr)
    } catch {
        return (-1, "\(error)")
    }
}

/// Reads `count` bytes of a file at `offset`.
public func bytes(of path: String, at offset: UInt64, count: Int) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: count)
    _ = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
    return buf
}

/// Little-endian bytes of a value of `n` bytes.
public func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

/// A raw connection, for sending malformed or partial frames.
public func rawConnect(_ path: String) -> Int32 {
    (try? UnixSocketAddress(path)).flatMap { try? connectUnixSocket($0) } ?? -1
}

/// Reads a /proc file (their size reads as 0, so Foundation's whole-file readers see nothing).
public func procText(_ path: String) -> String {
    guard let h = FileHandle(forReadingAtPath: path) else { return "" }
    defer { try? h.close() }
    return String(decoding: h.readDataToEndOfFile(), as: UTF8.self)
}
