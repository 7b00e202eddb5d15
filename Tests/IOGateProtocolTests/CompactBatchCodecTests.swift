import IOGateCore
import IOGateProtocol
import Testing

/// The compact batch (opcode 0x21, protocol version 2): its documented layout, and a specific
/// error naming the operation for every kind of bad input.
@Suite("Codec compact batch")
struct CompactBatchCodecTests {
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// A payload (header and body, no length prefix) with `count`, `base` and raw operation bytes.
    static func payload(count: UInt32, base: UInt64, _ ops: [UInt8]) -> [UInt8] {
        var p: [UInt8] = [0x21, 0, 0, 0]  // appended: as one expression, too slow for Swift 6.0.3
        p += le32(7)
        p += le32(count)
        p += le32(0)
        p += le64(base)
        return p + ops
    }
    static func read(_ offset: UInt32, width: UInt8 = 4) -> [UInt8] { [1, width, 0, 0] + le32(offset) }
    static func write(_ offset: UInt32, _ value: UInt64, width: UInt8 = 4) -> [UInt8] { [2, width, 0, 0] + le32(offset) + le64(value) }
    static func modify(_ offset: UInt32, mask: UInt64, value: UInt64, width: UInt8 = 4) -> [UInt8] {
        [3, width, 0, 0] + le32(offset) + le64(mask) + le64(value)
    }

    static func decode(_ bytes: [UInt8], maxBatch: Int = 4096) throws(IOGateError) -> (FrameHeader, Request) {
        var limits = Limits()
        limits.maxBatch = maxBatch
        return try typedThrows { try bytes.withUnsafeBytes { try Codec.decodeRequest($0, limits: limits) } }
    }

    /// The in-place decoder the daemon uses must agree with `decodeRequest` on every input.
    static func decodeInPlace(_ bytes: [UInt8], maxBatch: Int = 4096) throws(IOGateError) -> (base: UInt64, ops: [BatchOp], results: Int) {
        var limits = Limits()
        limits.maxBatch = maxBatch
        return try typedThrows {
            try bytes.withUnsafeBytes { p in
                let view = try Codec.decodeCompactBatch(p, limits: limits).1
                return (view.base, view.array, view.resultBytes)
            }
        }
    }

