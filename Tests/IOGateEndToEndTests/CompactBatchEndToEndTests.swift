import Foundation
import Glibc
import IOGate
import IOGateTestSupport
import Testing

/// End-to-end: compact batches (opcode 0x21, protocol version 2) through the client library and
/// as raw frames, against a real iogated on a sparse file; memory is compared byte for byte.
@Suite(.serialized)
final class CompactBatchEndToEndTests {
    static let rw: UInt64 = 0x100_0000  // rw, 4 KiB
    static let ro: UInt64 = 0x200_0000  // ro, 256 bytes

    let dir = TempDir()
    let memory: String
    let daemon: DaemonProcess

    init() throws {
        memory = makeSparseFile(dir.file("mem.img"), size: 0x300_0000)
        daemon = try DaemonProcess(
            config: """
                device = "\(memory)"
                socket = "@SOCKET@"
                socket_mode = "0600"
                audit = "none"
                [limits]
                max_batch = 64
                [[grant]]
                uid = 0
                IoBase = [0x1000000]
                IoLen = [0x1000]
                access = "rw"
                [[grant]]
                uid = 0
                IoBase = [0x2000000]
                IoLen = [0x100]
                access = "ro"
                """, dir: dir)
    }

    deinit { daemon.stop() }

    @Test func libraryUsesCompactBatchesAndEveryKindAndWidthLands() throws {
        let c = try daemon.client()
        #expect(c.serverHello.version == Frame.version)
        try c.write(Self.rw, [0x1111_1111, 0x2222_2222])
        let results = try c.batch { b in
            b.read(Self.rw)
            b.write(Self.rw + 0x10, 0xAB, width: .byte)
            b.write(Self.rw + 0x12, 0xBEEF, width: .half)
            b.write(Self.rw + 0x18, 0x0102_0304_0506_0708, width: .double)
            b.modify(Self.rw + 4, mask: 0xFF00, value: 0x4400)
            b.modify(Self.rw + 0x18, mask: 0xFF, value: 0x99, width: .double)
            b.read(Self.rw + 0x12, width: .half)
            b.read(Self.ro, width: .byte)  // reads through a read-only grant are fine
            b.read(Self.rw + 4)
        }
        #expect(results == [0x1111_1111, 0, 0, 0, 0x2222_2222, 0x0102_0304_0506_0708, 0xBEEF, 0, 0x2222_4422])
        var expected = le(0x1111_1111, 4)  // appended: as one expression, too slow for Swift 6.0.3
        expected += le(0x2222_4422, 4)
        expected += le(0, 8)
        expected += [0xAB, 0, 0xEF, 0xBE]
        expected += le(0, 4)
        expected += le(0x0102_0304_0506_0799, 8)
        #expect(bytes(of: memory, at: Self.rw, count: 0x20) == expected)
    }

    @Test func largeBatchMatchesTheFile() throws {
        let c = try daemon.client()
        let ops = (0..<64).map { BatchOp.write(Self.rw + 0x100 + UInt64($0) * 4, UInt64($0) * 0x0101_0101) }
        #expect(try c.batch(ops) == Array(repeating: 0, count: 64))
        let reads = try c.batch((0..<64).map { BatchOp.read(Self.rw + 0x100 + UInt64($0) * 4) })
        #expect(reads == (0..<64).map { UInt64($0) * 0x0101_0101 })
        #expect(bytes(of: memory, at: Self.rw + 0x100, count: 256) == (0..<64).flatMap { le(UInt64($0) * 0x0101_0101, 4) })
    }

    @Test func refusedCompactBatchRunsNothing() throws {
        let c = try daemon.client()
        try c.write(Self.rw + 0x200, [0x5555_5555, 0x6666_6666])
        let before = bytes(of: memory, at: Self.rw, count: 0x1000)
        for (bad, code, fragment) in [
            (BatchOp.write(0x900_0000, 1), IOGateError.Code.outsideAllowlist, "batch operation #2 refused, nothing was run"),
            (.write(Self.ro, 1), .readOnly, "batch operation #2 refused, nothing was run: write of 32 bits at 0x2000000"),
            (.modify(Self.ro, mask: 1, value: 1), .readOnly, "#2 refused"),
            (.read(Self.rw + 0x202), .misaligned, "#2 refused"),
            (.read(Self.rw + 0xFFC, width: .double), .misaligned, "#2 refused"), (.read(Self.rw + 0x1000), .outsideAllowlist, "#2 refused"),
        ] {
            let e = failure {
                _ = try c.batch([
                    .write(Self.rw + 0x200, 0xDEAD), .modify(Self.rw + 0x204, mask: 0xFF, value: 0x11), bad, .write(Self.rw + 0x208, 7),
                ])
            }
            #expect(e?.code == code, "\(e?.message ?? "accepted")")
            #expect(e?.message.contains(fragment) == true, "\(e?.message ?? "")")
            #expect(bytes(of: memory, at: Self.rw + 0x200, count: 12) == le(0x5555_5555, 4) + le(0x6666_6666, 4) + le(0, 4))
        }
        #expect(bytes(of: memory, at: Self.rw, count: 0x1000) == before)
        // Over max_batch (64): refused by the daemon with its limit.
        let over = failure { _ = try c.batch(Array(repeating: .read(Self.rw), count: 65)) }
        #expect(over?.code == .limitExceeded && over?.message.contains("compact batch of 65 operations; allowed: 1...64") == true)
    }

