import Glibc
import IOGate
import IOGateSystem

/// An iogated of the CLI's own (`demo`, `replay`): a private directory holds its configuration,
/// socket and log; its standard error goes to that log, so it can never fill a pipe and block, and
/// is shown when the daemon exits before it serves. `stop()` ends it; deinit removes the directory.
final class PrivateDaemon {
    /// What the daemon is for, in messages ("demo", "replay").
    let purpose: String
    let dir: String
    var socket: String { dir + "/iogate.sock" }
    var log: String { dir + "/iogated.log" }
    let process: ChildProcess

    /// Writes the configuration `config(dir, socket)` returns and starts iogated on it.
    init(_ purpose: String, boardsDir: String?, config: (_ dir: String, _ socket: String) -> String) throws {
        self.purpose = purpose
        let dir = try makeTemporaryDirectory("iogate-\(purpose)")
        self.dir = dir
        do {
            let path = dir + "/iogate.toml"
            try writeFile(path, config(dir, dir + "/iogate.sock"), mode: 0o600)
            process = try ChildProcess(
                [try DaemonExecutable.locate(), "--config", path] + (boardsDir.map { ["--boards", $0] } ?? []),
                stderr: .file(dir + "/iogated.log"))
        } catch {
            try? FileSystem.removeTree(dir)
            throw error
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
        process.wait()
        try? FileSystem.removeTree(dir)
    }

    /// A client of the daemon, once its socket answers (within 10 s); if the daemon exits first,
    /// the error shows its log.
    func connect() throws(IOGateError) -> IOGateClient {
        let deadline = monotonicNanoseconds() + 10_000_000_000
        while monotonicNanoseconds() < deadline {
            if !process.isRunning {
                throw IOGateError(
                    .unreachable, "the \(purpose)'s iogated exited with status \(process.terminationStatus): \(readTextFile(log) ?? "")")
            }
            if FileSystem.exists(socket), let g = try? IOGateClient(socketPath: socket) { return g }
            usleep(20_000)
        }
        throw IOGateError(.unreachable, "the \(purpose)'s iogated did not open \(socket) within 10 s")
    }

    /// SIGTERM, then waits; the daemon's exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.wait()
        return process.terminationStatus
    }
}
