import Glibc
@_exported import IOGateCore
@_exported import IOGateProtocol
import IOGateSystem

/// A connection to `iogated`. Blocking and synchronous: each call is one round trip.
///
/// ```swift
/// let gate = try IOGateClient(socketPath: IOGateClient.defaultSocketPath)
/// let lev = try gate.read(0xFE200034)
/// try gate.modify(0xFE200004, mask: 0b111 << 21, value: 0b001 << 21)   // GPIO17 output
/// ```
/// Not thread-safe: use one client per thread (connections are cheap).
public final class IOGateClient {
    /// `$IOGATE_SOCKET`, else `/run/iogate/iogate.sock`.
    public static var defaultSocketPath: String {
        getenv("IOGATE_SOCKET").map { String(cString: $0) } ?? "/run/iogate/iogate.sock"
    }

    let fd: Int32
    var nextID: UInt32 = 1
    var out = ByteWriter(capacity: 256)
    var inBuf = [UInt8](repeating: 0, count: 4096)
    /// Bytes received past the last response (`inBuf[inStart..<inEnd]`); normally none.
    var inStart = 0, inEnd = 0
    /// Limits the daemon announced in its hello.
    public private(set) var serverHello: ServerHello
    var cachedWindows: [WindowInfo]?

    /// Connects and performs the version handshake, offering protocol versions
    /// `Frame.minVersion ... maxVersion` (the daemon picks the highest it speaks too). With
    /// version 2, `batch` sends compact batches; `maxVersion: 1` speaks exactly version 1.
    public convenience init(socketPath: String = IOGateClient.defaultSocketPath, maxVersion: UInt16 = Frame.version) throws(IOGateError) {
        try self.init(socketPath: socketPath, maxVersion: maxVersion, pipelining: nil)
    }

    /// Connects and sends the hello; with `pipelining`, that request goes out in the same write,
    /// right behind the hello (the daemon answers frames in order), and its response waits in
    /// the buffer for `receiveResponse(id:opcode:)` with id 2: a one-shot command costs one round trip.
    init(socketPath: String, maxVersion: UInt16, pipelining: (request: Request, window: String?)?) throws(IOGateError) {
        let address: UnixSocketAddress
        do throws(UnixSocketAddress.PathTooLong) { address = try UnixSocketAddress(socketPath) } catch {
            throw IOGateError(.unreachable, "socket path \(socketPath) is too long for a Unix socket")
        }
        let fd: Int32
        do throws(Errno) { fd = try openUnixStreamSocket() } catch {
            throw IOGateError(.unreachable, "socket(): \(error.message)", details: .init(errno: error.code, call: error.call))
        }
        do throws(Errno) { try address.connect(fd) } catch {
            Descriptor.close(fd)
            let hint =
                error.code == ENOENT
                ? " (is iogated running? set --socket or IOGATE_SOCKET)"
                : error.code == EACCES ? " (no permission on the socket; are you in its group?)" : ""
            throw IOGateError(
                .unreachable, "cannot connect to \(socketPath): \(error.message)\(hint)",
                details: .init(errno: error.code, call: "connect \(socketPath)"))
        }
        self.fd = fd
        self.serverHello = ServerHello(version: 0, maxFrame: UInt32(Frame.handshakeLimit), maxBatch: 0, maxBlock: 0)
        let hello = Request.hello(minVersion: Frame.minVersion, maxVersion: max(Frame.minVersion, maxVersion))
        var body: ResponseBody
        if let (request, window) = pipelining {
            var second = ByteWriter(capacity: 64)
            Codec.encode(request, id: 2, window: window, into: &second)
            Codec.encode(hello, id: 1, into: &out)
            out.bytes += second.bytes
            nextID = 3
            try send()
            body = try receiveResponse(id: 1, opcode: Opcode.hello.rawValue)
        } else {
            body = try roundTrip(hello)
        }
        serverHello = try body.withReader { r throws(IOGateError) in try Codec.decodeHello(&r) }
    }

