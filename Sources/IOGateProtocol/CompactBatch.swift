import IOGateCore

/// A compact batch request (opcode `0x21`, protocol version 2; docs/PROTOCOL.md section 5.8),
/// read in place from the received frame: nothing is copied and nothing is allocated.
///
/// `Codec.decodeCompactBatch` checks the whole shape before it returns one (kinds, widths, sizes,
/// the count, values that fit, offsets that do not wrap), so `forEach` trusts the bytes. A view is
/// valid only while the buffer it was decoded from is.
public struct CompactBatchView {
    /// The number of operations.
    public let count: Int
    /// The address every offset is added to.
    public let base: UInt64
    /// Bytes of results in the response: `width` per read and per modify, none per write.
    public let resultBytes: Int
    /// The operations' bytes (the body after its 16-byte header).
    // SAFETY: a view of the request frame, valid only inside the `withUnsafeBytes` closure that decoded
    // it: the session decodes, validates, runs and answers a compact batch inside one closure and
    // keeps no view afterwards. Shape checks ran over every operation before any is read here.
    @usableFromInline let ops: UnsafeRawBufferPointer

    @usableFromInline
    // SAFETY: see `ops`.
    init(count: Int, base: UInt64, resultBytes: Int, ops: UnsafeRawBufferPointer) {
        self.count = count
        self.base = base
        self.resultBytes = resultBytes
        self.ops = ops
    }

    /// Calls `body` with each operation, in order, with its index. The operation is read lazily:
    /// its head is loaded, its value and mask only when asked for.
    @inlinable @inline(__always)
    public func forEach<E: Error>(_ body: (_ index: Int, _ op: CompactOp) throws(E) -> Void) throws(E) {
        guard let start = ops.baseAddress else { return }
        var p = start
        for i in 0..<count {
            let op = CompactOp(p, base: base)
            p += op.size
            try body(i, op)
        }
    }

    /// Calls `body` with each operation, in order, until it returns false (a batch stopped by a
    /// bus fault). Like `forEach`, but a loop the optimiser sees whole: nothing but the cursor.
    @inlinable @inline(__always)
    public func forEach(while body: (_ op: CompactOp) -> Bool) {
        guard let start = ops.baseAddress else { return }
        var p = start
        var i = 0
        while i < count {
            let op = CompactOp(p, base: base)
            guard body(op) else { return }
            p += op.size
            i &+= 1
        }
    }

    /// Like `forEach(while:)`, with the common operation, a 32-bit read, handed to `read32` as
    /// its address alone (no `CompactOp` is built for it); every other operation to `other`.
    /// Either stops the loop by returning false.
    @inlinable @inline(__always)
    public func forEach(read32: (_ address: UInt64) -> Bool, other: (_ op: CompactOp) -> Bool) {
        guard let start = ops.baseAddress else { return }
        var p = start
        var i = 0
        while i < count {
            let head = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
            if head & 0xFFFF == 0x0401 {
                guard read32(base &+ (head >> 32)) else { return }
                p += 8
            } else {
                let op = CompactOp(p, base: base)
                guard other(op) else { return }
                p += op.size
            }
            i &+= 1
        }
    }

    /// The operations as an array (for tests and the fuzzer; the daemon never builds it).
    public var array: [BatchOp] {
        var out: [BatchOp] = []
        out.reserveCapacity(count)
        forEach { _, op in out.append(op.batchOp) }
        return out
    }
}

/// One operation of a shape-checked compact batch, read in place.
public struct CompactOp: BatchOperation {
    /// Kind (byte 0), width (byte 1), padding, offset (bytes 4..7), little-endian.
    public let head: UInt64
    /// The operation's address: base + offset (checked not to wrap).
    public let address: UInt64
    // SAFETY: points at one shape-checked operation inside a CompactBatchView's `ops`, whose lifetime
    // rule it shares; `size` bytes from `p` are in bounds.
    @usableFromInline let p: UnsafeRawPointer

    @inlinable @inline(__always)
    // SAFETY: see `p`.
    init(_ p: UnsafeRawPointer, base: UInt64) {
        self.p = p
        head = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
        address = base &+ (head >> 32)
    }

