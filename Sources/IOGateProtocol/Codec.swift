import IOGateCore

/// Encodes and decodes protocol frames. Pure: no I/O, fuzzable in isolation.
///
/// Decoding checks shape only: lengths, widths, counts against limits, values that fit their
/// width, and that nothing trails the body. Policy is the daemon's business.
public enum Codec {
    /// Validates a length prefix before the payload is read.
    public static func checkLength(_ length: UInt32, limit: Int) throws(IOGateError) {
        guard length >= UInt32(Frame.headerSize) else {
            throw IOGateError(.malformed, "frame length \(length) is shorter than the \(Frame.headerSize)-byte header")
        }
        guard length <= UInt32(clamping: limit) else {
            throw IOGateError(.limitExceeded, "frame length \(length) exceeds the limit of \(limit) bytes")
        }
    }

    /// Decodes the header at the start of a payload (the bytes after the length prefix).
    // SAFETY: the decoders below read `payload` only through ByteReader or loadUnaligned at offsets
    // checked against its count, and keep no pointer past their return (except CompactBatchView:
    // see there).
    public static func header(_ payload: UnsafeRawBufferPointer) throws(IOGateError) -> FrameHeader {
        var r = ByteReader(payload)
        return FrameHeader(opcode: try r.u8("opcode"), flags: try r.u8("flags"), status: try r.u16("status"), id: try r.u32("id"))
    }

    // MARK: Requests

    /// Decodes a request payload (header included).
    // SAFETY: see header(_:).
    public static func decodeRequest(_ payload: UnsafeRawBufferPointer, limits: Limits) throws(IOGateError) -> (FrameHeader, Request) {
        var ops: [BatchOp] = []
        let (h, req) = try decodeRequest(payload, limits: limits, batchOps: &ops)
        if case .batch = req { return (h, .batch(ops)) }
        return (h, req)
    }

    /// Decodes a request payload like `decodeRequest(_:limits:)`, except that a batch's operations
    /// go into `batchOps` (emptied first, its storage reused from call to call) and the returned
    /// request is `.batch([])`. The daemon's sessions use this so a batch allocates nothing.
    public static func decodeRequest(
        // SAFETY: see header(_:).
        _ payload: UnsafeRawBufferPointer, limits: Limits, batchOps: inout [BatchOp]
    ) throws(IOGateError) -> (FrameHeader, Request) {
        var window: String?
        return try decodeRequest(payload, limits: limits, batchOps: &batchOps, window: &window, windowRelative: false)
    }