    static func expectError(
        _ code: IOGateError.Code, _ fragments: [String], _ bytes: [UInt8], maxBatch: Int = 4096,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for inPlace in [false, true] {
            do {
                if inPlace { _ = try decodeInPlace(bytes, maxBatch: maxBatch) } else { _ = try decode(bytes, maxBatch: maxBatch) }
                Issue.record("decoded (in place: \(inPlace)) instead of failing", sourceLocation: sourceLocation)
            } catch {
                #expect(error.code == code, "\(error.code): \(error.message)", sourceLocation: sourceLocation)
                for f in fragments {
                    #expect(error.message.contains(f), "expected '\(f)' in: \(error.message)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test func wireFormatMatchesProtocolDocument() throws {
        // docs/PROTOCOL.md 9.8: read GPLEV0, set GPIO17, make GPIO17 an output; base 0xFE200000.
        let request = Request.compactBatch(
            base: 0xFE20_0000,
            ops: [.read(0xFE20_0034), .write(0xFE20_001C, 1 << 17), .modify(0xFE20_0004, mask: 0x00E0_0000, value: 0x0020_0000)]
        )
        var w = ByteWriter()
        Codec.encode(request, id: 8, into: &w)
        let expected: [UInt8] = [
            0x48, 0x00, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
            0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x20, 0xFE, 0x00, 0x00, 0x00, 0x00,
            0x01, 0x04, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00,
            0x02, 0x04, 0x00, 0x00, 0x1C, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x03, 0x04, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
            0x00, 0x00, 0xE0, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]
        #expect(w.bytes == expected)
        #expect(try Self.decode(Array(expected.dropFirst(4))).1 == request)
        let inPlace = try Self.decodeInPlace(Array(expected.dropFirst(4)))
        #expect(inPlace.base == 0xFE20_0000)
        #expect(
            inPlace.ops == [.read(0xFE20_0034), .write(0xFE20_001C, 1 << 17), .modify(0xFE20_0004, mask: 0x00E0_0000, value: 0x0020_0000)])
        #expect(inPlace.results == 8)  // 4 bytes for the read, none for the write, 4 for the modify
    }

    @Test func sizesPerKind() throws {
        let bytes = Self.payload(
            count: 4, base: 0x1000,
            Self.read(0, width: 1) + Self.write(2, 0xFFFF, width: 2) + Self.modify(8, mask: .max, value: 1, width: 8)
                + Self.read(16, width: 8))
        #expect(bytes.count == 8 + 16 + 8 + 16 + 24 + 8)
        let d = try Self.decodeInPlace(bytes)
        #expect(
            d.ops == [
                .read(0x1000, width: .byte), .write(0x1002, 0xFFFF, width: .half), .modify(0x1008, mask: .max, value: 1, width: .double),
                .read(0x1010, width: .double),
            ])
        #expect(d.results == 1 + 8 + 8)
    }

    @Test func resultsDecodeByWidthWithNothingForWrites() throws {
        let ops: [BatchOp] = [
            .read(0x10, width: .byte), .write(0x20, 5), .modify(0x30, mask: 1, value: 1, width: .half), .read(0x40, width: .double),
        ]
        let body = Self.le32(4) + Self.le32(0) + [0xAB] + [0x34, 0x12] + Self.le64(0x1122_3344_5566_7788)
        let results = try typedThrows {
            try body.withUnsafeBytes { p in
                var r = ByteReader(p)
                return try Codec.decodeCompactBatchResults(&r, ops: ops)
            }
        }
        #expect(results == [0xAB, 0, 0x1234, 0x1122_3344_5566_7788])
        // One byte short, or one too many: refused.
        for bad in [Array(body.dropLast()), body + [0]] {
            #expect(throws: IOGateError.self) {
                try bad.withUnsafeBytes { p in
                    var r = ByteReader(p)
                    _ = try Codec.decodeCompactBatchResults(&r, ops: ops)
                }
            }
        }
    }

    @Test func truncatedOperation() {
        // A write whose value is cut: 12 of its 16 bytes.
        let bytes = Self.payload(count: 2, base: 0x1000, Self.read(0) + Array(Self.write(4, 1).prefix(12)))
        Self.expectError(.malformed, ["compact batch operation #1: a write operation is 16 bytes; the frame has 12 left"], bytes)
        let modify = Self.payload(count: 1, base: 0x1000, Array(Self.modify(4, mask: 1, value: 1).prefix(23)))
        Self.expectError(.malformed, ["compact batch operation #0: a modify operation is 24 bytes; the frame has 23 left"], modify)
        // A head cut short.
        Self.expectError(.malformed, ["before operation #1", "3 left"], Self.payload(count: 2, base: 0, Self.read(0) + [1, 4, 0]))
        // The body header itself cut short.
        Self.expectError(.malformed, ["frame ends before compact batch base"], Array(Self.payload(count: 1, base: 0, []).prefix(20)))
    }

    @Test(arguments: [0, 4, 9, 0xFF] as [UInt8])
    func unknownKindAtIndex3(kind: UInt8) {
        var ops = Self.read(0) + Self.read(4) + Self.write(8, 1)
        ops += [kind, 4, 0, 0] + Self.le32(12) + Self.le64(0) + Self.le64(0)
        Self.expectError(
            .malformed, ["compact batch operation #3: unknown kind \(kind)", "1 read, 2 write, 3 modify"],
            Self.payload(count: 4, base: 0x1000, ops))
    }

    @Test(arguments: [0, 3, 5, 16, 128] as [UInt8])
    func badWidthAtIndex1(width: UInt8) {
        let bytes = Self.payload(count: 3, base: 0x1000, Self.read(0) + Self.read(4, width: width) + Self.read(8))
        Self.expectError(.badWidth, ["compact batch operation #1: width of \(width) bytes is not supported"], bytes)
    }