    /// 1 read, 2 write, 3 modify.
    @inlinable public var kindByte: UInt8 { UInt8(truncatingIfNeeded: head) }
    @inlinable public var kind: BatchKind { BatchKind(rawValue: kindByte) ?? .read }
    @inlinable public var width: AccessWidth { AccessWidth(rawValue: UInt8(truncatingIfNeeded: head >> 8)) ?? .byte }
    /// Bytes on the wire: 8, 16 or 24.
    @inlinable public var size: Int { Int(truncatingIfNeeded: head & 0xFF) &* 8 }
    /// A write's value, a modify's new bits; 0 for a read.
    @inlinable public var value: UInt64 {
        switch kindByte {
        case 2: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        case 3: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        default: 0
        }
    }
    /// A modify's mask; 0 otherwise.
    @inlinable public var mask: UInt64 {
        kindByte == 3 ? UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) : 0
    }
    public var batchOp: BatchOp { BatchOp(kind: kind, width: width, address: address, mask: mask, value: value) }
}

/// Writes a compact batch's results into the response: `width` little-endian bytes per read and
/// per modify, none per write. The buffer is `CompactBatchView.resultBytes` long.
public struct CompactResultWriter {
    // SAFETY: the response's result area (resultBytes long, reserved by ByteWriter.append(count:)),
    // valid inside that call; results are written in order and never past it.
    @usableFromInline let bytes: UnsafeMutableRawBufferPointer
    @usableFromInline var position = 0

    // SAFETY: see `bytes`.
    public init(_ bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }

    /// Appends a 32-bit result.
    @inlinable @inline(__always)
    public mutating func putWord(_ value: UInt32) {
        bytes.storeBytes(of: value.littleEndian, toByteOffset: position, as: UInt32.self)
        position &+= 4
    }

    /// Appends the low `width` bytes of `value`.
    @inlinable @inline(__always)
    public mutating func put(_ value: UInt64, _ width: AccessWidth) {
        switch width {
        case .byte: bytes.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: position, as: UInt8.self)
        case .half: bytes.storeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian, toByteOffset: position, as: UInt16.self)
        case .word: bytes.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, toByteOffset: position, as: UInt32.self)
        case .double: bytes.storeBytes(of: value.littleEndian, toByteOffset: position, as: UInt64.self)
        }
        position &+= width.bytes
    }
}

/// The policy that `Codec.decodeCompactBatch(_:limits:policy:)` asks about each operation of a
/// compact batch, in order, in the same pass as the shape checks (the daemon's allowlist).
public protocol CompactBatchPolicy {
    /// A read of `bytes` (1, 2, 4 or 8) at `address` whose shape is fine: true when allowed;
    /// false when refused (then `refusal` says why, and no further operation is asked about).
    mutating func checkRead(_ address: UInt64, bytes: UInt64, index: Int) -> Bool
    /// Any operation whose shape is fine: as `checkRead`.
    mutating func checkOther(_ op: CompactOp, index: Int) -> Bool
    /// The refusal of the whole batch, after a check returned false.
    var refusal: IOGateError? { get }
    /// After a check: a range `[first, first + span]` inside which a read of width 1, 2 or 4
    /// bytes, aligned to its width, whose shape is fine, is allowed with no further check (the
    /// allowlist entry that allowed the last operation), or nil. The decoder checks such reads
    /// inline and asks `checkRead` about the others. A policy with any other per-read check
    /// returns nil.
    var readRange: (first: UInt64, span: UInt64)? { get }
}

/// Allows everything: shape checks only.
@usableFromInline
struct NoCompactPolicy: CompactBatchPolicy {
    @usableFromInline init() {}
    @usableFromInline func checkRead(_ address: UInt64, bytes: UInt64, index: Int) -> Bool { true }
    @usableFromInline func checkOther(_ op: CompactOp, index: Int) -> Bool { true }
    @usableFromInline var refusal: IOGateError? { nil }
    @usableFromInline var readRange: (first: UInt64, span: UInt64)? { (0, UInt64.max) }
}

extension Codec {
    /// Decodes a compact batch payload (header included) in place, checking its whole shape:
    /// the count against `maxBatch`, every operation's kind, width and size, mask and value
    /// fitting the width, `base + offset` (and the access's last byte) not passing 2^64, and
    /// that the operations fill the body exactly. Errors name the operation's index.
    // SAFETY: (the decoders below) read `payload` at offsets checked against its count; the view
    // they return follows CompactBatchView's lifetime rule.
    public static func decodeCompactBatch(_ payload: UnsafeRawBufferPointer, limits: Limits) throws(IOGateError) -> (
        FrameHeader, CompactBatchView
    ) {
        let h = try header(payload)
        guard h.opcode == Opcode.compactBatch.rawValue else {
            throw IOGateError(.malformed, "opcode \(hex(UInt64(h.opcode))) is not a compact batch")
        }
        guard h.flags == 0, h.status == 0 else {
            throw IOGateError(.malformed, "request flags and status must be 0; got flags \(h.flags), status \(h.status)")
        }
        // SAFETY: the header size was checked against the payload's count above.
        return (h, try decodeCompactBatchBody(UnsafeRawBufferPointer(rebasing: payload[Frame.headerSize...]), limits: limits))
    }

