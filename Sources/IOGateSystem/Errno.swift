import Glibc
import IOGateCore

/// A failed system call: the `errno` value and the name of the call, so callers can branch on the
/// value (`ENOENT`, `EACCES`) instead of matching text, and messages still say what failed.
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    /// The `errno` value the call left.
    public let code: Int32
    /// What was called, with enough context to find it (`"open /etc/iogate/iogate.toml"`).
    public let call: String

    /// An error for `call` that failed with `code`.
    public init(_ code: Int32, call: String) {
        self.code = code
        self.call = call
    }

    /// The current thread's `errno`, read immediately after `call` failed.
    public static func current(_ call: String) -> Errno { Errno(errno, call: call) }

    /// The C library's text for the value (`"No such file or directory"`).
    public var message: String { Errno.text(code) }

    /// `"call: message"`, the layout the daemon's `.system` errors have always used.
    public var description: String { "\(call): \(message)" }

    /// `strerror` text for any value.
    public static func text(_ code: Int32) -> String { String(cString: strerror(code)) }
}

extension IOGateError {
    /// `errno` as an IOGate error: `code` (default `.system`) and the message `"call: strerror"`.
    public init(_ error: Errno, code: Code = .system) {
        self.init(code, error.description, details: Details(errno: error.code, call: error.call))
    }
}

/// Runs `body`, the one place that turns a C call's `-1`/`errno` into a typed error: it repeats the
/// call while it fails with `EINTR` (a signal arrived; nothing happened) and throws any other failure.
@discardableResult
public func retryOnInterrupt<T: FixedWidthInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws(Errno) -> T {
    while true {
        let r = body()
        if r != -1 { return r }
        let e = errno
        if e == EINTR { continue }
        throw Errno(e, call: call())
    }
}