    /// Decodes a request payload like `decodeRequest(_:limits:batchOps:)`; with `windowRelative`
    /// (a version 3 connection), a read, write, modify or wait may set `Frame.windowRelativeFlag`:
    /// then `window` gets the window name from the body's start and the request's address is the
    /// offset from that window's base (docs/PROTOCOL.md section 5.10). Otherwise `window` is nil,
    /// and any flag is refused exactly as in versions 1 and 2.
    public static func decodeRequest(
        // SAFETY: see header(_:).
        _ payload: UnsafeRawBufferPointer, limits: Limits, batchOps: inout [BatchOp], window: inout String?,
        windowRelative: Bool
    ) throws(IOGateError) -> (FrameHeader, Request) {
        var r = ByteReader(payload)
        let h = FrameHeader(opcode: try r.u8("opcode"), flags: try r.u8("flags"), status: try r.u16("status"), id: try r.u32("id"))
        guard let op = Opcode(rawValue: h.opcode) else {
            throw IOGateError(
                .unknownOperation,
                "unknown opcode \(hex(UInt64(h.opcode))); known: \(Codec.versionTwoOpcodes)"
            )
        }
        window = nil
        if windowRelative, h.flags == Frame.windowRelativeFlag, h.status == 0 {
            guard op == .read || op == .write || op == .modify || op == .wait else {
                throw IOGateError(
                    .malformed,
                    "the window-relative flag (0x02) is for read, write, modify and wait requests; not opcode \(hex(UInt64(h.opcode)))")
            }
            let n = Int(try r.u8("window name length"))
            guard n > 0 else { throw IOGateError(.malformed, "a window-relative request needs a window name (its length is 0)") }
            guard let name = String(validating: try r.bytes(n, "window name"), as: UTF8.self) else {
                throw IOGateError(.malformed, "the window name of a window-relative request is not UTF-8")
            }
            window = name
        } else {
            guard h.flags == 0, h.status == 0 else {
                throw IOGateError(.malformed, "request flags and status must be 0; got flags \(h.flags), status \(h.status)")
            }
        }
        let req: Request
        switch op {
        case .hello:
            let magic = try r.u32("hello magic")
            guard magic == Frame.magic else {
                throw IOGateError(.malformed, "hello magic is \(hex(UInt64(magic))); expected \(hex(UInt64(Frame.magic))) (\"IOGT\")")
            }
            let lo = try r.u16("min version"), hi = try r.u16("max version")
            req = .hello(minVersion: lo, maxVersion: hi)
        case .windows:
            req = .windows
        case .grants:
            req = .grants
        case .read:
            let address = try r.u64("address")
            let width = try AccessWidth.decode(try r.u8("width"))
            try r.zeros(3, "read padding")
            let count = try r.u32("count")
            try checkCount(count, limits)
            req = .read(address: address, width: width, count: count)
        case .write:
            let address = try r.u64("address")
            let width = try AccessWidth.decode(try r.u8("width"))
            try r.zeros(3, "write padding")
            let count = try r.u32("count")
            try checkCount(count, limits)
            guard r.remaining == Int(count) * width.bytes else {
                throw IOGateError(
                    .malformed,
                    "write of \(count) x \(width.bits)-bit needs \(Int(count) * width.bytes) value bytes; frame has \(r.remaining)")
            }
            var values: [UInt64] = []
            values.reserveCapacity(Int(count))
            for _ in 0..<count { values.append(try r.value(width, "value")) }
            req = .write(address: address, width: width, values: values)
        case .modify:
            let address = try r.u64("address")
            let width = try AccessWidth.decode(try r.u8("width"))
            try r.zeros(7, "modify padding")
            let mask = try r.u64("mask"), value = try r.u64("value")
            try width.check(mask, field: "mask")
            try width.check(value, field: "value")
            req = .modify(address: address, width: width, mask: mask, value: value)
        case .wait:
            let address = try r.u64("address")
            let width = try AccessWidth.decode(try r.u8("width"))
            try r.zeros(3, "wait padding")
            let timeout = try r.u32("timeout")
            let mask = try r.u64("mask"), value = try r.u64("value")
            try width.check(mask, field: "mask")
            try width.check(value, field: "value")
            guard timeout <= UInt32(clamping: limits.maxWaitMilliseconds) else {
                throw IOGateError(.limitExceeded, "wait timeout of \(timeout) ms exceeds the limit of \(limits.maxWaitMilliseconds) ms")
            }
            req = .wait(address: address, width: width, mask: mask, value: value, timeoutMilliseconds: timeout)
        case .batch:
            let count = try r.u32("batch count")
            try r.zeros(4, "batch reserved field")
            guard count >= 1, count <= UInt32(clamping: limits.maxBatch) else {
                throw IOGateError(.limitExceeded, "batch of \(count) operations; allowed: 1...\(limits.maxBatch)")
            }
            guard r.remaining == Int(count) * Frame.batchOpSize else {
                throw IOGateError(
                    .malformed, "batch of \(count) operations needs \(Int(count) * Frame.batchOpSize) bytes; frame has \(r.remaining)")
            }
            batchOps.removeAll(keepingCapacity: true)
            batchOps.reserveCapacity(Int(count))
            let start = r.position
            for i in 0..<Int(count) { batchOps.append(try decodeBatchOp(r.bytes, at: start + i * Frame.batchOpSize, index: i)) }
            try r.skip(Int(count) * Frame.batchOpSize, "batch operations")
            req = .batch([])
        case .compactBatch:
            // SAFETY: the rest of the reader's buffer, which outlives this call; the view is turned into
            // operations here and dropped.
            let view = try decodeCompactBatchBody(UnsafeRawBufferPointer(rebasing: r.bytes[r.position...]), limits: limits)
            try r.skip(r.remaining, "compact batch operations")
            req = .compactBatch(base: view.base, ops: view.array)
        }
        guard r.remaining == 0 else {
            throw IOGateError(.malformed, "\(r.remaining) unexpected bytes after a \(op) request")
        }
        return (h, req)
    }