    /// Decodes and checks the body of a compact batch (after the 8-byte header).
    // SAFETY: see decodeCompactBatch.
    public static func decodeCompactBatchBody(_ body: UnsafeRawBufferPointer, limits: Limits) throws(IOGateError) -> CompactBatchView {
        var none = NoCompactPolicy()
        return try decodeCompactBatchBody(body, limits: limits, policy: &none)
    }

    /// Decodes a compact batch payload (header included) like `decodeCompactBatch(_:limits:)` and,
    /// in the same pass, asks `policy` about each operation in order until it refuses one. A
    /// malformed operation anywhere still wins over a refusal (the shape of every operation is
    /// checked first, as with two passes); otherwise the first refusal is thrown. One pass over the
    /// operations instead of two.
    @inlinable
    public static func decodeCompactBatch<P: CompactBatchPolicy>(
        // SAFETY: see decodeCompactBatch.
        _ payload: UnsafeRawBufferPointer, limits: Limits, policy: inout P
    ) throws(IOGateError) -> (FrameHeader, CompactBatchView) {
        let h = try header(payload)
        guard h.opcode == Opcode.compactBatch.rawValue else {
            throw IOGateError(.malformed, "opcode \(hex(UInt64(h.opcode))) is not a compact batch")
        }
        guard h.flags == 0, h.status == 0 else {
            throw IOGateError(.malformed, "request flags and status must be 0; got flags \(h.flags), status \(h.status)")
        }
        return (
            // SAFETY: the header size was checked against the payload's count above.
            h, try decodeCompactBatchBody(UnsafeRawBufferPointer(rebasing: payload[Frame.headerSize...]), limits: limits, policy: &policy)
        )
    }

    /// The body (after the 8-byte header) of `decodeCompactBatch(_:limits:policy:)`.
    @inlinable
    public static func decodeCompactBatchBody<P: CompactBatchPolicy>(
        // SAFETY: see decodeCompactBatch.
        _ body: UnsafeRawBufferPointer, limits: Limits, policy: inout P
    ) throws(IOGateError) -> CompactBatchView {
        var r = ByteReader(body)
        let count = try r.u32("compact batch count")
        try r.zeros(4, "compact batch reserved field")
        let base = try r.u64("compact batch base")
        guard count >= 1, count <= UInt32(clamping: limits.maxBatch) else {
            throw IOGateError(.limitExceeded, "compact batch of \(count) operations; allowed: 1...\(limits.maxBatch)")
        }
        let n = Int(count)
        // SAFETY: the body is at least the header long (checked above).
        let ops = UnsafeRawBufferPointer(rebasing: body[Frame.compactBatchHeaderSize...])
        // No offset can wrap when base + (2^32 - 1) + 7 fits: then reads need no per-operation check.
        let mayWrap = base > UInt64.max - UInt64(UInt32.max) - 7
        var position = 0, results = 0, i = 0
        var allowed = true
        // The policy's read range, in locals: a read inside it is checked here with three compares.
        var (first, span) = policy.readRange ?? (1, 0)
        if let p = ops.baseAddress {
            while i < n {
                // The fastest path, a run of 32-bit reads inside the policy's read range: per
                // operation one load and five compares, everything else in registers.
                if allowed && !mayWrap {
                    let end = min(n, i &+ (ops.count &- position) / 8)
                    while i < end {
                        let head = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                        let address = base &+ (head >> 32), offset = address &- first
                        guard head & 0xFFFF_FFFF == 0x0401, address & 3 == 0, offset <= span, span &- offset >= 3 else { break }
                        results &+= 4
                        position &+= 8
                        i &+= 1
                    }
                    if i == n { break }
                }
                // The fast path: a read of a valid width, zero padding, in bounds (one load, a few compares).
                if ops.count &- position >= 8 {
                    let head = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                    let width = (head >> 8) & 0xFF
                    if head & 0xFFFF_00FF == 1, width <= 8, (0x116 as UInt64) >> width & 1 == 1, !mayWrap {
                        let address = base &+ (head >> 32), offset = address &- first
                        if allowed && !(width != 8 && address & (width &- 1) == 0 && offset <= span && span &- offset >= width &- 1) {
                            allowed = policy.checkRead(address, bytes: width, index: i)
                            (first, span) = policy.readRange ?? (1, 0)
                        }
                        results &+= Int(truncatingIfNeeded: width)
                        position &+= 8
                        i &+= 1
                        continue
                    }
                }
                let (size, resultSize) = try checkCompactOp(ops, at: position, index: i, base: base, count: count)
                if allowed {
                    allowed = policy.checkOther(CompactOp(p + position, base: base), index: i)
                    (first, span) = policy.readRange ?? (1, 0)
                }
                position &+= size
                results &+= resultSize
                i &+= 1
            }
        }
        guard position == ops.count else {
            throw IOGateError(
                .malformed,
                "compact batch of \(count) operations: \(ops.count - position) unexpected bytes after operation #\(n - 1) (does the count match the operations?)"
            )
        }
        if !allowed, let refusal = policy.refusal { throw refusal }
        return CompactBatchView(count: n, base: base, resultBytes: results, ops: ops)
    }

