import IOGateCore
import IOGateProtocol
import Testing

// MARK: Helpers

/// SplitMix64: deterministic, so a failing generated case is reproducible.
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func width() -> AccessWidth { AccessWidth.allCases[below(4)] }
    mutating func value(_ w: AccessWidth) -> UInt64 { next() & w.maxValue }
}

/// The whole frame, length prefix included.
private func frame(_ request: Request, id: UInt32 = 7) -> [UInt8] {
    var w = ByteWriter()
    Codec.encode(request, id: id, into: &w)
    return w.bytes
}

/// The payload (what `decodeRequest` takes): the frame without its length prefix.
private func payload(_ request: Request, id: UInt32 = 7) -> [UInt8] { Array(frame(request, id: id).dropFirst(Frame.prefixSize)) }

private func decode(_ bytes: [UInt8], limits: Limits = Limits()) throws -> (FrameHeader, Request) {
    try bytes.withUnsafeBytes { try Codec.decodeRequest($0, limits: limits) }
}

/// Decodes and returns the error, recording an issue if decoding succeeded or threw something else.
private func decodeError(_ bytes: [UInt8], limits: Limits = Limits(), sourceLocation: SourceLocation = #_sourceLocation) -> IOGateError? {
    do {
        let (_, r) = try decode(bytes, limits: limits)
        Issue.record("decoded \(r) instead of failing", sourceLocation: sourceLocation)
    } catch let e as IOGateError {
        return e
    } catch {
        Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

private func expectDecodeError(
    _ code: IOGateError.Code, _ fragments: [String] = [], _ bytes: [UInt8], limits: Limits = Limits(),
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let e = decodeError(bytes, limits: limits, sourceLocation: sourceLocation) else { return }
    #expect(e.code == code, "\(e.code): \(e.message)", sourceLocation: sourceLocation)
    for f in fragments {
        #expect(e.message.contains(f), "expected '\(f)' in: \(e.message)", sourceLocation: sourceLocation)
    }
}

private func patched(_ bytes: [UInt8], _ changes: [Int: UInt8]) -> [UInt8] {
    var b = bytes
    for (i, v) in changes { b[i] = v }
    return b
}

private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
private func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

/// A request header with the given opcode (flags, status 0; id 7).
private func header(_ opcode: UInt8) -> [UInt8] { [opcode, 0, 0, 0] + le32(7) }

private func limits(maxBatch: Int = 4096, maxBlock: Int = 65536, maxWait: Int = 10_000) -> Limits {
    var l = Limits()
    l.maxBatch = maxBatch
    l.maxBlock = maxBlock
    l.maxWaitMilliseconds = maxWait
    return l
}

/// One small request of every kind and width: the truncation and tampering tests run over these.
private let sampleRequests: [Request] = [
    .hello(minVersion: 1, maxVersion: 1),
    .windows,
    .read(address: 0xFE20_0034, width: .word, count: 1),
    .read(address: 0x1F_000D_0004, width: .byte, count: 3),
    .write(address: 0xFE20_001C, width: .word, values: [1 << 17]),
    .write(address: 0xFE20_0000, width: .half, values: [0xFFFF, 0, 0x1234]),
    .write(address: 0x4000_0000, width: .byte, values: [0xFF]),
    .write(address: 0x4000_0000, width: .double, values: [.max, 0x0123_4567_89AB_CDEF]),
    .modify(address: 0xFE20_0004, width: .word, mask: 0b111 << 21, value: 0b001 << 21),
    .modify(address: 0x1000, width: .double, mask: .max, value: 0x8000_0000_0000_0000),
    .wait(address: 0xFE20_0034, width: .word, mask: 1 << 17, value: 0, timeoutMilliseconds: 250),
    .wait(address: 0x1001, width: .byte, mask: 0xFF, value: 0x80, timeoutMilliseconds: 0),
    .batch([.read(0xFE20_0034), .write(0xFE20_001C, 1 << 17), .modify(0xFE20_0004, mask: 0b111 << 21, value: 1 << 21)]),
    .batch([.read(0x1000, width: .byte), .write(0x1002, 0xFFFF, width: .half), .modify(0x1008, mask: .max, value: 1, width: .double)]),
    .compactBatch(
        base: 0xFE20_0000,
        ops: [.read(0xFE20_0034), .write(0xFE20_001C, 1 << 17), .modify(0xFE20_0004, mask: 0b111 << 21, value: 1 << 21)]),
    .compactBatch(
        base: 0x1000,
        ops: [.read(0x1000, width: .byte), .write(0x1002, 0xFFFF, width: .half), .modify(0x1008, mask: .max, value: 1, width: .double)]),
]

/// What `roundTrip` encodes and decodes: the samples and the extremes.
private let roundTripRequests: [Request] = {
    // One append per case: as one array literal, Swift 6.0.3 cannot type-check this in reasonable time.
    var cases = sampleRequests
    cases.append(.hello(minVersion: 0, maxVersion: .max))
    cases.append(.read(address: .max - 7, width: .double, count: 65536))
    cases.append(.read(address: 0, width: .half, count: 2))
    cases.append(.write(address: 0xFE20_0000, width: .word, values: (0..<65536).map { UInt64($0) * 0x10001 }))
    cases.append(.modify(address: 0x1000, width: .byte, mask: 0xFF, value: 0xFF))
    cases.append(.modify(address: 0x1000, width: .half, mask: 0xFFFF, value: 0))
    cases.append(.wait(address: 0x1000, width: .half, mask: 0xFFFF, value: 0xFFFF, timeoutMilliseconds: 10_000))
    cases.append(.wait(address: .max, width: .double, mask: .max, value: .max, timeoutMilliseconds: 1))
    cases.append(.batch((0..<4096).map { BatchOp.write(UInt64($0) * 4, UInt64($0)) }))
    cases.append(.batch([BatchOp(kind: .read, width: .double, address: .max, mask: .max, value: .max)]))
    cases.append(.compactBatch(base: 0x4000_0000, ops: (0..<4096).map { BatchOp.read(0x4000_0000 + UInt64($0 % 1024) * 4) }))
    cases.append(.compactBatch(base: 0, ops: (0..<4096).map { BatchOp.write(UInt64($0) * 0x10_0000, UInt64($0) & 0xFF, width: .byte) }))
    cases.append(.compactBatch(base: .max - 0xFFFF_FFFF - 7, ops: [.read(.max - 7, width: .double), .read(.max - 0xFFFF_FFFF - 7)]))
    return cases
}()

/// `malformedWindows`' frames and a fragment of each error. Each window takes at least 21 bytes: base,
/// length, access, name length, model length, pins. Built step by step: as one literal in the attribute,
/// Swift 6.0.3 cannot type-check it in reasonable time.
private let malformedWindowCases: [([UInt8], String)] = {
    let oneWindow: [UInt8] = le32(1) + le64(1) + le64(2)  // count 1, base 1, length 2
    let abc: [UInt8] = Array("abc".utf8), rp1: [UInt8] = Array("rp1".utf8)
    var cases: [([UInt8], String)] = []
    cases.append((le32(1), "window count 1 is larger than the frame can hold"))
    cases.append((le32(.max), "window count 4294967295"))
    cases.append((le32(2) + [UInt8](repeating: 0, count: 41), "larger than the frame"))
    cases.append((oneWindow + [1], "larger than the frame"))
    cases.append((oneWindow + [1, 10] + abc, "frame ends before window name"))
    cases.append((oneWindow + [1, 0, 9] + [0x62, 0x63], "frame ends before window model"))
    cases.append((oneWindow + [1, 0, 3] + rp1, "frame ends before pins"))
    cases.append(([1, 0], "frame ends before window count"))
    return cases
}()

// MARK: Tests

@Suite("Codec requests")
struct CodecRequestTests {
    @Test(arguments: roundTripRequests)
    func roundTrip(_ request: Request) throws {
        let id: UInt32 = 0xDEAD_BEEF
        let bytes = frame(request, id: id)
        // The prefix holds the payload length, little-endian.
        let prefix = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
        #expect(Int(prefix) == bytes.count - Frame.prefixSize)
        #expect(throws: Never.self) { try Codec.checkLength(prefix, limit: Limits().maxFrame) }
        let (h, decoded) = try decode(Array(bytes.dropFirst(Frame.prefixSize)))
        #expect(h == FrameHeader(opcode: request.opcode.rawValue, flags: 0, status: 0, id: id))
        #expect(decoded == request)
    }

    @Test func readWireFormat() {
        // Documented layout: length, opcode, flags, status, id, address, width, 3 padding, count.
        #expect(
            frame(.read(address: 0xFE20_0034, width: .word, count: 1), id: 7) == [
                24, 0, 0, 0, 0x10, 0, 0, 0, 7, 0, 0, 0,
                0x34, 0x00, 0x20, 0xFE, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0,
            ])
    }

    @Test func helloWireFormat() {
        #expect(
            frame(.hello(minVersion: 1, maxVersion: 2), id: 1) == [16, 0, 0, 0, 0x01, 0, 0, 0, 1, 0, 0, 0] + Array("IOGT".utf8) + [
                1, 0, 2, 0,
            ])
    }

    @Test func batchWireFormat() {
        let bytes = payload(.batch([.modify(0x1_0000_0004, mask: 0xF0, value: 0x30, width: .half)]), id: 2)
        #expect(bytes.count == Frame.headerSize + 8 + Frame.batchOpSize)
        #expect(Array(bytes[8..<16]) == le32(1) + le32(0))
        var op: [UInt8] = [3, 2, 0, 0, 0, 0, 0, 0]  // appended: as one expression, too slow for Swift 6.0.3
        op += le64(0x1_0000_0004)
        op += le64(0xF0)
        op += le64(0x30)
        #expect(Array(bytes[16..<48]) == op)
    }

    /// Padding and reserved bytes must be zero: each one set is refused, naming the field.
    @Test(
        arguments: [
            (Request.read(address: 0x1000, width: .word, count: 1), Array(17...19), "read padding"),
            (.write(address: 0x1000, width: .word, values: [1]), Array(17...19), "write padding"),
            (.modify(address: 0x1000, width: .word, mask: 1, value: 1), Array(17...23), "modify padding"),
            (.wait(address: 0x1000, width: .word, mask: 1, value: 1, timeoutMilliseconds: 1), Array(17...19), "wait padding"),
            (.batch([.read(0x1000), .write(0x1004, 1)]), Array(12...15), "batch reserved field"),
            (.batch([.read(0x1000), .write(0x1004, 1)]), Array(18...23), "batch operation #0 padding"),
            (.batch([.read(0x1000), .write(0x1004, 1)]), Array(50...55), "batch operation #1 padding"),
            (.compactBatch(base: 0x1000, ops: [.read(0x1000), .write(0x1004, 1)]), Array(12...15), "compact batch reserved field"),
            (.compactBatch(base: 0x1000, ops: [.read(0x1000), .write(0x1004, 1)]), [26, 27], "compact batch operation #0 padding"),
            (.compactBatch(base: 0x1000, ops: [.read(0x1000), .write(0x1004, 1)]), [34, 35], "compact batch operation #1 padding"),
        ] as [(Request, [Int], String)])
    func nonZeroPaddingRefused(request: Request, positions: [Int], field: String) throws {
        let good = payload(request)
        _ = try decode(good)  // all zeros: fine
        for i in positions {
            expectDecodeError(.malformed, [field, "must be zero", "5A"], patched(good, [i: 0x5A]))
        }
    }

    /// Every prefix of every request kind is refused as malformed; none decodes or crashes.
    @Test(arguments: sampleRequests)
    func truncatedAtEveryLength(_ request: Request) {
        let bytes = payload(request)
        bytes.withUnsafeBytes { all in
            for n in 0..<bytes.count {
                let cut = UnsafeRawBufferPointer(rebasing: all[0..<n])
                do throws(IOGateError) {
                    let (_, r) = try Codec.decodeRequest(cut, limits: Limits())
                    Issue.record("\(n) of \(bytes.count) bytes decoded as \(r)")
                } catch {
                    #expect(error.code == .malformed, "\(n) of \(bytes.count) bytes: \(error.message)")
                }
            }
        }
    }

    @Test(arguments: sampleRequests)
    func trailingBytesRefused(_ request: Request) {
        for extra in [[0], [0, 0, 0, 0], [UInt8](repeating: 0xAB, count: 32)] as [[UInt8]] {
            expectDecodeError(.malformed, [], payload(request) + extra)
        }
    }

    @Test func trailingBytesMessage() {
        expectDecodeError(.malformed, ["1 unexpected bytes after a read request"], payload(.read(address: 0, width: .word, count: 1)) + [0])
    }

    @Test(arguments: sampleRequests)
    func nonzeroFlagsOrStatusRefused(_ request: Request) {
        let bytes = payload(request)
        expectDecodeError(.malformed, ["flags and status must be 0", "flags 1"], patched(bytes, [1: Frame.responseFlag]))
        expectDecodeError(.malformed, ["flags 128"], patched(bytes, [1: 0x80]))
        expectDecodeError(.malformed, ["status 5"], patched(bytes, [2: 5]))
        expectDecodeError(.malformed, ["status 256"], patched(bytes, [3: 1]))
    }

    @Test(arguments: [0x00, 0x04, 0x0F, 0x14, 0x22, 0x81, 0x90, 0xFF] as [UInt8])
    func unknownOpcode(opcode: UInt8) {
        // Checked before anything else: even a bare header names the problem.
        expectDecodeError(
            .unknownOperation, ["unknown opcode \(hex(UInt64(opcode)))", "known: 0x1, 0x2, 0x10, 0x11, 0x12, 0x13, 0x20, 0x21"],
            header(opcode))
        expectDecodeError(.unknownOperation, [], header(opcode) + [UInt8](repeating: 0, count: 40))
    }

    @Test func shortHeader() throws {
        expectDecodeError(.malformed, ["frame ends before opcode"], [])
        expectDecodeError(.malformed, ["frame ends before id: needs 4 more bytes, has 3"], [0x10, 0, 0, 0, 1, 2, 3])
        func header(_ bytes: [UInt8]) throws -> FrameHeader { try bytes.withUnsafeBytes { try Codec.header($0) } }
        #expect(throws: IOGateError.self) { try header([UInt8](repeating: 0, count: 7)) }
        #expect(try header([0x10, 1, 5, 0, 9, 0, 0, 0]) == FrameHeader(opcode: 0x10, flags: 1, status: 5, id: 9))
    }

    @Test(arguments: [3, 128, 0, 5, 16, 255] as [UInt8])
    func badWidth(width: UInt8) {
        // The width byte sits right after the 8-byte address in read, write, modify and wait.
        for request in sampleRequests where [.read, .write, .modify, .wait].contains(request.opcode) {
            expectDecodeError(
                .badWidth, ["width of \(width) bytes is not supported", "1, 2, 4 or 8"], patched(payload(request), [16: width]))
        }
    }

    @Test(arguments: [0, 17, 1000, UInt32.max] as [UInt32])
    func readCountOutsideLimit(count: UInt32) {
        let bytes = header(0x10) + le64(0x1000) + [4, 0, 0, 0] + le32(count)
        expectDecodeError(.limitExceeded, ["count \(count); allowed: 1...16"], bytes, limits: limits(maxBlock: 16))
    }

    @Test(arguments: [1, 16] as [UInt32])
    func readCountAtLimits(count: UInt32) throws {
        let bytes = header(0x10) + le64(0x1000) + [4, 0, 0, 0] + le32(count)
        #expect(try decode(bytes, limits: limits(maxBlock: 16)).1 == .read(address: 0x1000, width: .word, count: count))
    }

    @Test(arguments: [0, 17, UInt32.max] as [UInt32])
    func writeCountOutsideLimit(count: UInt32) {
        // Refused on the count alone, before the frame is sized or anything allocated.
        let values = count == 17 ? [UInt8](repeating: 1, count: 17 * 4) : []
        let bytes = header(0x11) + le64(0x1000) + [4, 0, 0, 0] + le32(count) + values
        expectDecodeError(.limitExceeded, ["allowed: 1...16"], bytes, limits: limits(maxBlock: 16))
    }

    @Test(arguments: [
        (AccessWidth.word, 2 as UInt32, 7), (.word, 2, 9), (.word, 2, 0), (.byte, 3, 2), (.double, 1, 4), (.half, 1, 3),
    ])
    func writeWithWrongValueByteCount(width: AccessWidth, count: UInt32, valueBytes: Int) {
        let bytes = header(0x11) + le64(0x1000) + [width.rawValue, 0, 0, 0] + le32(count) + [UInt8](repeating: 0x5A, count: valueBytes)
        expectDecodeError(.malformed, ["needs \(Int(count) * width.bytes) value bytes; frame has \(valueBytes)"], bytes)
    }

    @Test(arguments: [0, 5, 1000, UInt32.max] as [UInt32])
    func batchCountOutsideLimit(count: UInt32) {
        let op = [UInt8](repeating: 0, count: Frame.batchOpSize)
        let body = count == 5 ? Array([[UInt8]](repeating: [1, 4, 0, 0, 0, 0, 0, 0] + op.dropFirst(8), count: 5).joined()) : []
        let bytes = header(0x20) + le32(count) + le32(0) + body
        expectDecodeError(.limitExceeded, ["batch of \(count) operations; allowed: 1...4"], bytes, limits: limits(maxBatch: 4))
    }

    @Test func batchAtItsLimit() throws {
        let ops = (0..<4).map { BatchOp.read(UInt64($0) * 4) }
        #expect(try decode(payload(.batch(ops)), limits: limits(maxBatch: 4)).1 == .batch(ops))
    }

    @Test(arguments: [0, 4, 9, 0xFF] as [UInt8])
    func batchWithBadKindAtIndex5(kind: UInt8) {
        let ops = (0..<8).map { BatchOp.write(0x1000 + UInt64($0) * 4, UInt64($0)) }
        let bytes = patched(payload(.batch(ops)), [16 + 5 * Frame.batchOpSize: kind])
        expectDecodeError(.malformed, ["batch operation #5: unknown kind \(kind)", "1 read, 2 write, 3 modify"], bytes)
    }

    @Test(arguments: [0, 3, 128] as [UInt8])
    func batchWithBadWidthAtIndex2(width: UInt8) {
        let ops = (0..<4).map { BatchOp.read(0x1000 + UInt64($0) * 4) }
        let bytes = patched(payload(.batch(ops)), [16 + 2 * Frame.batchOpSize + 1: width])
        expectDecodeError(.badWidth, ["batch operation #2: width of \(width) bytes"], bytes)
    }

    @Test(arguments: [31, 33, 64, 0] as [Int])
    func batchWithWrongBodySize(bodyBytes: Int) {
        let bytes = header(0x20) + le32(1) + le32(0) + [UInt8](repeating: 1, count: bodyBytes)
        expectDecodeError(.malformed, ["batch of 1 operations needs 32 bytes; frame has \(bodyBytes)"], bytes)
    }

    @Test(arguments: [
        (BatchOp(kind: .write, width: .byte, address: 0x1000, value: 0x100), "value 0x100"),
        (BatchOp(kind: .modify, width: .half, address: 0x1000, mask: 0x1_0000, value: 1), "mask 0x10000"),
        (BatchOp(kind: .modify, width: .word, address: 0x1000, mask: 1, value: 1 << 32), "32 bits"),
        (BatchOp(kind: .read, width: .byte, address: 0x1000, mask: 0, value: 0x1FF), "8 bits"),
    ])
    func batchValueThatDoesNotFit(op: BatchOp, fragment: String) {
        let bytes = payload(.batch([.read(0x1000), op]))
        expectDecodeError(.badWidth, ["batch operation #1", fragment], bytes)
    }

    @Test func helloWithBadMagic() {
        let good = payload(.hello(minVersion: 1, maxVersion: 1))
        for magic in [Array("TGOI".utf8), [0, 0, 0, 0], Array("IOGt".utf8)] {
            expectDecodeError(
                .malformed, ["hello magic is", "expected 0x54474F49 (\"IOGT\")"],
                patched(good, [8: magic[0], 9: magic[1], 10: magic[2], 11: magic[3]]))
        }
    }

    @Test(
        arguments: [
            (0 as UInt32, 1 << 20, IOGateError.Code.malformed), (7, 1 << 20, .malformed), (8, 1 << 20, nil),
            (1 << 20, 1 << 20, nil), ((1 << 20) + 1, 1 << 20, .limitExceeded), (UInt32.max, 1 << 20, .limitExceeded),
            (UInt32.max, Int.max, nil), (UInt32.max, 8, .limitExceeded), (9, 8, .limitExceeded), (8, 8, nil),
            (UInt32(Frame.handshakeLimit), Frame.handshakeLimit, nil),
            (UInt32(Frame.handshakeLimit) + 1, Frame.handshakeLimit, .limitExceeded),
        ] as [(UInt32, Int, IOGateError.Code?)])
    func checkLength(length: UInt32, limit: Int, expected: IOGateError.Code?) {
        do {
            try Codec.checkLength(length, limit: limit)
            #expect(expected == nil, "length \(length) with limit \(limit) accepted")
        } catch {
            #expect(error.code == expected, "\(error.message)")
            #expect(error.message.contains("frame length \(length)"))
        }
    }

    @Test(arguments: [
        (Request.modify(address: 0x1000, width: .byte, mask: 0xFF, value: 0x1FF), "value 0x1FF does not fit in a 8-bit access (max 0xFF)"),
        (.modify(address: 0x1000, width: .byte, mask: 0x100, value: 0), "mask 0x100"),
        (.modify(address: 0x1000, width: .half, mask: 0xFFFF, value: 0x1_0000), "16-bit"),
        (.modify(address: 0x1000, width: .word, mask: 0x1_0000_0000, value: 0), "mask 0x100000000 does not fit in a 32-bit access"),
        (.wait(address: 0x1000, width: .byte, mask: 0xFF, value: 0x100, timeoutMilliseconds: 1), "value 0x100"),
        (.wait(address: 0x1000, width: .word, mask: .max, value: 0, timeoutMilliseconds: 1), "mask 0xFFFFFFFFFFFFFFFF"),
    ])
    func valueThatDoesNotFitTheWidth(request: Request, fragment: String) {
        // The encoder writes mask and value as 8 bytes, so the decoder sees the oversized value.
        expectDecodeError(.badWidth, [fragment], payload(request))
    }

    @Test(arguments: [10_001, UInt32.max] as [UInt32])
    func waitTimeoutOverLimit(timeout: UInt32) {
        let bytes = payload(.wait(address: 0x1000, width: .word, mask: 1, value: 1, timeoutMilliseconds: timeout))
        expectDecodeError(.limitExceeded, ["wait timeout of \(timeout) ms exceeds the limit of 10000 ms"], bytes)
    }

    @Test func generatedRequestsRoundTrip() throws {
        var rng = SplitMix64(state: 0xC0DEC)
        for _ in 0..<3000 {
            let w = rng.width()
            let address = rng.next()
            let request: Request
            switch rng.below(7) {
            case 0: request = .hello(minVersion: UInt16(truncatingIfNeeded: rng.next()), maxVersion: UInt16(truncatingIfNeeded: rng.next()))
            case 1: request = .windows
            case 2: request = .read(address: address, width: w, count: UInt32(1 + rng.below(65536)))
            case 3: request = .write(address: address, width: w, values: (0...rng.below(64)).map { _ in rng.value(w) })
            case 4: request = .modify(address: address, width: w, mask: rng.value(w), value: rng.value(w))
            case 5:
                request = .wait(
                    address: address, width: w, mask: rng.value(w), value: rng.value(w), timeoutMilliseconds: UInt32(rng.below(10_001)))
            default:
                request = .batch(
                    (0...rng.below(64)).map { _ in
                        let ow = rng.width()
                        return BatchOp(
                            kind: [.read, .write, .modify][rng.below(3)], width: ow, address: rng.next(), mask: rng.value(ow),
                            value: rng.value(ow))
                    })
            }
            let id = UInt32(truncatingIfNeeded: rng.next())
            let (h, decoded) = try decode(payload(request, id: id))
            #expect(h.id == id)
            #expect(decoded == request)
        }
    }

    /// Random corruption of valid frames never crashes; whatever still decodes re-encodes to the same request.
    @Test func corruptedFramesNeverCrash() throws {
        var rng = SplitMix64(state: 0xF022)
        var decodedCount = 0, refused: [IOGateError.Code: Int] = [:]
        for i in 0..<20_000 {
            var bytes = payload(sampleRequests[i % sampleRequests.count])
            switch rng.below(4) {
            case 0:  // flip bytes
                for _ in 0...rng.below(4) { bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next()) }
            case 1:  // cut
                bytes = Array(bytes.prefix(rng.below(bytes.count + 1)))
            case 2:  // extend
                bytes += (0...rng.below(40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            default:  // random bytes behind a valid opcode
                bytes =
                    [Opcode.allCases[rng.below(Opcode.allCases.count)].rawValue, 0, 0, 0]
                    + (0..<rng.below(80)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            do {
                let (h, r) = try decode(bytes)
                decodedCount += 1
                let (h2, r2) = try decode(payload(r, id: h.id))
                #expect(r2 == r)
                #expect(h2 == h)
            } catch let e as IOGateError {
                refused[e.code, default: 0] += 1
                let known: Set<IOGateError.Code> = [.malformed, .unknownOperation, .badWidth, .limitExceeded]
                #expect(known.contains(e.code), "\(e.code): \(e.message)")
            }
        }
        // Both outcomes must actually have been exercised.
        #expect(decodedCount > 100)
        #expect((refused[.malformed] ?? 0) > 100)
        #expect((refused[.badWidth] ?? 0) > 0)
    }
}

@Suite("Codec responses")
struct CodecResponseTests {
    /// Splits a response frame into its header and a reader positioned at the body.
    private func parse(_ bytes: [UInt8], _ body: (FrameHeader, inout ByteReader) throws -> Void) throws {
        let prefix = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
        #expect(Int(prefix) == bytes.count - Frame.prefixSize)
        try Codec.checkLength(prefix, limit: Frame.handshakeLimit)
        let payload = Array(bytes.dropFirst(Frame.prefixSize))
        try payload.withUnsafeBytes { p in
            let h = try Codec.header(p)
            var r = ByteReader(p, position: Frame.headerSize)
            try body(h, &r)
        }
    }

    @Test(arguments: [
        ServerHello(version: 1, maxFrame: 1 << 20, maxBatch: 4096, maxBlock: 65536),
        ServerHello(version: .max, maxFrame: .max, maxBatch: 0, maxBlock: 1),
    ])
    func hello(_ hello: ServerHello) throws {
        var w = ByteWriter()
        Codec.beginResponse(opcode: Opcode.hello.rawValue, id: 41, into: &w)
        Codec.encode(hello, into: &w)
        w.endFrame()
        #expect(w.bytes.count == Frame.prefixSize + Frame.headerSize + 16)
        try parse(w.bytes) { h, r in
            #expect(h == FrameHeader(opcode: 0x01, flags: Frame.responseFlag, status: 0, id: 41))
            let decoded = try Codec.decodeHello(&r)
            #expect(decoded == hello)
            #expect(r.remaining == 0)
        }
    }

    @Test func truncatedHelloResponse() throws {
        var w = ByteWriter()
        Codec.encode(ServerHello(version: 1, maxFrame: 1, maxBatch: 1, maxBlock: 1), into: &w)
        for n in 0..<w.bytes.count {
            let bytes = Array(w.bytes.prefix(n))
            bytes.withUnsafeBytes { p in
                var r = ByteReader(p)
                #expect(throws: IOGateError.self) { _ = try Codec.decodeHello(&r) }
            }
        }
    }

    @Test(arguments: [
        [WindowInfo](),
        [WindowInfo(name: "gpio", base: 0xFE20_0000, length: 0xF4, access: .rw, model: "bcm2711", pins: 58)],
        [
            WindowInfo(name: "gpio", base: 0x1F_000D_0000, length: 0xC000, access: .ro, model: "rp1", pins: 54),
            WindowInfo(name: "", base: 0xFE20_1000, length: 0x200, access: .rw),
            WindowInfo(name: "bank-ü", base: .max, length: 1, access: .ro),
            WindowInfo(
                name: String(repeating: "w", count: 255), base: 0, length: .max, access: .rw, model: String(repeating: "m", count: 255),
                pins: .max),
        ],
    ])
    func windows(_ windows: [WindowInfo]) throws {
        var w = ByteWriter()
        Codec.beginResponse(opcode: Opcode.windows.rawValue, id: 3, into: &w)
        Codec.encode(windows, into: &w)
        w.endFrame()
        try parse(w.bytes) { h, r in
            #expect(h == FrameHeader(opcode: 0x02, flags: Frame.responseFlag, status: 0, id: 3))
            let decoded = try Codec.decodeWindows(&r)
            #expect(decoded == windows)
            #expect(r.remaining == 0)
        }
    }

    @Test func longWindowNameAndModelAreCutTo255Bytes() throws {
        var w = ByteWriter()
        Codec.encode(
            [
                WindowInfo(
                    name: String(repeating: "x", count: 300), base: 1, length: 2, access: .ro, model: String(repeating: "y", count: 256),
                    pins: 3)
            ], into: &w)
        try w.bytes.withUnsafeBytes { p in
            var r = ByteReader(p)
            let out = try Codec.decodeWindows(&r)
            #expect(
                out == [
                    WindowInfo(
                        name: String(repeating: "x", count: 255), base: 1, length: 2, access: .ro,
                        model: String(repeating: "y", count: 255), pins: 3)
                ])
            #expect(r.remaining == 0)
        }
    }

    @Test(arguments: malformedWindowCases)
    func malformedWindows(bytes: [UInt8], fragment: String) {
        bytes.withUnsafeBytes { p in
            var r = ByteReader(p)
            let e = expectThrows(IOGateError.self) { _ = try Codec.decodeWindows(&r) }
            #expect(e?.code == .malformed)
            #expect(e?.message.contains(fragment) == true, "\(e?.message ?? "")")
        }
    }

    @Test(arguments: [
        IOGateError(
            .outsideAllowlist,
            "access of 4 bytes at 0xFE201400 (32-bit) is outside the allowlist of uid 1000 (pid 42); granted: [gpio 0xFE200000..<0xFE2000F4 (rw)]"
        ),
        IOGateError(.readOnly, "write refused"),
        IOGateError(.malformed, ""),
        IOGateError(IOGateError.Code(rawValue: 999), "a code this build does not know: ü"),
    ])
    func errorResponse(_ error: IOGateError) throws {
        var w = ByteWriter()
        Codec.encodeError(error, opcode: Opcode.write.rawValue, id: 77, into: &w)
        try parse(w.bytes) { h, r in
            #expect(h == FrameHeader(opcode: 0x11, flags: Frame.responseFlag, status: error.code.rawValue, id: 77))
            let body = try r.bytes(r.remaining, "message")
            body.withUnsafeBytes { b in
                #expect(Codec.decodeError(status: h.status, body: b) == error)
            }
        }
    }

    @Test func longErrorMessageFitsTheHandshakeLimit() throws {
        var w = ByteWriter()
        Codec.encodeError(IOGateError(.config, String(repeating: "é", count: 10_000)), opcode: 0x01, id: 1, into: &w)
        #expect(w.bytes.count <= Frame.handshakeLimit)
        try parse(w.bytes) { h, r in
            #expect(h.status == IOGateError.Code.config.rawValue)
            #expect(r.remaining == Frame.handshakeLimit - 64)
        }
    }

    @Test func unknownStatusKeepsItsNumber() {
        let e = [UInt8]().withUnsafeBytes { Codec.decodeError(status: 4242, body: $0) }
        #expect(e.code.rawValue == 4242)
        #expect(e.code.description == "error-4242")
        #expect(e.message == "")
    }
}