    /// Connects and reads one register at `expression` (`0xADDR` or `WINDOW+OFFSET`) with the
    /// hello and the read in one write: one round trip, what `iogate read` does. A `WINDOW+OFFSET`
    /// read is window-relative (protocol version 3); a daemon that speaks only version 2 refuses
    /// that request, and the read is made again after the windows list.
    public static func connectAndRead(
        socketPath: String = IOGateClient.defaultSocketPath, _ expression: AddressExpression, width: AccessWidth = .word
    ) throws(IOGateError) -> UInt64 {
        let request: (Request, String?)
        switch expression {
        case .physical(let a): request = (.read(address: a, width: width, count: 1), nil)
        case .window(let name, let offset): request = (.read(address: offset, width: width, count: 1), name)
        }
        let gate = try IOGateClient(socketPath: socketPath, maxVersion: Frame.version, pipelining: request)
        if request.1 != nil && gate.serverHello.version < Frame.windowRelativeSince {
            // An older daemon answers the flagged read with an error; drain it, then resolve and read.
            _ = try? gate.receiveResponse(id: 2, opcode: Opcode.read.rawValue)
            return try gate.read(try gate.resolve(expression), width: width)
        }
        var body = try gate.receiveResponse(id: 2, opcode: Opcode.read.rawValue)
        return try body.withReader { r throws(IOGateError) in try r.value(width, "read value") }
    }

    deinit { close(fd) }

    /// The largest response the daemon can send: a full block read or batch can exceed `maxFrame`.
    var responseLimit: Int {
        let h = serverHello
        return max(Int(h.maxFrame), 8 * Int(h.maxBlock) + 64, 8 * Int(h.maxBatch) + 64, Frame.handshakeLimit) + Frame.handshakeLimit
    }

    /// The ranges this client may use, as the daemon's policy grants them.
    public func windows() throws(IOGateError) -> [WindowInfo] {
        var body = try roundTrip(.windows)
        let w = try body.withReader { r throws(IOGateError) in try Codec.decodeWindows(&r) }
        cachedWindows = w
        return w
    }

    /// The windows with what of each is granted (whole, pins, bits): protocol version 3. From an
    /// older daemon, every window counts as whole.
    public func grants() throws(IOGateError) -> [GrantInfo] {
        guard serverHello.version >= Opcode.grants.sinceVersion else { return try windows().map { GrantInfo(window: $0) } }
        var body = try roundTrip(.grants)
        return try body.withReader { r throws(IOGateError) in try Codec.decodeGrants(&r) }
    }

    /// Resolves `0xADDR` or `WINDOW+OFFSET` to a physical address using the granted windows.
    public func resolve(_ expression: AddressExpression) throws(IOGateError) -> UInt64 {
        switch expression {
        case .physical(let a):
            return a
        case .window(let name, let offset):
            let ws: [WindowInfo]
            if let c = cachedWindows { ws = c } else { ws = try windows() }
            guard let w = ws.first(where: { $0.name == name }) else {
                let names = ws.map(\.name).filter { !$0.isEmpty }
                throw IOGateError(
                    .notFound,
                    "no window named '\(name)' is granted to you; your windows: \(names.isEmpty ? "none with names" : names.joined(separator: ", "))"
                )
            }
            guard offset < w.length else {
                throw IOGateError(.outsideAllowlist, "offset \(hex(offset)) is past the end of window '\(name)' (length \(hex(w.length)))")
            }
            return w.base + offset
        }
    }

