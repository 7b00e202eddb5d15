import IOGateCore
import IOGateProtocol
import Testing

/// The library's fast path for batches of 32-bit reads writes exactly the bytes of the general
/// compact batch encoder, and reads back what a daemon answers.
struct CompactWordReadsTests {
    @Test(arguments: [1, 2, 255, 4096])
    func sameBytesAsTheGeneralEncoder(_ count: Int) throws {
        let base: UInt64 = 0xFE20_0000
        let ops = (0..<count).map { BatchOp.read(base + UInt64(($0 * 12) % 0x1000) + (UInt64($0 % 3) << 31), width: .word) }
        var general = ByteWriter(), fast = ByteWriter()
        Codec.encode(.compactBatch(base: base, ops: ops), id: 9, into: &general)
        Codec.encodeCompactWordReads(ops, base: base, id: 9, into: &fast)
        #expect(fast.bytes == general.bytes)

        var response = ByteWriter()
        Codec.beginResponse(opcode: Opcode.compactBatch.rawValue, id: 9, into: &response)
        response.u32(UInt32(count))
        response.u32(0)
        for i in 0..<count { response.u32(UInt32(truncatingIfNeeded: i &* 0x0101_0101)) }
        response.endFrame()
        let body = Array(response.bytes.dropFirst(Frame.prefixSize + Frame.headerSize))
        let values = try body.withUnsafeBytes { p in
            var r = ByteReader(p)
            return try Codec.decodeCompactWordResults(&r, count: count)
        }
        #expect(values == (0..<count).map { UInt64(UInt32(truncatingIfNeeded: $0 &* 0x0101_0101)) })
        let general2 = try body.withUnsafeBytes { p in
            var r = ByteReader(p)
            return try Codec.decodeCompactBatchResults(&r, ops: ops)
        }
        #expect(values == general2)
    }

    @Test func shortOrMiscountedResponsesAreMalformed() {
        let body: [UInt8] = [2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]  // two results announced, one sent
        for count in [2, 3] {
            #expect(throws: IOGateError.self) {
                try body.withUnsafeBytes { p in
                    var r = ByteReader(p)
                    _ = try Codec.decodeCompactWordResults(&r, count: count)
                }
            }
        }
    }
}