    @Test func offsetWrappingPast2To64() {
        // base + offset passes 2^64.
        let base = UInt64.max - 0xFF
        Self.expectError(
            .outsideAllowlist, ["compact batch operation #1: base 0xFFFFFFFFFFFFFF00 + offset 0x100", "wraps past 2^64"],
            Self.payload(count: 2, base: base, Self.read(0) + Self.read(0x100)))
        // The address fits, but its last byte does not.
        Self.expectError(
            .outsideAllowlist, ["compact batch operation #0", "offset 0xFC (64-bit) wraps past 2^64"],
            Self.payload(count: 1, base: base, Self.read(0xFC, width: 8)))
        Self.expectError(.outsideAllowlist, ["#0"], Self.payload(count: 1, base: .max, Self.write(1, 0, width: 1)))
        // The very last byte is fine.
        #expect(throws: Never.self) { try Self.decode(Self.payload(count: 1, base: base, Self.read(0xFF, width: 1))) }
    }

    @Test func countDoesNotMatchTheOperations() {
        let three = Self.read(0) + Self.write(4, 1) + Self.read(8)
        Self.expectError(
            .malformed, ["compact batch of 2 operations: 8 unexpected bytes after operation #1"], Self.payload(count: 2, base: 0, three))
        Self.expectError(
            .malformed, ["compact batch of 4 operations: the frame ends before operation #3", "0 left"],
            Self.payload(count: 4, base: 0, three))
    }

    @Test(arguments: [0, 5, 100_000, UInt32.max] as [UInt32])
    func countOutsideLimit(count: UInt32) {
        let ops = [[UInt8]](repeating: Self.read(0), count: count == 5 ? 5 : 0).flatMap { $0 }
        Self.expectError(
            .limitExceeded, ["compact batch of \(count) operations; allowed: 1...4"], Self.payload(count: count, base: 0, ops), maxBatch: 4)
    }

    @Test func atTheLimit() throws {
        let ops = (0..<4).flatMap { Self.read(UInt32($0) * 4) }
        #expect(try Self.decodeInPlace(Self.payload(count: 4, base: 0x2000, ops), maxBatch: 4).ops.count == 4)
    }

    @Test(arguments: [
        (CompactBatchCodecTests.write(0, 0x100, width: 1), "#0: value 0x100 does not fit in 8 bits"),
        (CompactBatchCodecTests.modify(0, mask: 0x1_0000, value: 1, width: 2), "mask 0x10000 or value 0x1 does not fit in 16 bits"),
        (CompactBatchCodecTests.modify(0, mask: 1, value: 1 << 32, width: 4), "32 bits"),
    ])
    func valueThatDoesNotFit(op: [UInt8], fragment: String) {
        Self.expectError(.badWidth, [fragment], Self.payload(count: 1, base: 0x1000, op))
    }

    @Test func flagsAndStatusMustBeZero() {
        var bytes = Self.payload(count: 1, base: 0, Self.read(0))
        bytes[1] = 1
        Self.expectError(.malformed, ["flags and status must be 0"], bytes)
    }

    @Test func generatedBatchesRoundTripThroughBothDecoders() throws {
        var state: UInt64 = 0xBA7C4
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        for _ in 0..<500 {
            let base = next() & 0xFFFF_FFFF_FFFF
            let ops = (0...(next() % 64)).map { _ -> BatchOp in
                let w = AccessWidth.allCases[Int(next() % 4)]
                let a = base + (next() & 0xFFFF_FFFF) / 8 * 8
                switch next() % 3 {
                case 0: return .read(a, width: w)
                case 1: return .write(a, next() & w.maxValue, width: w)
                default: return .modify(a, mask: next() & w.maxValue, value: next() & w.maxValue, width: w)
                }
            }
            var w = ByteWriter()
            Codec.encode(.compactBatch(base: base, ops: ops), id: 1, into: &w)
            let payload = Array(w.bytes.dropFirst(4))
            #expect(try Self.decode(payload).1 == .compactBatch(base: base, ops: ops))
            let d = try Self.decodeInPlace(payload)
            #expect(d.ops == ops && d.base == base)
            #expect(d.results == Codec.compactResultSize(of: ops))
            #expect(payload.count == 8 + 16 + Codec.compactSize(of: ops))
        }
    }
}