    /// Throws naming `what` and the bytes unless the `count` bytes at `offset` are all zero. The
    /// name is built only for the error: this runs once per batch operation.
    @inline(__always)
    // SAFETY: (checkZero, refuseNonZero, decodeBatchOp, store) callers pass offsets whose whole
    // field lies inside `p` (the frame size was checked against the operation count first).
    static func checkZero(_ p: UnsafeRawBufferPointer, at offset: Int, count: Int, _ what: @autoclosure () -> String) throws(IOGateError) {
        var any: UInt8 = 0
        for i in offset..<(offset + count) { any |= p[i] }
        guard any != 0 else { return }
        try refuseNonZero(p, at: offset, count: count, what())
    }

    // SAFETY: see checkZero.
    static func refuseNonZero(_ p: UnsafeRawBufferPointer, at offset: Int, count: Int, _ what: String) throws(IOGateError) {
        let got = p[offset..<(offset + count)].map { String($0, radix: 16, uppercase: true) }.map { $0.count == 1 ? "0" + $0 : $0 }
        throw IOGateError(
            .malformed,
            "\(what) must be zero (\(count) bytes); got \(got.joined(separator: " ")): send zeros in padding and reserved fields")
    }

    static func checkCount(_ count: UInt32, _ limits: Limits) throws(IOGateError) {
        guard count >= 1, count <= UInt32(clamping: limits.maxBlock) else {
            throw IOGateError(.limitExceeded, "count \(count); allowed: 1...\(limits.maxBlock)")
        }
    }