    /// Checks the compact operation at `position` of `ops`; returns its size and result bytes.
    @usableFromInline
    // SAFETY: reads the operation at `position` only after checking its size fits in `ops`.
    static func checkCompactOp(_ ops: UnsafeRawBufferPointer, at position: Int, index i: Int, base: UInt64, count: UInt32)
        throws(IOGateError) -> (Int, Int)
    {
        let left = ops.count - position
        guard left >= 8 else {
            throw IOGateError(
                .malformed,
                "compact batch of \(count) operations: the frame ends before operation #\(i) (an operation needs at least 8 bytes; \(left) left)"
            )
        }
        let head = UInt64(littleEndian: ops.loadUnaligned(fromByteOffset: position, as: UInt64.self))
        let kindByte = UInt8(truncatingIfNeeded: head), widthByte = UInt8(truncatingIfNeeded: head >> 8)
        guard let kind = BatchKind(rawValue: kindByte) else {
            throw IOGateError(.malformed, "compact batch operation #\(i): unknown kind \(kindByte); allowed: 1 read, 2 write, 3 modify")
        }
        guard let width = AccessWidth(rawValue: widthByte) else {
            throw IOGateError(
                .badWidth,
                "compact batch operation #\(i): width of \(widthByte) bytes is not supported; allowed: 1, 2, 4 or 8 bytes (8, 16, 32, 64 bits)"
            )
        }
        if (head >> 16) & 0xFFFF != 0 { try refuseNonZero(ops, at: position + 2, count: 2, "compact batch operation #\(i) padding") }
        let size = kind.compactSize
        guard left >= size else {
            throw IOGateError(.malformed, "compact batch operation #\(i): a \(kind) operation is \(size) bytes; the frame has \(left) left")
        }
        let offset = head >> 32
        let (address, wrapped) = base.addingReportingOverflow(offset)
        if wrapped || address.addingReportingOverflow(UInt64(width.bytes - 1)).overflow {
            throw IOGateError(
                .outsideAllowlist,
                "compact batch operation #\(i): base \(hex(base)) + offset \(hex(offset)) (\(width.bits)-bit) wraps past 2^64")
        }
        switch kind {
        case .read:
            return (size, width.bytes)
        case .write:
            let value = UInt64(littleEndian: ops.loadUnaligned(fromByteOffset: position + 8, as: UInt64.self))
            if value > width.maxValue {
                throw IOGateError(.badWidth, "compact batch operation #\(i): value \(hex(value)) does not fit in \(width.bits) bits")
            }
            return (size, 0)
        case .modify:
            let mask = UInt64(littleEndian: ops.loadUnaligned(fromByteOffset: position + 8, as: UInt64.self))
            let value = UInt64(littleEndian: ops.loadUnaligned(fromByteOffset: position + 16, as: UInt64.self))
            if value > width.maxValue || mask > width.maxValue {
                throw IOGateError(
                    .badWidth, "compact batch operation #\(i): mask \(hex(mask)) or value \(hex(value)) does not fit in \(width.bits) bits")
            }
            return (size, width.bytes)
        }
    }

