import Glibc
import IOGate
import IOGateTestSupport
import Testing

/// A bus fault (SIGBUS) during a register access fails that request with status 18 and the
/// daemon goes on serving; a grant past the end of a file standing in for memory is refused at
/// start. The fault is made for real: the file behind the mapping is truncated under the daemon.
@Suite(.serialized)
struct BusFaultTests {
    @Test func grantPastTheEndOfTheDeviceFileIsRefusedAtStartAndByCheck() throws {
        let dir = TempDir()
        let memory = dir.file("mem.img")
        makeSparseFile(memory, size: 128 << 20)
        let config = """
            device = "\(memory)"
            socket = "@SOCKET@"
            [[grant]]
            uid = 0
            IoBase = [0x7FFF000, 0x8000000]
            IoLen = [0x1000, 0x1000]
            access = "rw"
            """
        #expect(throws: DaemonFailed.self) { _ = try DaemonProcess(config: config, dir: dir) }
        let path = dir.file("iogate.toml")
        let check = try run(productsDirectory + "/iogated", ["--config", path, "--check"])
        #expect(check.status == 1)
        // The message names the range, the file and its size, so the fix is obvious.
        #expect(check.stderr.contains("0x8000000..<0x8001000"), "\(check.stderr)")
        #expect(check.stderr.contains("134217728 bytes"), "\(check.stderr)")
    }

    @Test func faultFailsOnlyThatRequestAndTheDaemonKeepsServing() throws {
        let dir = TempDir()
        let memory = dir.file("mem.img")
        makeSparseFile(memory, size: 0x4000)
        let daemon = try DaemonProcess(
            config: """
                device = "\(memory)"
                socket = "@SOCKET@"
                socket_mode = "0666"
                audit = "none"
                [[grant]]
                uid = 0
                IoBase = [0x0]
                IoLen = [0x4000]
                access = "rw"
                """, dir: dir)
        defer { daemon.stop() }
        let c = try daemon.client()
        try c.write(0x1000, 0x1234_5678)
        #expect(try c.read(0x1000) == 0x1234_5678)

        // The second page and everything after it is no longer backed: accesses there fault.
        truncate(memory, 0x1000)

        let read = failure { _ = try c.read(0x1000) }
        #expect(read?.code == .busFault)
        #expect(read?.message.contains("0x1000") == true)
        #expect(read?.details.address == 0x1000)
        for width in [AccessWidth.byte, .half, .word, .double] {
            #expect(failure { _ = try c.read(0x2008, width: width) }?.code == .busFault, "read width \(width)")
            #expect(failure { try c.write(0x2008, 1, width: width) }?.code == .busFault, "write width \(width)")
        }
        #expect(failure { _ = try c.modify(0x3000, mask: 0xFF, value: 1) }?.code == .busFault)
        #expect(failure { _ = try c.wait(0x3000, mask: 1, value: 1, timeoutMilliseconds: 5000) }?.code == .busFault)
        #expect(failure { _ = try c.read(0x0F00, count: 0x200) }?.code == .busFault, "a block read running off the end")

        // The same connection and a new one are still served; the backed page still works.
        try c.write(0x10, 0xAA)
        #expect(try c.read(0x10) == 0xAA)
        let other = try daemon.client()
        #expect(try other.read(0x10) == 0xAA)

        // A batch that faults at operation 1: operation 0 took effect, 1 and 2 did not run.
        let batch = failure {
            _ = try c.batch { b in
                b.write(0x20, 0x11)
                b.read(0x1800)
                b.write(0x24, 0x22)
            }
        }
        #expect(batch?.code == .busFault)
        #expect(bytes(of: memory, at: 0x20, count: 8) == [0x11, 0, 0, 0, 0, 0, 0, 0])

        // The inlined loop of a compact batch of reads (one guard per batch): the fault at
        // operation 300 stops it with that operation's address; a modify that faults stores nothing.
        let reads = (0..<512).map { BatchOp.read($0 == 300 ? 0x1F00 : 0x40 + UInt64($0 % 16) * 4) }
        let readFault = failure { _ = try c.batch(reads) }
        #expect(readFault?.code == .busFault && readFault?.message.contains("0x1F00") == true, "\(String(describing: readFault))")
        let modifyFault = failure {
            _ = try c.batch { b in
                b.write(0x28, 0x33)
                b.modify(0x1F04, mask: 0xFF, value: 0x44)
                b.write(0x2C, 0x55)
            }
        }
        #expect(modifyFault?.code == .busFault && modifyFault?.message.contains("0x1F04") == true)
        #expect(bytes(of: memory, at: 0x28, count: 8) == [0x33, 0, 0, 0, 0, 0, 0, 0])
        #expect(try c.batch((0..<64).map { BatchOp.read(0x20 + UInt64($0 % 4) * 4) }).prefix(4) == [0x11, 0, 0x33, 0])

        // The CLI reports it as a failed operation (exit 1), and the daemon is still alive.
        let cli = try iogate(daemon.socket, ["read", "0x1000"])
        #expect(cli.status == 1)
        #expect(cli.stderr.contains("bus fault"), "\(cli.stderr)")
        #expect(kill(daemon.pid, 0) == 0)
        #expect(try c.read(0x10) == 0xAA)
    }
}