    /// Decodes the 32-byte batch operation at `offset`, which the caller has checked is in bounds.
    /// Reads straight from the frame: no reader state, one bounds check per field.
    @inline(__always)
    // SAFETY: see checkZero.
    static func decodeBatchOp(_ p: UnsafeRawBufferPointer, at offset: Int, index i: Int) throws(IOGateError) -> BatchOp {
        let kindByte = p[offset]
        guard let kind = BatchKind(rawValue: kindByte) else {
            throw IOGateError(.malformed, "batch operation #\(i): unknown kind \(kindByte); allowed: 1 read, 2 write, 3 modify")
        }
        let width: AccessWidth
        switch p[offset + 1] {  // the common widths without a call; the rest get decode's error
        case 4: width = .word
        case 1: width = .byte
        case 2: width = .half
        case 8: width = .double
        default:
            do { width = try AccessWidth.decode(p[offset + 1]) } catch {
                throw error.inBatch(operation: i, prefix: "batch operation #\(i): ")
            }
        }
        // Bytes 2..7 of the operation: padding, checked with one load.
        if UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) >> 16 != 0 {
            try refuseNonZero(p, at: offset + 2, count: 6, "batch operation #\(i) padding")
        }
        let op = BatchOp(
            kind: kind, width: width,
            address: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)),
            mask: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)),
            value: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)))
        if op.value > width.maxValue || op.mask > width.maxValue {
            throw IOGateError(
                .badWidth, "batch operation #\(i): mask \(hex(op.mask)) or value \(hex(op.value)) does not fit in \(width.bits) bits")
        }
        return op
    }

    /// Encodes a request frame (length prefix included) into `w`.
    public static func encode(_ request: Request, id: UInt32, into w: inout ByteWriter) {
        encode(request, id: id, window: nil, into: &w)
    }

    /// Encodes a request frame; with `window` (version 3, read/write/modify/wait), a
    /// window-relative one: `Frame.windowRelativeFlag`, the name first, and the request's address
    /// as the offset from that window's base (docs/PROTOCOL.md section 5.10). The name must be
    /// 1...255 bytes of UTF-8.
    public static func encode(_ request: Request, id: UInt32, window: String?, into w: inout ByteWriter) {
        w.beginFrame(FrameHeader(opcode: request.opcode.rawValue, flags: window == nil ? 0 : Frame.windowRelativeFlag, id: id))
        if let window {
            let name = window.utf8.prefix(255)
            w.u8(UInt8(name.count))
            w.bytes.append(contentsOf: name)
        }
        switch request {
        case .hello(let lo, let hi):
            w.u32(Frame.magic)
            w.u16(lo)
            w.u16(hi)
        case .windows, .grants:
            break
        case .read(let address, let width, let count):
            w.u64(address)
            w.u8(width.rawValue)
            w.zeros(3)
            w.u32(count)
        case .write(let address, let width, let values):
            w.u64(address)
            w.u8(width.rawValue)
            w.zeros(3)
            w.u32(UInt32(values.count))
            for v in values { w.value(v, width) }
        case .modify(let address, let width, let mask, let value):
            w.u64(address)
            w.u8(width.rawValue)
            w.zeros(7)
            w.u64(mask)
            w.u64(value)
        case .wait(let address, let width, let mask, let value, let timeout):
            w.u64(address)
            w.u8(width.rawValue)
            w.zeros(3)
            w.u32(timeout)
            w.u64(mask)
            w.u64(value)
        case .batch(let ops):
            w.u32(UInt32(ops.count))
            w.u32(0)
            w.append(count: ops.count * Frame.batchOpSize) { p in
                for (i, op) in ops.enumerated() { store(op, into: p, at: i * Frame.batchOpSize) }
            }
        case .compactBatch(let base, let ops):
            w.u32(UInt32(ops.count))
            w.u32(0)
            w.u64(base)
            w.append(count: compactSize(of: ops)) { p in storeCompact(ops, base: base, into: p) }
        }
        w.endFrame()
    }

    /// Appends one 32-byte batch operation.
    @inline(__always)
    public static func encode(_ op: BatchOp, into w: inout ByteWriter) {
        w.append(count: Frame.batchOpSize) { p in store(op, into: p, at: 0) }
    }

    /// Writes one 32-byte batch operation at `offset` of zeroed bytes (padding stays zero).
    @inline(__always)
    // SAFETY: see checkZero.
    static func store(_ op: BatchOp, into p: UnsafeMutableRawBufferPointer, at offset: Int) {
        p[offset] = op.kind.rawValue
        p[offset + 1] = op.width.rawValue
        p.storeBytes(of: op.address.littleEndian, toByteOffset: offset + 8, as: UInt64.self)
        p.storeBytes(of: op.mask.littleEndian, toByteOffset: offset + 16, as: UInt64.self)
        p.storeBytes(of: op.value.littleEndian, toByteOffset: offset + 24, as: UInt64.self)
    }

    // MARK: Responses

    /// Encodes an error response: the status and the message as UTF-8; with `details` (protocol
    /// version 3 and later) a zero byte and the error's typed details follow (section 7.1).
    public static func encodeError(_ error: IOGateError, opcode: UInt8, id: UInt32, details: Bool = false, into w: inout ByteWriter) {
        w.beginFrame(FrameHeader(opcode: opcode, flags: Frame.responseFlag, status: error.code.rawValue, id: id))
        // A zero byte would end the message early for a version 3 reader; messages have none, but
        // an error can quote what a client sent. With details, the message leaves them room.
        let detailed = details && !error.details.isEmpty
        let room = Frame.handshakeLimit - 64 - (detailed ? 1 + ErrorDetailsCodec.limit : 0)
        w.bytes.append(contentsOf: error.message.utf8.prefix(room).map { $0 == 0 ? 0x20 : $0 })
        if detailed {
            w.u8(0)
            ErrorDetailsCodec.append(error.details, to: &w.bytes)
        }
        w.endFrame()
    }

    /// Begins a successful response; append the body, then call `w.endFrame()`.
    @inline(__always)
    public static func beginResponse(opcode: UInt8, id: UInt32, into w: inout ByteWriter) {
        w.beginFrame(FrameHeader(opcode: opcode, flags: Frame.responseFlag, id: id))
    }

    /// Appends the body of a hello response.
    public static func encode(_ hello: ServerHello, into w: inout ByteWriter) {
        w.u16(hello.version)
        w.u16(0)
        w.u32(hello.maxFrame)
        w.u32(hello.maxBatch)
        w.u32(hello.maxBlock)
    }

    /// The opcodes of versions 1 and 2, as an unknown opcode's message lists them (the same text
    /// in every version, so a version 2 session's answers stay byte for byte what they were).
    public static let versionTwoOpcodes = Opcode.allCases.filter { $0.sinceVersion <= 2 }.map { hex(UInt64($0.rawValue)) }.joined(
        separator: ", ")

    /// Appends the body of a windows response.
    public static func encode(_ windows: [WindowInfo], into w: inout ByteWriter) {
        w.u32(UInt32(windows.count))
        for win in windows { encodeWindowEntry(win, into: &w) }
    }

    /// Appends the body of a grants response (version 3): each windows entry, then its scope
    /// (`u8`: 0 whole, 1 pins, 2 bits), then for pins a `u16` count and the `u16` pin numbers, for
    /// bits the `u32` mask.
    public static func encode(_ grants: [GrantInfo], into w: inout ByteWriter) {
        w.u32(UInt32(grants.count))
        for g in grants {
            encodeWindowEntry(g.window, into: &w)
            if let bits = g.bits {
                w.u8(2)
                w.u32(bits)
            } else if !g.pins.isEmpty {
                w.u8(1)
                w.u16(UInt16(clamping: g.pins.count))
                for p in g.pins.prefix(Int(UInt16.max)) { w.u16(p) }
            } else {
                w.u8(0)
            }
        }
    }

    static func encodeWindowEntry(_ win: WindowInfo, into w: inout ByteWriter) {
        let name = Array(win.name.utf8.prefix(255))
        let model = Array(win.model.utf8.prefix(255))
        w.u64(win.base)
        w.u64(win.length)
        w.u8(win.access == .rw ? 1 : 0)
        w.u8(UInt8(name.count))
        w.bytes.append(contentsOf: name)
        w.u8(UInt8(model.count))
        w.bytes.append(contentsOf: model)
        w.u16(win.pins)
    }

    /// Turns an error response's status and body into the daemon's error: the message, and the
    /// typed details after a zero byte when the daemon sent them (version 3).
    // SAFETY: `body` is copied into an array at once.
    public static func decodeError(status: UInt16, body: UnsafeRawBufferPointer) -> IOGateError {
        let bytes = Array(body)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        let details = end < bytes.count ? ErrorDetailsCodec.decode(bytes[(end + 1)...]) : IOGateError.Details()
        return IOGateError(IOGateError.Code(rawValue: status), String(decoding: bytes[..<end], as: UTF8.self), details: details)
    }

    public static func decodeHello(_ r: inout ByteReader) throws(IOGateError) -> ServerHello {
        let v = try r.u16("version")
        _ = try r.u16("reserved")
        return ServerHello(version: v, maxFrame: try r.u32("max frame"), maxBatch: try r.u32("max batch"), maxBlock: try r.u32("max block"))
    }

    public static func decodeWindows(_ r: inout ByteReader) throws(IOGateError) -> [WindowInfo] {
        let n = try r.u32("window count")
        guard Int(n) <= r.remaining / 21 else { throw IOGateError(.malformed, "window count \(n) is larger than the frame can hold") }
        var out: [WindowInfo] = []
        for _ in 0..<n { out.append(try decodeWindowEntry(&r)) }
        return out
    }

    /// Decodes a grants response body (version 3).
    public static func decodeGrants(_ r: inout ByteReader) throws(IOGateError) -> [GrantInfo] {
        let n = try r.u32("grant count")
        guard Int(n) <= r.remaining / 22 else { throw IOGateError(.malformed, "grant count \(n) is larger than the frame can hold") }
        var out: [GrantInfo] = []
        for _ in 0..<n {
            let window = try decodeWindowEntry(&r)
            switch try r.u8("grant scope") {
            case 0: out.append(GrantInfo(window: window))
            case 1:
                let count = Int(try r.u16("pin count"))
                var pins: [UInt16] = []
                for _ in 0..<count { pins.append(try r.u16("pin")) }
                out.append(GrantInfo(window: window, pins: pins))
            case 2: out.append(GrantInfo(window: window, bits: try r.u32("bits")))
            case let s: throw IOGateError(.malformed, "grant scope \(s) is not 0, 1 or 2")
            }
        }
        return out
    }

    static func decodeWindowEntry(_ r: inout ByteReader) throws(IOGateError) -> WindowInfo {
        let base = try r.u64("window base"), length = try r.u64("window length")
        let access: Access = try r.u8("window access") == 1 ? .rw : .ro
        let len = Int(try r.u8("name length"))
        let name = String(decoding: try r.bytes(len, "window name"), as: UTF8.self)
        let modelLength = Int(try r.u8("model length"))
        let model = String(decoding: try r.bytes(modelLength, "window model"), as: UTF8.self)
        let pins = try r.u16("pins")
        return WindowInfo(name: name, base: base, length: length, access: access, model: model, pins: pins)
    }
}