    @Test func versionOneClientKeepsVersionOneBatches() throws {
        let old = try IOGateClient(socketPath: daemon.socket, maxVersion: 1)
        #expect(old.serverHello.version == 1)
        let r = try old.batch { b in
            b.write(Self.rw + 0x300, 0xCAFE)
            b.read(Self.rw + 0x300)
        }
        #expect(r == [0, 0xCAFE])
        #expect(bytes(of: memory, at: Self.rw + 0x300, count: 4) == le(0xCAFE, 4))
        // A raw version 1 hello, then a compact batch: unknown operation in that session.
        let compact = frame(.compactBatch(base: Self.rw, ops: [.write(Self.rw + 0x300, 1)]), id: 9)
        let reply = rawExchange(daemon.socket, hello + compact)
        #expect(firstStatus(reply) == IOGateError.Code.unknownOperation.rawValue)
        #expect(String(decoding: reply, as: UTF8.self).contains("needs protocol version 2"))
        #expect(bytes(of: memory, at: Self.rw + 0x300, count: 4) == le(0xCAFE, 4))
        // Hello ranges: 2...2 gets exactly 2, 1...9 this daemon's highest; one past it shares nothing and is refused.
        let v2 = rawExchange(daemon.socket, frame(.hello(minVersion: 2, maxVersion: 2), id: 1))
        #expect(v2.count == 28 && v2[12] == 2)
        let v3 = rawExchange(daemon.socket, frame(.hello(minVersion: 1, maxVersion: 9), id: 1))
        #expect(v3.count == 28 && v3[12] == Frame.version)
        let none = rawExchange(daemon.socket, frame(.hello(minVersion: Frame.version + 1, maxVersion: 9), id: 1))
        #expect(firstStatus(none, skipHello: false) == IOGateError.Code.unsupportedVersion.rawValue)
    }

    /// Bad compact frames sent raw after a version 2 hello: each gets its specific status, the
    /// connection stays usable, and memory is unchanged.
    @Test func badCompactFramesGetSpecificErrorsAndChangeNothing() throws {
        let c = try daemon.client()
        try c.write(Self.rw + 0x400, 0x7777_7777)
        let before = bytes(of: memory, at: Self.rw, count: 0x1000)
        let hello2 = frame(.hello(minVersion: 1, maxVersion: 2), id: 1)
        func body(count: UInt32, base: UInt64, _ ops: [UInt8]) -> [UInt8] {
            var payload: [UInt8] = [0x21, 0, 0, 0]  // appended: as one expression, too slow for Swift 6.0.3
            payload += le(5, 4)
            payload += le(UInt64(count), 4)
            payload += le(0, 4)
            payload += le(base, 8)
            payload += ops
            return le(UInt64(payload.count), 4) + payload
        }
        let write = [2, 4, 0, 0] + le(0x400, 4) + le(1, 8)
        let cases: [(String, [UInt8], IOGateError.Code, String)] = [
            (
                "truncated op", body(count: 2, base: Self.rw, write + Array(write.prefix(12))), .malformed,
                "operation #1: a write operation is 16 bytes"
            ),
            ("unknown kind", body(count: 2, base: Self.rw, write + [7, 4, 0, 0] + le(0, 4)), .malformed, "operation #1: unknown kind 7"),
            ("bad width", body(count: 2, base: Self.rw, write + [1, 3, 0, 0] + le(0, 4)), .badWidth, "operation #1: width of 3 bytes"),
            (
                "offset wrap", body(count: 2, base: .max - 3, [1, 1, 0, 0] + le(0, 4) + [1, 4, 0, 0] + le(4, 4)), .outsideAllowlist,
                "wraps past 2^64"
            ),
            ("count too large", body(count: 3, base: Self.rw, write + write), .malformed, "ends before operation #2"),
            ("count too small", body(count: 1, base: Self.rw, write + write), .malformed, "16 unexpected bytes after operation #0"),
            (
                "over max_batch", body(count: 65, base: Self.rw, Array(repeating: write, count: 65).flatMap { $0 }), .limitExceeded,
                "allowed: 1...64"
            ),
            (
                "value too wide", body(count: 1, base: Self.rw, [2, 1, 0, 0] + le(0x400, 4) + le(0x100, 8)), .badWidth,
                "value 0x100 does not fit in 8 bits"
            ),
            (
                "policy: outside", body(count: 2, base: Self.rw, write + [2, 4, 0, 0] + le(0x1000, 4) + le(1, 8)), .outsideAllowlist,
                "batch operation #1 refused, nothing was run"
            ),
        ]
        for (name, request, code, fragment) in cases {
            let reply = rawExchange(daemon.socket, hello2 + request + frame(.read(address: Self.rw + 0x400, width: .word, count: 1), id: 6))
            #expect(firstStatus(reply) == code.rawValue, "\(name): \(reply.prefix(16))")
            #expect(
                String(decoding: reply, as: UTF8.self).contains(fragment),
                "\(name): \(String(decoding: reply.dropFirst(40), as: UTF8.self))")
            // The connection stayed open: the read behind the bad frame was answered with the old value.
            #expect(reply.suffix(4) == le(0x7777_7777, 4)[...], "\(name): no answer to the next request")
            #expect(bytes(of: memory, at: Self.rw, count: 0x1000) == before, "\(name) changed memory")
        }
        #expect(try c.read(Self.rw + 0x400) == 0x7777_7777)
    }
}
