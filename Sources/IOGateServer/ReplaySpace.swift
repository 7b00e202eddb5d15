import Glibc
import IOGateCore
import IOGateSystem

/// The replay backend (`device = "replay:PATH"`): registers that answer from a recorded trace
/// (docs/TRACE.md). Loads return the recorded values in order; stores are checked against the
/// recording. A divergence cannot be thrown from `load`/`store` (`RegisterSpace` has no error
/// path), so it is kept for the thread that made the access, and the session takes it with
/// `takeFailure()` once its request has run and answers with it instead.
// @unchecked Sendable: the replay's state (`replayer`, `failures`, `reported`) is mutable and read and
// written only under `lock`; the other stored properties are immutable.
public final class ReplaySpace: RegisterSpace, @unchecked Sendable {
    private let lock = Lock()
    // Guarded by `lock`.
    private var replayer: TraceReplayer
    private var failures: [UInt: IOGateError] = [:]
    private var reported = false
    let logger: Logger

    /// Reads and checks the trace at `path` (before privileges are dropped).
    public init(path: String, board: Board?, logger: Logger) throws(IOGateError) {
        guard let bytes = readSmallFile(path, limit: 256 << 20) else {
            throw IOGateError(.config, "replay trace \(path): cannot read it: \(Errno.text(errno))")
        }
        let trace = try Trace.parse(text: String(decoding: bytes, as: UTF8.self), file: path, board: board)
        replayer = TraceReplayer(trace: trace, file: path, board: board)
        self.logger = logger
    }

    /// Number of records in the trace.
    public var recordCount: Int { lock.locked { replayer.trace.records.count } }

    public func load(_ address: UInt64, _ width: AccessWidth) -> UInt64 {
        lock.locked {
            switch replayer.load(address, width) {
            case .success(let v): return v
            case .failure(let e):
                fail(e)
                return 0
            }
        }
    }

    public func store(_ address: UInt64, _ width: AccessWidth, _ value: UInt64) {
        lock.locked {
            if let e = replayer.store(address, width, value) { fail(e) }
        }
    }

    /// Under `lock`: keeps the error for this thread's request, and logs the first divergence.
    private func fail(_ error: IOGateError) {
        failures[UInt(bitPattern: Int(bitPattern: pthread_self()))] = error
        if !reported {
            reported = true
            logger.error("\(error.message)")
        }
    }

    /// The divergence this thread's accesses met since the last call, if any.
    func takeFailure() -> IOGateError? {
        lock.locked { failures.removeValue(forKey: UInt(bitPattern: Int(bitPattern: pthread_self()))) }
    }

    /// The replay's outcome when the daemon stops: nil when every record was matched.
    public func verdict() -> IOGateError? { lock.locked { replayer.verdict() } }
}