    /// Encodes a compact batch request frame of 32-bit reads only (every operation `.read` of
    /// `.word`, each address within `base ..< base + 2^32`): the common batch, in one tight pass.
    /// The bytes are those `encode(.compactBatch(base:ops:), id:into:)` writes.
    public static func encodeCompactWordReads(_ ops: [BatchOp], base: UInt64, id: UInt32, into w: inout ByteWriter) {
        w.beginFrame(FrameHeader(opcode: Opcode.compactBatch.rawValue, id: id))
        w.u32(UInt32(truncatingIfNeeded: ops.count))
        w.u32(0)
        w.u64(base)
        w.append(count: ops.count &* 8) { p in
            guard let out = p.baseAddress else { return }
            // SAFETY: the array's own storage, read in bounds; `out` holds ops.count * 8 reserved bytes.
            ops.withUnsafeBufferPointer { ops in
                for i in 0..<ops.count {
                    let head = 0x0401 | (ops[i].address &- base) << 32
                    out.storeBytes(of: head.littleEndian, toByteOffset: i &* 8, as: UInt64.self)
                }
            }
        }
        w.endFrame()
    }

    /// Decodes the body of a compact batch response to `count` 32-bit reads (see
    /// `encodeCompactWordReads`): one value per operation.
    public static func decodeCompactWordResults(_ r: inout ByteReader, count: Int) throws(IOGateError) -> [UInt64] {
        let n = Int(try r.u32("batch count"))
        _ = try r.u32("reserved")
        guard n == count else { throw IOGateError(.malformed, "batch response has \(n) results for \(count) operations") }
        guard r.remaining == 4 &* n else {
            throw IOGateError(.malformed, "compact batch response has \(r.remaining) bytes of results; \(count) operations need \(4 * n)")
        }
        let p = r.bytes, start = r.position
        try r.skip(4 &* n, "batch results")
        return [UInt64](unsafeUninitializedCapacity: n) { out, initialized in
            for i in 0..<n {
                out[i] = UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: start &+ i &* 4, as: UInt32.self)))
            }
            initialized = n
        }
    }

    /// Bytes the operations of a compact batch take on the wire (after its 16-byte header).
    @inlinable
    public static func compactSize(of ops: [BatchOp]) -> Int {
        var n = 0
        for op in ops { n &+= op.kind.compactSize }
        return n
    }

    /// Bytes of results a compact batch of `ops` is answered with.
    @inlinable
    public static func compactResultSize(of ops: [BatchOp]) -> Int {
        var n = 0
        for op in ops where op.kind != .write { n &+= op.width.bytes }
        return n
    }

    /// Writes the operations of a compact batch into zeroed bytes: head (kind, width, offset
    /// `address - base` truncated to 32 bits), then value (write) or mask and value (modify).
    @inline(__always)
    // SAFETY: `p` is exactly the bytes the encoded operations take (ByteWriter.append(count:)).
    static func storeCompact(_ ops: [BatchOp], base: UInt64, into p: UnsafeMutableRawBufferPointer) {
        var position = 0
        for op in ops {
            let head = UInt64(op.kind.rawValue) | UInt64(op.width.rawValue) << 8 | (op.address &- base) << 32
            p.storeBytes(of: head.littleEndian, toByteOffset: position, as: UInt64.self)
            switch op.kind {
            case .read:
                break
            case .write:
                p.storeBytes(of: op.value.littleEndian, toByteOffset: position + 8, as: UInt64.self)
            case .modify:
                p.storeBytes(of: op.mask.littleEndian, toByteOffset: position + 8, as: UInt64.self)
                p.storeBytes(of: op.value.littleEndian, toByteOffset: position + 16, as: UInt64.self)
            }
            position &+= op.kind.compactSize
        }
    }

    /// Decodes the body of a compact batch response into one result per operation: the value
    /// read, 0 for a write, the old value for a modify.
    public static func decodeCompactBatchResults(_ r: inout ByteReader, ops: [BatchOp]) throws(IOGateError) -> [UInt64] {
        let n = Int(try r.u32("batch count"))
        _ = try r.u32("reserved")
        guard n == ops.count else { throw IOGateError(.malformed, "batch response has \(n) results for \(ops.count) operations") }
        let size = compactResultSize(of: ops)
        guard r.remaining == size else {
            throw IOGateError(
                .malformed, "compact batch response has \(r.remaining) bytes of results; \(ops.count) operations need \(size)")
        }
        let p = r.bytes, start = r.position
        try r.skip(size, "batch results")
        return [UInt64](unsafeUninitializedCapacity: n) { out, initialized in
            var position = start
            for (i, op) in ops.enumerated() {
                switch (op.kind, op.width) {
                case (.write, _): out[i] = 0
                case (_, .byte): out[i] = UInt64(p[position])
                case (_, .half): out[i] = UInt64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: position, as: UInt16.self)))
                case (_, .word): out[i] = UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
                case (_, .double): out[i] = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                }
                if op.kind != .write { position &+= op.width.bytes }
            }
            initialized = n
        }
    }
}
