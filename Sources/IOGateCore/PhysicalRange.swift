/// A range of physical addresses `[base, base + length)`, never empty and never wrapping past 2^64.
public struct PhysicalRange: Hashable, Sendable, CustomStringConvertible {
    /// The first physical address.
    public let base: UInt64
    /// The number of bytes; at least 1.
    public let length: UInt64

    /// Creates a range, refusing a zero length or one that wraps past 2^64.
    public init(base: UInt64, length: UInt64) throws(IOGateError) {
        guard length > 0 else {
            throw IOGateError(.config, "range at \(hex(base)) has length 0; a length must be at least 1")
        }
        guard base.addingReportingOverflow(length - 1).overflow == false else {
            throw IOGateError(
                .config, "range \(hex(base)) + \(hex(length)) wraps past 2^64; the last byte must be at most 0xFFFFFFFFFFFFFFFF")
        }
        self.base = base
        self.length = length
    }

    /// The last address inside the range (always representable, unlike the end).
    @inlinable public var last: UInt64 { base &+ (length &- 1) }

    /// True when `[address, address + size)` lies entirely inside this range.
    @inlinable
    public func contains(_ address: UInt64, size: UInt64) -> Bool {
        guard size > 0, address >= base else { return false }
        let (lastByte, overflow) = address.addingReportingOverflow(size - 1)
        return !overflow && lastByte <= last
    }

    /// True when the two ranges share at least one byte.
    public func overlaps(_ other: PhysicalRange) -> Bool { base <= other.last && other.base <= last }

    /// Renders as `0xBASE..<0xEND` (or `...0xLAST` when the end is 2^64).
    public var description: String {
        last == .max ? "\(hex(base))...\(hex(last))" : "\(hex(base))..<\(hex(last + 1))"
    }

    /// Merges overlapping or touching ranges into a sorted list of disjoint ranges.
    public static func union(_ ranges: [PhysicalRange]) -> [PhysicalRange] {
        let sorted = ranges.sorted { $0.base < $1.base }
        var out: [PhysicalRange] = []
        for r in sorted {
            if let prev = out.last, prev.last == .max || r.base <= prev.last + 1 {
                let newLast = max(prev.last, r.last)
                // SAFETY of the try!: newLast >= prev.base, so the length is at least 1 and cannot wrap.
                out[out.count - 1] = try! PhysicalRange(base: prev.base, length: newLast - prev.base + 1)
            } else {
                out.append(r)
            }
        }
        return out
    }
}