    /// Reads `count` registers at `offset` bytes into the granted window `window`, in one round
    /// trip with a version 3 daemon (a window-relative request: the daemon resolves the name);
    /// with an older one, through the windows list (`resolve`).
    public func read(window: String, offset: UInt64, width: AccessWidth = .word, count: Int = 1) throws(IOGateError) -> [UInt64] {
        guard serverHello.version >= Frame.windowRelativeSince, let n = UInt32(exactly: count), count >= 1,
            count <= Int(serverHello.maxBlock), window.utf8.count <= 255
        else {
            return try readBlocks(try resolve(.window(name: window, offset: offset)), width: width, count: count)
        }
        var body = try roundTrip(.read(address: offset, width: width, count: n), window: window)
        return try body.withReader { r throws(IOGateError) in
            var values: [UInt64] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try r.value(width, "read value")) }
            return values
        }
    }

    /// Reads one register.
    public func read(_ address: UInt64, width: AccessWidth = .word) throws(IOGateError) -> UInt64 {
        var body = try roundTrip(.read(address: address, width: width, count: 1))
        return try body.withReader { r throws(IOGateError) in try r.value(width, "read value") }
    }

    /// Reads `count` consecutive registers of `width` (a block read: one round trip).
    public func read(_ address: UInt64, width: AccessWidth = .word, count: Int) throws(IOGateError) -> [UInt64] {
        guard count >= 1, let n = UInt32(exactly: count) else { throw IOGateError(.limitExceeded, "count \(count) must be at least 1") }
        var body = try roundTrip(.read(address: address, width: width, count: n))
        return try body.withReader { r throws(IOGateError) in
            var values: [UInt64] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try r.value(width, "read value")) }
            return values
        }
    }

    /// Reads any number of consecutive registers, in as many block reads of the daemon's
    /// `maxBlock` as it takes (each block is one round trip and atomic on its own, not the whole).
    public func readBlocks(_ address: UInt64, width: AccessWidth = .word, count: Int) throws(IOGateError) -> [UInt64] {
        let step = max(1, Int(serverHello.maxBlock))
        var values: [UInt64] = []
        values.reserveCapacity(count)
        while values.count < count {
            let next = address &+ UInt64(values.count * width.bytes)
            values += try read(next, width: width, count: min(step, count - values.count))
        }
        return values
    }

    /// Writes one register.
    public func write(_ address: UInt64, _ value: UInt64, width: AccessWidth = .word) throws(IOGateError) {
        try write(address, [value], width: width)
    }

    /// Writes consecutive registers (a block write: one round trip).
    public func write(_ address: UInt64, _ values: [UInt64], width: AccessWidth = .word) throws(IOGateError) {
        for v in values { try width.check(v, field: "value") }
        _ = try roundTrip(.write(address: address, width: width, values: values))
    }

    /// Atomically sets the bits of `mask` to those of `value`; returns the old register value.
    @discardableResult
    public func modify(_ address: UInt64, mask: UInt64, value: UInt64, width: AccessWidth = .word) throws(IOGateError) -> UInt64 {
        try width.check(mask, field: "mask")
        try width.check(value, field: "value")
        var body = try roundTrip(.modify(address: address, width: width, mask: mask, value: value))
        return try body.withReader { r throws(IOGateError) in try r.u64("old value") }
    }

    /// Waits, in the daemon, until `(register & mask) == value`; returns the value seen.
    /// Throws `.timeout` when it does not happen within `timeoutMilliseconds`.
    @discardableResult
    public func wait(
        _ address: UInt64, mask: UInt64, value: UInt64, width: AccessWidth = .word,
        timeoutMilliseconds: UInt32 = 1000
    ) throws(IOGateError) -> UInt64 {
        try width.check(mask, field: "mask")
        try width.check(value, field: "value")
        var body = try roundTrip(.wait(address: address, width: width, mask: mask, value: value, timeoutMilliseconds: timeoutMilliseconds))
        return try body.withReader { r throws(IOGateError) in try r.u64("value") }
    }

    /// Runs a batch: all operations are checked first, and if any is refused none runs.
    /// Returns one result per operation (read: the value; write: 0; modify: the old value).
    ///
    /// With a daemon that speaks protocol version 2 the batch goes out as a compact batch (8 bytes
    /// per read instead of 32) when every address lies within 4 GiB of the lowest one; otherwise,
    /// and with a version 1 daemon, as a version 1 batch. Either way the daemon does the same.
    public func batch(_ ops: [BatchOp]) throws(IOGateError) -> [UInt64] {
        if serverHello.version >= Opcode.compactBatch.sinceVersion, let first = ops.first {
            var low = first.address, high = first.address
            var other: UInt8 = 0  // non-zero when some operation is not a 32-bit read
            // SAFETY: the array's own storage, read in bounds (0..<ops.count) during the call.
            ops.withUnsafeBufferPointer { ops in
                for op in ops {
                    low = min(low, op.address)
                    high = max(high, op.address)
                    other |= (op.kind.rawValue ^ BatchKind.read.rawValue) | (op.width.rawValue ^ AccessWidth.word.rawValue)
                }
            }
            if high - low <= UInt64(UInt32.max) && other == 0 {
                // The common batch, 32-bit reads only: encoded and decoded in one tight pass each.
                let id = nextID
                nextID &+= 1
                Codec.encodeCompactWordReads(ops, base: low, id: id, into: &out)
                guard out.bytes.count - Frame.prefixSize <= Int(serverHello.maxFrame) else {
                    throw IOGateError(
                        .limitExceeded, "request of \(out.bytes.count) bytes exceeds the daemon's frame limit of \(serverHello.maxFrame)")
                }
                try send()
                var body = try receiveResponse(id: id, opcode: Opcode.compactBatch.rawValue)
                return try body.withReader { r throws(IOGateError) in try Codec.decodeCompactWordResults(&r, count: ops.count) }
            }
            if high - low <= UInt64(UInt32.max) {
                var body = try roundTrip(.compactBatch(base: low, ops: ops))
                return try body.withReader { r throws(IOGateError) in try Codec.decodeCompactBatchResults(&r, ops: ops) }
            }
        }
        var body = try roundTrip(.batch(ops))
        return try body.withReader { r throws(IOGateError) in
            let n = Int(try r.u32("batch count"))
            _ = try r.u32("reserved")
            guard n == ops.count else { throw IOGateError(.malformed, "batch response has \(n) results for \(ops.count) operations") }
            guard r.remaining >= n * 8 else {
                throw IOGateError(.malformed, "frame ends before the batch results: needs \(n * 8) bytes, has \(r.remaining)")
            }
            let p = r.bytes, start = r.position
            try r.skip(n * 8, "batch results")
            return [UInt64](unsafeUninitializedCapacity: n) { out, initialized in
                for i in 0..<n { out[i] = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: start + i * 8, as: UInt64.self)) }
                initialized = n
            }
        }
    }

    /// Builds a batch fluently and runs it.
    public func batch(_ build: (inout BatchBuilder) -> Void) throws(IOGateError) -> [UInt64] {
        var b = BatchBuilder()
        build(&b)
        return try batch(b.ops)
    }

    // MARK: Transport

    /// Sends a request and returns the response body (after the header), or the daemon's error.
    func roundTrip(_ request: Request, window: String? = nil) throws(IOGateError) -> ResponseBody {
        let id = nextID
        nextID &+= 1
        Codec.encode(request, id: id, window: window, into: &out)
        guard out.bytes.count - Frame.prefixSize <= Int(serverHello.maxFrame) else {
            throw IOGateError(
                .limitExceeded, "request of \(out.bytes.count) bytes exceeds the daemon's frame limit of \(serverHello.maxFrame)")
        }
        try send()
        return try receiveResponse(id: id, opcode: request.opcode.rawValue)
    }

    /// Sends `out` whole. A send failure is reported as the daemon's error frame when one is
    /// already in the receive buffer (it may have answered and closed first: too many clients, a
    /// refused hello), kept for `receiveResponse`.
    func send() throws(IOGateError) {
        // SAFETY: the request buffer's own storage, sent during the call.
        let sendFailure: Errno? = out.bytes.withUnsafeBytes { p in
            do throws(Errno) {
                try Descriptor.sendAll(fd, p)
                return nil
            } catch { return error }
        }
        if let sendFailure {
            // The daemon may have answered and closed first (too many clients, a refused hello):
            // its error frame is still in our receive buffer and says why, so prefer it.
            guard let l = try? receiveFrame() else {
                throw IOGateError(.unreachable, "lost the connection to iogated while sending: \(sendFailure.message)")
            }
            pendingLength = l
        }
    }

    /// A frame `send` received early (see there), or nil.
    var pendingLength: Int?

    /// Receives the response to request `id` with `opcode`: its body, or the daemon's error.
    func receiveResponse(id: UInt32, opcode: UInt8) throws(IOGateError) -> ResponseBody {
        let length: Int
        if let l = pendingLength {
            length = l
            pendingLength = nil
        } else {
            length = try receiveFrame()
        }
        let payload = Frame.prefixSize..<(Frame.prefixSize + length)
        // SAFETY: `payload` and `body` lie inside inBuf (receiveFrame checked the length against it); the
        // views are used only inside these closures.
        let header = try typedThrows { try inBuf.withUnsafeBytes { try Codec.header(UnsafeRawBufferPointer(rebasing: $0[payload])) } }
        let body = (payload.lowerBound + Frame.headerSize)..<payload.upperBound
        if header.status != 0 {
            // SAFETY: as above; decodeError copies the body at once.
            throw inBuf.withUnsafeBytes { Codec.decodeError(status: header.status, body: UnsafeRawBufferPointer(rebasing: $0[body])) }
        }
        guard header.id == id, header.opcode == opcode else {
            throw IOGateError(.malformed, "response id \(header.id) / opcode \(header.opcode) does not match request \(id) / \(opcode)")
        }
        return ResponseBody(client: self, range: body)
    }

    /// Receives one whole frame into `inBuf[0..<4 + length]` and returns `length`. Reads as much
    /// as the socket has, so a response usually takes one `recv`; any bytes past the frame stay
    /// buffered for the next call.
    func receiveFrame() throws(IOGateError) -> Int {
        if inStart > 0 {
            let (s, e) = (inStart, inEnd)
            // SAFETY: s <= e <= inBuf.count, so both ranges lie in the buffer (copyMemory allows overlap).
            inBuf.withUnsafeMutableBytes { p in p.baseAddress!.copyMemory(from: p.baseAddress! + s, byteCount: e - s) }
            inEnd -= inStart
            inStart = 0
        }
        var length = -1
        while true {
            if length < 0 && inEnd >= Frame.prefixSize {
                // SAFETY: inEnd >= 4 bytes are buffered, so the length prefix lies inside inBuf.
                length = inBuf.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
                guard length >= Frame.headerSize, length <= responseLimit else {
                    throw IOGateError(.malformed, "daemon sent a frame of length \(length)")
                }
                if inBuf.count < Frame.prefixSize + length {
                    inBuf += [UInt8](repeating: 0, count: Frame.prefixSize + length - inBuf.count)
                }
            }
            if length >= 0 && inEnd >= Frame.prefixSize + length { break }
            let end = inEnd
            // SAFETY: receive writes inside the buffer, from `end` (<= its count) on.
            let n = inBuf.withUnsafeMutableBytes { p in (try? Descriptor.receive(fd, into: p, at: end)) ?? -1 }
            if n <= 0 { throw IOGateError(.unreachable, "iogated closed the connection") }
            inEnd += n
        }
        if inEnd > Frame.prefixSize + length {
            inStart = Frame.prefixSize + length
        } else {
            inEnd = 0
        }
        return length
    }
}

/// The body of the last response, read in place from the client's buffer.
struct ResponseBody {
    let client: IOGateClient
    let range: Range<Int>

    mutating func withReader<T>(_ body: (inout ByteReader) throws(IOGateError) -> T) throws(IOGateError) -> T {
        try typedThrows {
            // SAFETY: `range` lies inside inBuf; the reader lives only inside this closure.
            try client.inBuf.withUnsafeBytes { p in
                var r = ByteReader(UnsafeRawBufferPointer(rebasing: p[range]))
                return try body(&r)
            }
        }
    }
}

/// Collects batch operations.
public struct BatchBuilder {
    public private(set) var ops: [BatchOp] = []
    public init() {}
    public mutating func read(_ address: UInt64, width: AccessWidth = .word) { ops.append(.read(address, width: width)) }
    public mutating func write(_ address: UInt64, _ value: UInt64, width: AccessWidth = .word) {
        ops.append(.write(address, value, width: width))
    }
    public mutating func modify(_ address: UInt64, mask: UInt64, value: UInt64, width: AccessWidth = .word) {
        ops.append(.modify(address, mask: mask, value: value, width: width))
    }
}
