import Glibc
import IOGateCore
import IOGateProtocol

/// One connected client: reads frames, checks each operation against the client's allowlist,
/// runs it under the window's lock, and answers. Runs on its own thread.
final class Session {
    let fd: Int32
    let client: ClientIdentity
    let command: String
    unowned let daemon: Daemon
    var allowlist: Allowlist
    /// For each allowlist entry, the served window that holds it.
    var entryWindows: [ServedWindow]
    var generation: Int
    var helloDone = false
    var out = ByteWriter(capacity: 4096)
    var results: [UInt64] = []
    var batchWindows: [ServedWindow] = []

    init(fd: Int32, client: ClientIdentity, daemon: Daemon) {
        self.fd = fd
        self.client = client
        self.daemon = daemon
        self.command = Accounts.command(ofProcess: client.pid)
        (allowlist, entryWindows, generation) = daemon.allowlist(for: client)
    }

    /// Serves frames until the client leaves, breaks the protocol's framing, or the daemon stops.
    func run() {
        let limits = daemon.limits
        var buf = [UInt8](repeating: 0, count: 16384)
        var start = 0, end = 0
        loop: while true {
            // Fill until a whole frame is buffered; one recv usually brings it all.
            var need = Frame.prefixSize
            var length = 0
            while true {
                if end - start >= Frame.prefixSize {
                    let raw = buf.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: start, as: UInt32.self)) }
                    do { try Codec.checkLength(raw, limit: helloDone ? limits.maxFrame : Frame.handshakeLimit) } catch {
                        // The stream cannot be resynchronized after a bad length: answer and close.
                        send(error: error, opcode: 0, id: 0)
                        break loop
                    }
                    length = Int(raw)
                    need = Frame.prefixSize + length
                }
                if end - start >= need && length > 0 { break }
                if need > buf.count - start {
                    if start > 0 {
                        buf.withUnsafeMutableBytes { p in p.baseAddress!.copyMemory(from: p.baseAddress! + start, byteCount: end - start) }
                        end -= start
                        start = 0
                    }
                    if need > buf.count { buf += [UInt8](repeating: 0, count: need - buf.count) }
                }
                let n = buf.withUnsafeMutableBytes { p in recv(fd, p.baseAddress! + end, p.count - end, 0) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break loop }  // closed, idle timeout, or shut down by stop()
                end += n
            }
            let keepGoing = buf.withUnsafeBytes { p in
                handle(UnsafeRawBufferPointer(rebasing: p[(start + Frame.prefixSize)..<(start + need)]))
            }
            start += need
            if start == end { start = 0; end = 0 }
            if !keepGoing { break }
            if buf.count > 1 << 20 && start == end { buf = [UInt8](repeating: 0, count: 16384) }
        }
    }

    func send(error: IOGateError, opcode: UInt8, id: UInt32) {
        Codec.encodeError(error, opcode: opcode, id: id, into: &out)
        flush()
    }

    @discardableResult
    func flush() -> Bool { out.bytes.withUnsafeBytes { writeAll(fd, $0) } }

    /// Handles one frame payload. Returns false to close the connection.
    func handle(_ payload: UnsafeRawBufferPointer) -> Bool {
        let header: FrameHeader
        let request: Request
        do {
            (header, request) = try Codec.decodeRequest(payload, limits: daemon.limits)
        } catch {
            let h = try? Codec.header(payload)
            send(error: error, opcode: h?.opcode ?? 0, id: h?.id ?? 0)
            // Before the handshake, a bad frame means a peer that does not speak this protocol.
            return helloDone
        }
        if case .hello(let lo, let hi) = request {
            guard lo <= Frame.version && Frame.version <= hi else {
                send(error: IOGateError(.unsupportedVersion, "client speaks versions \(lo)...\(hi); this daemon speaks version \(Frame.version)"), opcode: header.opcode, id: header.id)
                return false
            }
            helloDone = true
            Codec.beginResponse(opcode: header.opcode, id: header.id, into: &out)
            Codec.encode(ServerHello(version: Frame.version, maxFrame: UInt32(daemon.limits.maxFrame),
                                     maxBatch: UInt32(daemon.limits.maxBatch), maxBlock: UInt32(daemon.limits.maxBlock)), into: &out)
            out.endFrame()
            return flush()
        }
        guard helloDone else {
            send(error: IOGateError(.badState, "the first request must be a hello (opcode 0x01)"), opcode: header.opcode, id: header.id)
            return false
        }
        if daemon.generation.load(ordering: .relaxed) != generation {
            (allowlist, entryWindows, generation) = daemon.allowlist(for: client)
        }
        do {
            try execute(request, opcode: header.opcode, id: header.id)
        } catch {
            send(error: error, opcode: header.opcode, id: header.id)
            return true
        }
        return flush()
    }

    /// Runs a checked request and encodes its response into `out`.
    func execute(_ request: Request, opcode: UInt8, id: UInt32) throws(IOGateError) {
        switch request {
        case .hello:
            break
        case .windows:
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
            Codec.encode(allowlist.entries.map { e in
                let w = e.window.flatMap { daemon.board?.window(named: $0) }
                return WindowInfo(name: e.window ?? "", base: e.range.base, length: e.range.length, access: e.access,
                                  model: w?.model?.rawValue ?? "", pins: UInt16(clamping: w?.pins ?? 0))
            }, into: &out)
        case .read(let address, let width, let count):
            let window = entryWindows[try allowlist.check(address, width: width, count: UInt64(count), write: false)]
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
            let step = UInt64(width.rawValue)
            window.lock.lock()
            for i in 0..<UInt64(count) {
                let a = address &+ i &* step
                let v = window.space.load(a, width)
                out.value(v, width)
                daemon.observe(write: false, window, a, width, v, self)
            }
            window.lock.unlock()
        case .write(let address, let width, let values):
            let window = entryWindows[try allowlist.check(address, width: width, count: UInt64(values.count), write: true)]
            let step = UInt64(width.rawValue)
            window.lock.lock()
            for (i, v) in values.enumerated() {
                let a = address &+ UInt64(i) &* step
                window.space.store(a, width, v)
                daemon.observe(write: true, window, a, width, v, self)
            }
            window.lock.unlock()
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
        case .modify(let address, let width, let mask, let value):
            let window = entryWindows[try allowlist.check(address, width: width, write: true)]
            window.lock.lock()
            let old = modify(window, address, width, mask, value)
            window.lock.unlock()
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
            out.u64(old)
        case .wait(let address, let width, let mask, let value, let timeout):
            let window = entryWindows[try allowlist.check(address, width: width, write: false)]
            let v = try waitUntil(window, address, width, mask, value, timeoutMilliseconds: timeout)
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
            out.u64(v)
        case .batch(let ops):
            try runBatch(ops, opcode: opcode, id: id)
        }
        out.endFrame()
    }

    @inline(__always)
    func modify(_ window: ServedWindow, _ address: UInt64, _ width: AccessWidth, _ mask: UInt64, _ value: UInt64) -> UInt64 {
        let old = window.space.load(address, width)
        daemon.observe(write: false, window, address, width, old, self)
        let new = (old & ~mask) | (value & mask)
        window.space.store(address, width, new)
        daemon.observe(write: true, window, address, width, new, self)
        return old
    }

    /// Polls `(reg & mask) == value` in the daemon, backing off from 10 us to 1 ms between polls.
    func waitUntil(_ window: ServedWindow, _ address: UInt64, _ width: AccessWidth, _ mask: UInt64, _ value: UInt64,
                   timeoutMilliseconds: UInt32) throws(IOGateError) -> UInt64 {
        let deadline = monotonicNanoseconds() + UInt64(timeoutMilliseconds) * 1_000_000
        var pause: UInt32 = 10
        while true {
            window.lock.lock()
            let v = window.space.load(address, width)
            window.lock.unlock()
            if v & mask == value {
                daemon.observe(write: false, window, address, width, v, self)
                return v
            }
            if monotonicNanoseconds() >= deadline {
                throw IOGateError(.timeout, "wait at \(hex(address)): (value & \(hex(mask))) did not become \(hex(value)) within \(timeoutMilliseconds) ms; last value \(hex(v, digits: width.hexDigits))")
            }
            usleep(pause)
            pause = min(pause * 2, 1000)
        }
    }

    /// Validates every operation, then runs them all holding each touched window's lock.
    func runBatch(_ ops: [BatchOp], opcode: UInt8, id: UInt32) throws(IOGateError) {
        batchWindows.removeAll(keepingCapacity: true)
        var opWindows: [ServedWindow] = []
        opWindows.reserveCapacity(ops.count)
        for (i, op) in ops.enumerated() {
            let entry: Int
            do { entry = try allowlist.check(op.address, width: op.width, write: op.kind != .read) } catch {
                throw IOGateError(error.code, "batch operation #\(i) refused, nothing was run: \(error.message)")
            }
            let w = entryWindows[entry]
            opWindows.append(w)
            if !batchWindows.contains(where: { $0 === w }) { batchWindows.append(w) }
        }
        batchWindows.sort { $0.index < $1.index }
        for w in batchWindows { w.lock.lock() }
        Codec.beginResponse(opcode: opcode, id: id, into: &out)
        out.u32(UInt32(ops.count))
        out.u32(0)
        for (op, w) in zip(ops, opWindows) {
            switch op.kind {
            case .read:
                let v = w.space.load(op.address, op.width)
                daemon.observe(write: false, w, op.address, op.width, v, self)
                out.u64(v)
            case .write:
                w.space.store(op.address, op.width, op.value)
                daemon.observe(write: true, w, op.address, op.width, op.value, self)
                out.u64(0)
            case .modify:
                out.u64(modify(w, op.address, op.width, op.mask, op.value))
            }
        }
        for w in batchWindows.reversed() { w.lock.unlock() }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
