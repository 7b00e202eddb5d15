/// An error that says what was wrong, where, and what is allowed.
///
/// The `code` travels on the wire as a status; new codes may be added without breaking callers,
/// so switch on it with a `default` branch.
public struct IOGateError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A stable numeric error code, also used as the wire-protocol status.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        /// The frame or request could not be decoded.
        public static let malformed = Code(rawValue: 1)
        /// No protocol version in common.
        public static let unsupportedVersion = Code(rawValue: 2)
        /// The opcode is not one this daemon knows.
        public static let unknownOperation = Code(rawValue: 3)
        /// A frame, batch or count is over a configured limit.
        public static let limitExceeded = Code(rawValue: 4)
        /// The access is outside every range granted to the client.
        public static let outsideAllowlist = Code(rawValue: 5)
        /// The access is a write through a read-only grant.
        public static let readOnly = Code(rawValue: 6)
        /// The address is not aligned to the access width.
        public static let misaligned = Code(rawValue: 7)
        /// The width is not 8, 16, 32 or 64 bits, or a value does not fit in it.
        public static let badWidth = Code(rawValue: 8)
        /// A wait-until did not see the value before its timeout.
        public static let timeout = Code(rawValue: 9)
        /// The configuration is invalid.
        public static let config = Code(rawValue: 10)
        /// A board file is invalid or no board matched.
        public static let board = Code(rawValue: 11)
        /// Mapping the device failed.
        public static let mapping = Code(rawValue: 12)
        /// A system call failed.
        public static let system = Code(rawValue: 13)
        /// A named thing (window, board, pin) does not exist.
        public static let notFound = Code(rawValue: 14)
        /// The request was valid but the state forbids it (e.g. handshake missing).
        public static let badState = Code(rawValue: 15)
        /// The daemon cannot be reached.
        public static let unreachable = Code(rawValue: 16)
        /// A GPIO line is owned by the kernel or another program.
        public static let lineBusy = Code(rawValue: 17)
        /// A register access raised a bus fault (SIGBUS): nothing answers at that physical address.
        public static let busFault = Code(rawValue: 18)

        private static let names: [UInt16: String] = [
            1: "malformed", 2: "unsupported-version", 3: "unknown-operation", 4: "limit-exceeded",
            5: "outside-allowlist", 6: "read-only", 7: "misaligned", 8: "bad-width", 9: "timeout",
            10: "config", 11: "board", 12: "mapping", 13: "system", 14: "not-found", 15: "bad-state",
            16: "unreachable", 17: "line-busy", 18: "bus-fault",
        ]

        public var description: String { Code.names[rawValue] ?? "error-\(rawValue)" }

        /// True for errors a policy decision produced (the CLI maps these and operation failures to exit 1).
        public var isRefusal: Bool { self == .outsideAllowlist || self == .readOnly || self == .lineBusy }
    }

    /// The kind of failure.
    public let code: Code
    /// A human-readable sentence: what was wrong, where, and what is allowed.
    public let message: String
    /// The same facts as values a program can use; empty when the error has none to give.
    public var details: Details

    /// Creates an error with a code, a message and, where the failure has them, its details.
    public init(_ code: Code, _ message: String, details: Details = Details()) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// What an error is about, as values: the address and size of the refused access, the ranges
    /// the caller was granted, the GPIO pin and who holds it, the `errno` and the call that failed,
    /// the batch operation. Each is nil (or empty) when it does not apply. Protocol version 3 carries
    /// them in error responses (docs/PROTOCOL.md, section 7.1), so a client sees the daemon's.
    public struct Details: Hashable, Sendable {
        /// The physical address of the access.
        public var address: UInt64?
        /// The size of the access in bytes (all elements of a block).
        public var size: UInt64?
        /// The caller's granted ranges that bear on the refusal: all of them for an access outside
        /// the allowlist, the read-only one for a write through it.
        public var granted: [GrantedRange]
        /// The GPIO pin a refusal concerns: the line a kernel-line guard refusal names (its offset on
        /// the chip), or the first pin a pin grant does not include (numbered as `iogate gpio` does).
        public var pin: Int?
        /// Who holds that line (a kernel driver or a program).
        public var consumer: String?
        /// The `errno` value of a failed system call.
        public var errno: Int32?
        /// The call that failed, with its argument (`"open /etc/iogate/iogate.toml"`).
        public var call: String?
        /// The index of the batch operation the error concerns.
        public var operation: Int?

        public init(
            address: UInt64? = nil, size: UInt64? = nil, granted: [GrantedRange] = [], pin: Int? = nil, consumer: String? = nil,
            errno: Int32? = nil, call: String? = nil, operation: Int? = nil
        ) {
            self.address = address
            self.size = size
            self.granted = granted
            self.pin = pin
            self.consumer = consumer
            self.errno = errno
            self.call = call
            self.operation = operation
        }

        /// True when no detail is set.
        public var isEmpty: Bool { self == Details() }
    }

    /// The same error about batch operation `index`: the message starts with `prefix`, and the
    /// details keep everything and name the operation.
    public func inBatch(operation index: Int, prefix: String) -> IOGateError {
        var d = details
        d.operation = index
        return IOGateError(code, prefix + message, details: d)
    }

    public var description: String { message }

    /// Errors are equal when their code and message are: the details restate the message's facts.
    public static func == (a: IOGateError, b: IOGateError) -> Bool { a.code == b.code && a.message == b.message }
}

/// Formats a value as `0x` followed by upper-case hex digits.
@inlinable
public func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16, uppercase: true) }

/// Formats a value as `0x` followed by exactly `digits` zero-padded hex digits.
public func hex(_ value: UInt64, digits: Int) -> String {
    let s = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: max(0, digits - s.count)) + s
}

/// Runs an untyped-throwing closure (such as `withUnsafeBytes`' rethrows) and restores the typed error.
@inlinable
public func typedThrows<T>(_ body: () throws -> T) throws(IOGateError) -> T {
    do { return try body() } catch let e as IOGateError { throw e } catch { throw IOGateError(.system, "\(error)") }
}
