import Glibc
import IOGateSystem

/// The daemon's log: one line per message on standard error, which journald captures under systemd.
///
/// Replaces swift-log, whose current release needs tools 6.2 and so cannot be built by Debian 13's
/// Swift 6.0.3. The lines keep swift-log's `StreamLogHandler` layout, so what operators grep for in
/// the journal did not change: `2025-01-31T12:00:00+0000 notice iogated: [IOGateServer] ready on ...`.
public struct Logger: Sendable {
    /// How severe a message is; messages below the logger's `level` are dropped unformatted.
    public enum Level: Int, Comparable, Sendable, CustomStringConvertible {
        /// Step-by-step detail.
        case trace
        /// Detail useful when diagnosing.
        case debug
        /// Routine events (the audit log of allowed writes).
        case info
        /// Events an operator should see once (ready, reload, refusals).
        case notice
        /// Something is degraded but the daemon carries on.
        case warning
        /// An operation failed.
        case error
        /// The daemon cannot carry on.
        case critical

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        /// The level's name as it appears in a log line.
        public var description: String {
            switch self {
            case .trace: "trace"
            case .debug: "debug"
            case .info: "info"
            case .notice: "notice"
            case .warning: "warning"
            case .error: "error"
            case .critical: "critical"
            }
        }
    }

    /// Receives each message at or above `level`, already formatted (no timestamp or level prefix).
    public typealias Sink = @Sendable (Level, String) -> Void

    /// The name shown in each line (`iogated`).
    public let label: String
    /// The least severe level written.
    public let level: Level
    private let sink: Sink
    private var batchSink: (@Sendable (Level, [String]) -> Void)?

    /// A logger that hands each message to `sink` (tests collect them this way).
    public init(label: String, level: Level = .info, sink: @escaping Sink) {
        self.label = label
        self.level = level
        self.sink = sink
    }

    /// A logger writing to standard error, one line per message, as swift-log's stream handler did.
    public static func standardError(label: String, level: Level = .info) -> Logger {
        // The first localtime_r reads the time zone (/etc/localtime); do it now, before the daemon
        // drops privileges and installs its system call filter.
        _ = timestamp()
        // One writeStandardError (one fputs) per call: stdio locks the stream, so lines from several
        // threads do not interleave.
        let write: @Sendable (Level, [String]) -> Void = { level, messages in
            let prefix = "\(timestamp()) \(level) \(label): [IOGateServer] "
            var text = ""
            for m in messages { text += prefix + m + "\n" }
            writeStandardError(text)
        }
        var logger = Logger(label: label, level: level) { level, message in write(level, [message]) }
        logger.batchSink = write
        return logger
    }

    /// Logs `message` at `level` when the logger writes that level; the text is built only then.
    public func log(_ level: Level, _ message: @autoclosure () -> String) {
        if level >= self.level { sink(level, message()) }
    }

    /// Logs several messages at `.info` in one go: on standard error, one `write(2)` for all of
    /// them (the audit writer's many lines); through any other sink, one call per message.
    public func info(lines: [String]) {
        guard .info >= level, !lines.isEmpty else { return }
        if let batchSink { batchSink(.info, lines) } else { for l in lines { sink(.info, l) } }
    }

    /// Logs at `.trace`.
    public func trace(_ message: @autoclosure () -> String) { log(.trace, message()) }
    /// Logs at `.debug`.
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }
    /// Logs at `.info`.
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    /// Logs at `.notice`.
    public func notice(_ message: @autoclosure () -> String) { log(.notice, message()) }
    /// Logs at `.warning`.
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    /// Logs at `.error`.
    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    /// Logs at `.critical`.
    public func critical(_ message: @autoclosure () -> String) { log(.critical, message()) }

    /// Local time as ISO 8601 with the UTC offset (`2025-01-31T12:00:00+0100`), as swift-log printed it.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
