import IOGateCore

/// Reads little-endian integers from a byte buffer, failing cleanly at the end.
public struct ByteReader {
    // SAFETY: a view valid only inside the `withUnsafeBytes` closure that made it; every reader in this
    // package is made and dropped inside one (Session.handle, IOGateClient.withReader), and every read
    // is bounds-checked by `need` first.
    public let bytes: UnsafeRawBufferPointer
    public internal(set) var position: Int

    // SAFETY: see `bytes`.
    public init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    public var remaining: Int { bytes.count - position }

    @inline(__always)
    mutating func need(_ n: Int, _ what: String) throws(IOGateError) {
        guard remaining >= n else {
            throw IOGateError(.malformed, "frame ends before \(what): needs \(n) more bytes, has \(remaining)")
        }
    }

    @inline(__always)
    public mutating func u8(_ what: String) throws(IOGateError) -> UInt8 {
        try need(1, what)
        defer { position += 1 }
        return bytes[position]
    }

    @inline(__always)
    public mutating func u16(_ what: String) throws(IOGateError) -> UInt16 {
        try need(2, what)
        defer { position += 2 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    @inline(__always)
    public mutating func u32(_ what: String) throws(IOGateError) -> UInt32 {
        try need(4, what)
        defer { position += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    @inline(__always)
    public mutating func u64(_ what: String) throws(IOGateError) -> UInt64 {
        try need(8, what)
        defer { position += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// Reads an unsigned value of `width` bytes.
    @inline(__always)
    public mutating func value(_ width: AccessWidth, _ what: String) throws(IOGateError) -> UInt64 {
        switch width {
        case .byte: UInt64(try u8(what))
        case .half: UInt64(try u16(what))
        case .word: UInt64(try u32(what))
        case .double: try u64(what)
        }
    }

    /// Skips `n` padding or reserved bytes of a request, which must be zero: a sender that puts
    /// something there speaks a protocol this daemon does not, and is told so rather than ignored.
    public mutating func zeros(_ n: Int, _ what: String) throws(IOGateError) {
        try need(n, what)
        defer { position += n }
        try Codec.checkZero(bytes, at: position, count: n, what)
    }

    public mutating func skip(_ n: Int, _ what: String) throws(IOGateError) {
        try need(n, what)
        position += n
    }

    public mutating func bytes(_ n: Int, _ what: String) throws(IOGateError) -> [UInt8] {
        try need(n, what)
        defer { position += n }
        return Array(bytes[position..<position + n])
    }
}

/// Appends little-endian integers to a reusable byte array.
public struct ByteWriter {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) public mutating func u8(_ v: UInt8) { bytes.append(v) }
    // SAFETY: (u16, u32, u64) a copy of the value's own bytes, appended during the call.
    @inline(__always) public mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    @inline(__always) public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    @inline(__always) public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    /// Appends the low `width` bytes of `v`.
    @inline(__always)
    public mutating func value(_ v: UInt64, _ width: AccessWidth) {
        switch width {
        case .byte: u8(UInt8(truncatingIfNeeded: v))
        case .half: u16(UInt16(truncatingIfNeeded: v))
        case .word: u32(UInt32(truncatingIfNeeded: v))
        case .double: u64(v)
        }
    }

    public mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }

    /// Appends `n` bytes filled in place by `fill` (zeroed first): one growth check for a whole
    /// batch instead of one per field, which is what makes 4,096-operation batches cheap.
    @inline(__always)
    // SAFETY: `fill` gets exactly the n zeroed bytes just appended, valid only during the call.
    public mutating func append(count n: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: n))
        bytes.withUnsafeMutableBytes { fill(UnsafeMutableRawBufferPointer(rebasing: $0[start..<(start + n)])) }
    }

    /// Starts a frame: a length placeholder and the header. Finish with `endFrame()`.
    public mutating func beginFrame(_ header: FrameHeader) {
        bytes.removeAll(keepingCapacity: true)
        // The length placeholder and the header in one append (it was five: every response pays it).
        let prefix = UInt64(header.opcode) << 32 | UInt64(header.flags) << 40 | UInt64(header.status) << 48
        let twelve = (prefix.littleEndian, header.id.littleEndian)
        // SAFETY: the first 12 bytes of a 16-byte tuple, copied during the call.
        withUnsafeBytes(of: twelve) { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<12])) }
    }

    /// Writes the length prefix of the frame begun by `beginFrame`.
    public mutating func endFrame() {
        let n = UInt32(bytes.count - Frame.prefixSize).littleEndian
        // SAFETY: the 4 bytes of a UInt32, copied over the 4-byte prefix beginFrame wrote.
        withUnsafeBytes(of: n) { p in for i in 0..<4 { bytes[i] = p[i] } }
    }
}
