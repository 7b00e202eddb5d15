/// The size of one register access. No access is ever split or widened.
public enum AccessWidth: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case byte = 1
    case half = 2
    case word = 4
    case double = 8

    /// Creates a width from a byte count (1, 2, 4, 8).
    public init?(bytes: Int) {
        guard let b = UInt8(exactly: bytes), let w = AccessWidth(rawValue: b) else { return nil }
        self = w
    }

    /// Creates a width from a bit count (8, 16, 32, 64), as the CLI takes it.
    public init?(bits: Int) {
        guard bits % 8 == 0 else { return nil }
        self.init(bytes: bits / 8)
    }

    /// Parses a wire width byte, with an error naming what is allowed.
    public static func decode(_ byte: UInt8) throws(IOGateError) -> AccessWidth {
        guard let w = AccessWidth(rawValue: byte) else {
            throw IOGateError(.badWidth, "width of \(byte) bytes is not supported; allowed: 1, 2, 4 or 8 bytes (8, 16, 32, 64 bits)")
        }
        return w
    }

    /// True when this CPU does a 64-bit load or store in one access (64-bit targets); elsewhere
    /// such an access would be split, so the policy refuses it.
    public static let doubleIsSingleAccess = MemoryLayout<Int>.size == 8

    /// Number of bytes.
    @inlinable public var bytes: Int { Int(rawValue) }
    /// Number of bits.
    @inlinable public var bits: Int { Int(rawValue) * 8 }
    /// The largest value that fits.
    @inlinable public var maxValue: UInt64 { rawValue == 8 ? .max : (UInt64(1) << UInt64(bits)) - 1 }
    /// Hex digits needed to print a full value.
    @inlinable public var hexDigits: Int { Int(rawValue) * 2 }

    public var description: String { "\(bits)-bit" }

    /// Checks that `value` fits, naming the field on failure.
    public func check(_ value: UInt64, field: String) throws(IOGateError) {
        if value > maxValue {
            throw IOGateError(.badWidth, "\(field) \(hex(value)) does not fit in a \(bits)-bit access (max \(hex(maxValue)))")
        }
    }
}
