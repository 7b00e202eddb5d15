import Foundation
import Glibc
import IOGateCore
import IOGateProtocol
import IOGateSystem
import IOGateTestSupport
import Synchronization
import Testing

@testable import IOGateServer

/// `ClientAccess`, the per-client checked accessor, called directly inside this process on the mock
/// Raspberry Pi 4 (GPIO block 0xFE200000, 244 bytes; UART0 0xFE201000): no socket, no process.
@Suite(.serialized)
final class ClientAccessTests {
    static let gpio: UInt64 = 0xFE20_0000
    static let uart: UInt64 = 0xFE20_1000
    let dir = TempDir()
    let daemon: Daemon
    let me = ClientIdentity(uid: 1000, gid: 1000, pid: 1)
    let reader = ClientIdentity(uid: 2000, gid: 2000, pid: 2)

    init() throws {
        let config = try inProcessConfig(
            board: "rpi4", socket: dir.file("x.sock"),
            grants: """
                [[grant]]
                uid = 1000
                windows = ["gpio"]
                access = "rw"
                [[grant]]
                uid = 2000
                windows = ["gpio"]
                access = "ro"
                """)
        daemon = try Daemon(config: config, boards: BoardCatalog.builtin(), logger: CollectingLog().logger)
        try daemon.start()
    }

    deinit { daemon.stop() }

    @Test func accessesInsideTheGrantReachTheBoard() throws {
        let e = ClientAccess(daemon: daemon, client: me, command: "test")
        try e.write(Self.gpio + 0x04, .word, [0x0020_0000])  // GPFSEL1: GPIO17 output
        #expect(try e.read(Self.gpio + 0x04) == 0x0020_0000)
        try e.write(Self.gpio + 0x1C, .word, [1 << 17])  // GPSET0
        #expect(try e.read(Self.gpio + 0x34) & (1 << 17) != 0, "GPLEV0 shows GPIO17 high")
        #expect(try e.modify(Self.gpio + 0x04, .word, mask: 0b111 << 21, value: 0) == 0x0020_0000)
        #expect(try e.read(Self.gpio + 0x04) == 0)
        var values: [UInt64] = []
        try e.read(Self.gpio, .word, count: 3) { values.append($0) }
        #expect(values.count == 3)
    }

    @Test func refusalsNameWhatWasWrongAndChangeNothing() throws {
        let e = ClientAccess(daemon: daemon, client: me, command: "test")
        let outside = failure { _ = try e.read(Self.uart) }
        #expect(outside?.code == .outsideAllowlist)
        #expect(outside?.message.contains("0xFE201000") == true, "\(String(describing: outside))")
        #expect(outside?.message.contains("granted: [") == true, "\(String(describing: outside))")
        let end = Self.gpio + (e.windows().first { $0.name == "gpio" }?.length ?? 0)
        let straddling = failure { _ = try e.read(end - 4, .word, count: 2) { _ in } }
        #expect(straddling?.code == .outsideAllowlist, "a block running past the window's end")
        #expect(failure { _ = try e.read(Self.gpio + 2) }?.code == .misaligned)
        let r = ClientAccess(daemon: daemon, client: reader, command: "test")
        let before = try r.read(Self.gpio + 0x08)
        let ro = failure { try r.write(Self.gpio + 0x08, .word, [0x7]) }
        #expect(ro?.code == .readOnly)
        #expect(ro?.message.contains("only read access") == true)
        #expect(failure { _ = try r.modify(Self.gpio + 0x08, .word, mask: 7, value: 7) }?.code == .readOnly)
        #expect(try r.read(Self.gpio + 0x08) == before)
        let stranger = ClientAccess(daemon: daemon, client: ClientIdentity(uid: 3000, gid: 3000, pid: 3), command: "test")
        #expect(stranger.windows().isEmpty)
        #expect(failure { _ = try stranger.read(Self.gpio) }?.message.contains("has no grant") == true)
    }

    @Test func aBatchWithOneRefusedOperationRunsNothing() throws {
        let e = ClientAccess(daemon: daemon, client: me, command: "test")
        try e.write(Self.gpio + 0x00, .word, [0])
        let ops = [
            BatchOp(kind: .write, width: .word, address: Self.gpio + 0x00, value: 0o1),
            BatchOp(kind: .modify, width: .word, address: Self.gpio + 0x04, mask: 7, value: 1),
            BatchOp(kind: .read, width: .word, address: Self.uart),
        ]
        let refusal = failure { try e.validate(ops) }
        #expect(refusal?.code == .outsideAllowlist)
        #expect(refusal?.message.hasPrefix("batch operation #2") == true, "\(String(describing: refusal))")
        #expect(try e.read(Self.gpio + 0x00) == 0, "nothing of the refused batch ran")
        // The same batch without the refused operation runs whole, in order.
        try e.validate(Array(ops.prefix(2)))
        var results: [UInt64] = []
        #expect(e.runValidatedBatch(Array(ops.prefix(2))) { results.append($0) } == nil)
        #expect(results.count == 2)
        #expect(try e.read(Self.gpio + 0x00) == 0o1)
    }

    /// Two threads each own half of GPFSEL0 and count in it with read-modify-writes. Each modify
    /// returns the old value, whose own half must be exactly what that thread stored last: if the
    /// other thread's read and store ever straddle it (no window lock), a stale half is written
    /// back and the next modify sees it. Verified to fail with the lock taken out of
    /// `ClientAccess.modify`: 7 stale halves in 2 x 20,000 modifies on this 2-core machine, hence 100,000.
    @Test func concurrentReadModifyWritesLoseNothing() throws {
        let register = Self.gpio + 0x00
        let iterations = 100_000
        try ClientAccess(daemon: daemon, client: me, command: "test").write(register, .word, [0])
        let lost = Mutex<[Int]>([0, 0])
        let group = DispatchGroup()
        for half in 0..<2 {
            let shift = UInt64(half * 15)
            let mask: UInt64 = 0x7FFF << shift
            let (daemon, me) = (daemon, me)
            group.enter()
            Thread.detachNewThread {
                // Each thread its own accessor, as each connection has.
                let executor = ClientAccess(daemon: daemon, client: me, command: "test\(half)")
                var mine: UInt64 = 0
                var stale = 0
                for _ in 0..<iterations {
                    let next = (mine + 1) & 0x7FFF
                    let old = (try? executor.modify(register, .word, mask: mask, value: next << shift)) ?? .max
                    if (old & mask) >> shift != mine { stale += 1 }
                    mine = next
                }
                lost.withLock { $0[half] = stale }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 120) == .success)
        #expect(lost.withLock { $0 } == [0, 0], "lost updates per thread")
        let final = try ClientAccess(daemon: daemon, client: me, command: "test").read(register)
        let expected = UInt64(iterations & 0x7FFF)
        #expect(final == expected | expected << 15)
    }
}
