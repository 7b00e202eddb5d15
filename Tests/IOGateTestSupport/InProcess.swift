import Foundation
import IOGateCore
import IOGateServer
import Synchronization

/// Collects log messages, so tests can check what the daemon said once.
public final class CollectingLog: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    public var messages: [String] { lines.withLock { $0 } }
    public func append(_ s: String) { lines.withLock { $0.append(s) } }

    public var logger: Logger {
        Logger(label: "test", level: .trace) { [self] _, message in append(message) }
    }
}

/// A daemon configuration for the mock board, parsed for a daemon that runs inside the test
/// process: its seccomp filter stays off (it would confine the whole test runner), `audit` is off
/// unless `extra` sets it, and `grants` (TOML `[[grant]]` tables) follow.
public func inProcessConfig(board: String, socket: String, extra: String = "", grants: String) throws(IOGateError) -> Config {
    try Config.parse(
        text: """
            device = "mock"
            board = "\(board)"
            socket = "\(socket)"
            seccomp = false
            \(extra.contains("audit") ? "" : "audit = \"none\"")
            \(extra)
            \(grants)
            """, file: "in-process.toml")
}

/// The IOGateError `body` throws, or nil when it succeeds; any other error comes back as a
/// `.system` error naming it, so a test's expectation on the code fails visibly.
public func failure(_ body: () throws -> Void) -> IOGateError? {
    do {
        try body()
        return nil
    } catch let e as IOGateError {
        return e
    } catch {
        return IOGateError(.system, "unexpected error \(error)")
    }
}
