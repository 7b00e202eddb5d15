import Glibc
import IOGateCore
import IOGateProtocol
import IOGateSystem

/// One connected client: reads frames, hands each request to its `ClientAccess`, and answers.
/// Runs on its own thread.
final class Session {
    let fd: Int32
    unowned let daemon: Daemon
    let executor: ClientAccess
    // The mutable state below is only ever touched by the session's own thread (`run`), so the
    // runtime's dynamic exclusivity checks on it are skipped: they were about 370 of the daemon's
    // 2,750 instructions per single read (callgrind, docs/PERFORMANCE.md).
    @exclusivity(unchecked) var helloDone = false
    /// The protocol version the last successful hello chose (0 before one).
    @exclusivity(unchecked) var version: UInt16 = 0
    @exclusivity(unchecked) var out = ByteWriter(capacity: 512)
    /// The operations of the current batch request; its storage is reused from batch to batch.
    @exclusivity(unchecked) var batchOps: [BatchOp] = []

    init(fd: Int32, client: ClientIdentity, daemon: Daemon) {
        self.fd = fd
        self.daemon = daemon
        executor = ClientAccess(daemon: daemon, client: client, command: Accounts.command(ofProcess: client.pid))
    }

    /// Serves frames until the client leaves, breaks the protocol's framing, or the daemon stops.
    func run() {
        let limits = daemon.limits
        // 4 KiB to start (every single request, the hello and a 500-read compact batch fit); a
        // larger frame grows it once. An idle client costs its touched pages, so small is cheaper
        // (issue 15: under 32 KiB per idle client).
        var buf = [UInt8](repeating: 0, count: 4096)
        var start = 0, end = 0
        loop: while true {
            // Fill until a whole frame is buffered; one recv usually brings it all.
            var need = Frame.prefixSize
            var length = 0
            while true {
                if end - start >= Frame.prefixSize {
                    // SAFETY: end - start >= 4 bytes are buffered at `start`, inside buf.
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
                        // SAFETY: start <= end <= buf.count, so both ranges lie in the buffer (copyMemory allows overlap).
                        buf.withUnsafeMutableBytes { p in p.baseAddress!.copyMemory(from: p.baseAddress! + start, byteCount: end - start) }
                        end -= start
                        start = 0
                    }
                    if need > buf.count { buf += [UInt8](repeating: 0, count: need - buf.count) }
                }
                // SAFETY: receive writes inside the buffer, from `end` (<= its count) on.
                let n = buf.withUnsafeMutableBytes { p in (try? Descriptor.receive(fd, into: p, at: end)) ?? -1 }
                if n <= 0 { break loop }  // closed, idle timeout, or shut down by stop()
                end += n
            }
            // SAFETY: the whole frame (start + need <= end <= buf.count) is handled inside this closure, and
            // nothing keeps a view of it afterwards.
            let keepGoing = buf.withUnsafeBytes { p in
                handle(UnsafeRawBufferPointer(rebasing: p[(start + Frame.prefixSize)..<(start + need)]))
            }
            start += need
            if start == end { start = 0; end = 0 }
            if !keepGoing { break }
            if buf.count > 1 << 20 && start == end { buf = [UInt8](repeating: 0, count: 4096) }
        }
    }

    @discardableResult
    func send(error: IOGateError, opcode: UInt8, id: UInt32) -> Bool {
        Codec.encodeError(error, opcode: opcode, id: id, details: version >= Frame.errorDetailsSince, into: &out)
        return flush()
    }

    @discardableResult
    func flush() -> Bool {
        // The request's trace lines are written (outside every window lock) before it is answered.
        daemon.accessLog.drainTrace()
        return writeAll(fd, out.bytes)
    }

    /// Handles one frame payload. Returns false to close the connection.
    // SAFETY: `payload` is valid for this call only (see run()); nothing here stores it.
    func handle(_ payload: UnsafeRawBufferPointer) -> Bool {
        if helloDone, let opcode = payload.first, opcode == Opcode.compactBatch.rawValue {
            return handleCompactBatch(payload)
        }
        let header: FrameHeader
        let request: Request
        var window: String?
        do {
            (header, request) = try Codec.decodeRequest(
                payload, limits: daemon.limits, batchOps: &batchOps, window: &window,
                windowRelative: helloDone && version >= Frame.windowRelativeSince)
        } catch {
            let h = try? Codec.header(payload)
            // Before the handshake, a bad frame means a peer that does not speak this protocol.
            return send(error: error, opcode: h?.opcode ?? 0, id: h?.id ?? 0) && helloDone
        }
        if case .hello(let lo, let hi) = request {
            // The highest version both sides speak.
            let chosen = min(hi, Frame.version)
            guard lo <= chosen && Frame.minVersion <= chosen else {
                send(
                    error: IOGateError(
                        .unsupportedVersion,
                        "client speaks versions \(lo)...\(hi); this daemon speaks versions \(Frame.minVersion)...\(Frame.version)"),
                    opcode: header.opcode, id: header.id)
                return false
            }
            helloDone = true
            version = chosen
            Codec.beginResponse(opcode: header.opcode, id: header.id, into: &out)
            Codec.encode(
                ServerHello(
                    version: chosen, maxFrame: UInt32(daemon.limits.maxFrame),
                    maxBatch: UInt32(daemon.limits.maxBatch), maxBlock: UInt32(daemon.limits.maxBlock)), into: &out)
            out.endFrame()
            return flush()
        }
        guard helloDone else {
            send(error: IOGateError(.badState, "the first request must be a hello (opcode 0x01)"), opcode: header.opcode, id: header.id)
            return false
        }
        executor.refreshIfPolicyChanged()
        do throws(IOGateError) {
            if let window {
                try execute(try relocated(request, window: window), opcode: header.opcode, id: header.id)
            } else {
                try execute(request, opcode: header.opcode, id: header.id)
            }
            // A replay divergence met by this request's accesses fails it (docs/TRACE.md).
            if let diverged = daemon.replay?.takeFailure() { throw diverged }
        } catch {
            // A request that failed otherwise (a wait that timed out polling a diverged replay)
            // reports the divergence, which says more.
            let error = daemon.replay?.takeFailure() ?? error
            daemon.auditRefusal(error, executor)
            return send(error: error, opcode: header.opcode, id: header.id)
        }
        return flush()
    }

    /// Handles a compact batch after the hello: decoded, checked whole and run straight from the
    /// receive buffer, its results written straight into the response. Returns false to close.
    // SAFETY: as handle(_:): the batch view is validated, run and answered before this returns.
    func handleCompactBatch(_ payload: UnsafeRawBufferPointer) -> Bool {
        let opcode = Opcode.compactBatch.rawValue
        let id = payload.count >= Frame.headerSize ? UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) : 0
        guard version >= Opcode.compactBatch.sinceVersion else {
            let message =
                "opcode 0x21 (compact batch) needs protocol version \(Opcode.compactBatch.sinceVersion); this connection's hello chose version \(version)"
            return send(error: IOGateError(.unknownOperation, message), opcode: opcode, id: id)
        }
        let batch: CompactBatchView
        do {
            executor.refreshIfPolicyChanged()
            batch = try executor.decodeAndValidate(payload, limits: daemon.limits).1
        } catch {
            daemon.auditRefusal(error, executor)
            return send(error: error, opcode: opcode, id: id)
        }
        Codec.beginResponse(opcode: opcode, id: id, into: &out)
        out.u32(UInt32(batch.count))
        out.u32(0)
        var refused: IOGateError?
        out.append(count: batch.resultBytes) { p in
            var results = CompactResultWriter(p)
            refused = executor.runValidatedBatch(batch, into: &results)
        }
        if let diverged = daemon.replay?.takeFailure() { refused = diverged }
        out.endFrame()
        if let error = refused {
            daemon.auditRefusal(error, executor)
            return send(error: error, opcode: opcode, id: id)
        }
        return flush()
    }

    /// A window-relative request (version 3) with its offset turned into the physical address in
    /// the client's granted window of that name. Only the name is looked up here; the access is
    /// checked against the allowlist once, by the executor, like any other.
    func relocated(_ request: Request, window: String) throws(IOGateError) -> Request {
        switch request {
        case .read(let offset, let width, let count):
            return .read(address: try executor.resolve(window: window, offset: offset), width: width, count: count)
        case .write(let offset, let width, let values):
            return .write(address: try executor.resolve(window: window, offset: offset), width: width, values: values)
        case .modify(let offset, let width, let mask, let value):
            return .modify(address: try executor.resolve(window: window, offset: offset), width: width, mask: mask, value: value)
        case .wait(let offset, let width, let mask, let value, let timeout):
            return .wait(
                address: try executor.resolve(window: window, offset: offset), width: width, mask: mask, value: value,
                timeoutMilliseconds: timeout)
        default:  // the decoder allows the flag on these four only
            throw IOGateError(.malformed, "opcode \(hex(UInt64(request.opcode.rawValue))) cannot be window-relative")
        }
    }

    /// Runs a request through the executor and encodes its response into `out`.
    func execute(_ request: Request, opcode: UInt8, id: UInt32) throws(IOGateError) {
        switch request {
        case .hello, .compactBatch:
            // `handle` answers hellos itself and sends compact batches to `handleCompactBatch`.
            throw IOGateError(.badState, "opcode \(hex(UInt64(opcode))) is not handled here")
        case .windows:
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
            Codec.encode(executor.windows(), into: &out)
        case .grants:
            guard version >= Opcode.grants.sinceVersion else {
                // What a version 1 or 2 daemon answered: an unknown opcode.
                throw IOGateError(.unknownOperation, "unknown opcode \(hex(UInt64(opcode))); known: \(Codec.versionTwoOpcodes)")
            }
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
            Codec.encode(executor.grants(), into: &out)
        case .read(let address, let width, let count):
            // One allowlist check, in `read`; a refusal or bus fault replaces this response with an error.
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
            try executor.read(address, width, count: count) { out.value($0, width) }
        case .write(let address, let width, let values):
            try executor.write(address, width, values)
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
        case .modify(let address, let width, let mask, let value):
            let old = try executor.modify(address, width, mask: mask, value: value)
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
            out.u64(old)
        case .wait(let address, let width, let mask, let value, let timeout):
            let v = try executor.wait(address, width, mask: mask, value: value, timeoutMilliseconds: timeout)
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
            out.u64(v)
        case .batch:  // decoded into `batchOps`
            let ops = batchOps
            try executor.validate(ops)
            Codec.beginResponse(opcode: opcode, id: id, into: &out)
            out.u32(UInt32(ops.count))
            out.u32(0)
            var refused: IOGateError?
            out.append(count: ops.count * 8) { p in
                var offset = 0
                refused = executor.runValidatedBatch(ops) { v in
                    p.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt64.self)
                    offset += 8
                }
            }
            if let refused { throw refused }
        }
        out.endFrame()
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
