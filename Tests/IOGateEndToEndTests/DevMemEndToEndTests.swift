import Foundation
import Glibc
import IOGate
import IOGateTestSupport
import Synchronization
import Testing

/// End-to-end: a real iogated maps a sparse file standing in for physical memory, and the real
/// CLI and library drive it, as root and as an unprivileged uid.
@Suite(.serialized)
final class DevMemEndToEndTests {
    static let below: UInt64 = 0x100_0000  // a window well below a 32 MB boundary
    static let across: UInt64 = 0x3FF_F000  // 8 KiB crossing the 0x4000000 boundary
    static let high: UInt64 = 0x1_0000_0000  // above 4 GiB

    let dir = TempDir()
    let memory: String
    let daemon: DaemonProcess

    init() throws {
        memory = makeSparseFile(dir.file("mem.img"), size: 5 << 30)  // 5 GiB, sparse
        daemon = try DaemonProcess(
            config: """
                device = "\(memory)"
                socket = "@SOCKET@"
                socket_mode = "0666"
                audit = "none"
                [[grant]]
                uid = \(otherUID)
                IoBase = [0x1000000, 0x3FFF000]
                IoLen = [0x1000, 0x2000]
                access = "rw"
                [[grant]]
                uid = \(otherUID)
                IoBase = [0x2000000]
                IoLen = [0x100]
                access = "ro"
                [[grant]]
                uid = 0
                IoBase = [0x1000000, 0x3FFF000, 0x100000000]
                IoLen = [0x1000, 0x2000, 0x1000]
                access = "rw"
                """, dir: dir)
    }

    deinit { daemon.stop() }

    @Test func unprivilegedUserWritesThroughCLIAndBytesLandInTheFile() throws {
        for (addr, width, value) in [
            (Self.below + 0x10, 32, UInt64(0xDEADBEEF)), (0x3FF_FFF8, 64, 0x1122_3344_5566_7788),
            (0x400_0000, 16, 0xBEEF), (0x400_0003, 8, 0x5A),
        ] as [(UInt64, Int, UInt64)] {
            let w = try iogate(daemon.socket, ["write", hex(addr), hex(value), "--width", "\(width)"], asUID: otherUID)
            #expect(w.status == 0, "\(w.stderr)")
            #expect(bytes(of: memory, at: addr, count: width / 8) == le(value, width / 8))
            let r = try iogate(daemon.socket, ["read", hex(addr), "--width", "\(width)"], asUID: otherUID)
            #expect(r.status == 0)
            #expect(r.stdout == hex(value, digits: width / 4) + "\n")
        }
    }

    @Test func blockReadPrintsOneZeroPaddedValuePerLine() throws {
        let c = try daemon.client()
        try c.write(0x3FF_FFF8, [0x1, 0x2, 0x3, 0x4], width: .word)  // straddles the 32 MB boundary
        let r = try iogate(daemon.socket, ["read", "0x3FFFFF8", "--count", "4"], asUID: otherUID)
        #expect(r.stdout == "0x00000001\n0x00000002\n0x00000003\n0x00000004\n")
        let j = try iogate(daemon.socket, ["read", "0x3FFFFF8", "--count", "2", "--json"], asUID: otherUID)
        #expect(j.stdout.contains("\"values\": [\"0x00000001\", \"0x00000002\"]"))
    }

    @Test func libraryAboveFourGiB() throws {
        let c = try daemon.client()
        try c.write(Self.high + 8, 0xCAFE_F00D_1234_5678, width: .double)
        #expect(bytes(of: memory, at: Self.high + 8, count: 8) == le(0xCAFE_F00D_1234_5678, 8))
        #expect(try c.read(Self.high + 8, width: .double) == 0xCAFE_F00D_1234_5678)
        #expect(try c.modify(Self.high + 8, mask: 0xFF, value: 0x99, width: .byte) == 0x78)
        #expect(bytes(of: memory, at: Self.high + 8, count: 1) == [0x99])
    }

    @Test func readOutsideEveryGrantIsRefused() throws {
        let r = try iogate(daemon.socket, ["read", "0x1001000"], asUID: otherUID)
        #expect(r.status == 1)
        #expect(r.stderr.contains("outside the allowlist of uid \(otherUID)"))
        #expect(r.stderr.contains("0x1000000..<0x1001000"))
    }

    @Test func writeThroughReadOnlyGrantIsRefusedAndFileUnchanged() throws {
        let before = bytes(of: memory, at: 0x200_0000, count: 4)
        let r = try iogate(daemon.socket, ["write", "0x2000000", "0x1"], asUID: otherUID)
        #expect(r.status == 1)
        #expect(r.stderr.contains("only read access"))
        #expect(bytes(of: memory, at: 0x200_0000, count: 4) == before)
        #expect(try iogate(daemon.socket, ["read", "0x2000000"], asUID: otherUID).status == 0)
    }

    @Test func misalignedAccessIsRefused() throws {
        let r = try iogate(daemon.socket, ["read", "0x1000002"], asUID: otherUID)
        #expect(r.status == 1)
        #expect(r.stderr.contains("not aligned to the 32-bit width"))
    }

    @Test func uidWithNoGrantIsRefused() throws {
        let r = try iogate(daemon.socket, ["read", "0x1000000"], asUID: 65533)
        #expect(r.status == 1)
        #expect(r.stderr.contains("uid 65533"))
        #expect(r.stderr.contains("has no grant"))
        #expect(try iogate(daemon.socket, ["windows"], asUID: 65533).stdout.contains("no windows"))
    }

    @Test func usageErrorsExitTwoAndUnreachableExitsThree() throws {
        #expect(try iogate(daemon.socket, ["read", "0x1000000", "--width", "12"]).status == 2)
        #expect(try iogate(daemon.socket, ["write", "0x1000000", "0x1FF", "--width", "8"]).status == 2)
        let wide = try iogate(daemon.socket, ["modify", "0x1000000", "--mask", "0x1FF", "--value", "0", "--width", "8"])
        #expect(wide.status == 2)
        #expect(wide.stderr.contains("--mask 0x1FF does not fit in a 8-bit access"))
        #expect(try iogate(daemon.socket, ["read", "not an address!"]).status == 2)
        let u = try iogate(dir.file("missing.sock"), ["read", "0x1000000"])
        #expect(u.status == 3)
        #expect(u.stderr.contains("cannot connect"))
    }

    @Test func windowsListsWhatTheCallerMayUse() throws {
        let r = try iogate(daemon.socket, ["windows"], asUID: otherUID)
        #expect(r.status == 0)
        #expect(r.stdout.contains("0x1000000") && r.stdout.contains("0x3FFF000") && r.stdout.contains("0x2000000"))
        #expect(!r.stdout.contains("0x100000000"))
    }

    @Test func batchWithOneForbiddenOperationRunsNothing() throws {
        let c = try daemon.client()
        try c.write(Self.below, 0x1111_1111)
        #expect(throws: IOGateError.self) {
            _ = try c.batch { b in
                b.write(Self.below, 0x2222_2222)
                b.write(Self.below + 4, 0x3333_3333)
                b.write(0x9000_0000, 1)  // outside every grant
            }
        }
        #expect(bytes(of: memory, at: Self.below, count: 8) == le(0x1111_1111, 4) + le(0, 4))
        let results = try c.batch { b in
            b.write(Self.below, 0x2222_2222)
            b.modify(Self.below, mask: 0xFF, value: 0x44)
            b.read(Self.below)
        }
        #expect(results == [0, 0x2222_2222, 0x2222_2244])
    }

    @Test func twoClientsTenThousandReadModifyWritesLoseNothing() throws {
        let register = Self.below + 0x100
        try daemon.client().write(register, 0)
        let lost = Mutex<[String]>([])
        let daemon = daemon
        DispatchQueue.concurrentPerform(iterations: 2) { who in
            do {
                let c = try daemon.client()
                let shift = UInt64(who * 16)
                var last: UInt64 = 0
                for i in 1...10_000 {
                    let mine = UInt64(i & 0xFFFF)
                    let old = try c.modify(register, mask: 0xFFFF << shift, value: mine << shift)
                    // Nobody else touches my half: what I find there is what I left.
                    if (old >> shift) & 0xFFFF != last {
                        lost.withLock { $0.append("client \(who) step \(i): found \(hex((old >> shift) & 0xFFFF)), left \(hex(last))") }
                    }
                    last = mine
                }
            } catch {
                lost.withLock { $0.append("client \(who): \(error)") }
            }
        }
        #expect(lost.withLock { $0 }.isEmpty, "\(lost.withLock { $0.prefix(5) })")
        #expect(try daemon.client().read(register) == (10_000 << 16) | 10_000)
    }

    @Test func clientThatDisconnectsMidRequestDoesNotStopTheDaemon() throws {
        for partial in [[UInt8]([0x20, 0x00]), [0x18, 0, 0, 0, 0x10, 0, 0, 0, 1, 0]] {
            let fd = rawConnect(daemon.socket)
            _ = partial.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            close(fd)
        }
        let r = try iogate(daemon.socket, ["read", "0x1000000"], asUID: otherUID)
        #expect(r.status == 0)
    }

    @Test func noMappingCrossesA32MBBoundaryOrExceeds32MB() throws {
        let maps = procText("/proc/\(daemon.pid)/maps")
        let lines = maps.split(separator: "\n").filter { $0.hasSuffix(memory) }
        #expect(lines.count == 5, "expected 5 chunks (one below, two across 0x4000000, one read-only, one above 4 GiB): \(lines)")
        var offsets: [UInt64] = []
        for line in lines {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            let span = f[0].split(separator: "-").map { UInt64($0, radix: 16)! }
            let offset = UInt64(f[2], radix: 16)!
            let length = span[1] - span[0]
            offsets.append(offset)
            // The read-only grant's chunk is mapped without PROT_WRITE; the others are writable.
            #expect(f[1] == (offset == 0x200_0000 ? "r--s" : "rw-s"), "\(line)")
            #expect(length <= 0x200_0000)
            #expect(offset / 0x200_0000 == (offset + length - 1) / 0x200_0000, "\(line) crosses a 32 MB boundary")
        }
        #expect(Set(offsets) == [0x100_0000, 0x200_0000, 0x3FF_F000, 0x400_0000, 0x1_0000_0000])
    }

    @Test func sigtermStopsCleanlyAndRemovesTheSocket() throws {
        #expect(FileManager.default.fileExists(atPath: daemon.socket))
        #expect(daemon.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socket))
    }
}

@Suite struct DaemonRefusalTests {
    static let base = """
        device = "/dev/null-not-used"
        socket = "@SOCKET@"
        [[grant]]
        uid = 0
        IoBase = [0x1000]
        IoLen = [0x100]
        access = "rw"
        """

    @Test func groupWritableConfigIsRefused() {
        let (status, err) = daemonRefusal(config: Self.base, configMode: 0o664)
        #expect(status != 0)
        #expect(err.contains("writable by group"))
        #expect(err.contains("chmod go-w"))
    }

    @Test func worldWritableConfigIsRefused() {
        let (status, err) = daemonRefusal(config: Self.base, configMode: 0o646)
        #expect(status != 0)
        #expect(err.contains("writable by others"))
    }

    @Test func configNotOwnedByRootOrSelfIsRefused() throws {
        let dir = TempDir()
        let cfg = dir.file("c.toml")
        try Self.base.replacingOccurrences(of: "@SOCKET@", with: dir.file("s")).write(toFile: cfg, atomically: false, encoding: .utf8)
        chmod(cfg, 0o644)
        chown(cfg, otherUID, otherUID)
        let r = try run(productsDirectory + "/iogated", ["--config", cfg])
        #expect(r.status == 1)
        #expect(r.stderr.contains("owned by uid \(otherUID)"))
    }

    @Test func unknownKeyIsRefusedWithLine() {
        let (status, err) = daemonRefusal(config: Self.base + "\nIOBase = 1\n")
        #expect(status != 0)
        #expect(err.contains("iogate.toml:8: unknown key 'IOBase'"), "\(err)")
    }

    @Test func missingDeviceIsRefused() {
        let (status, err) = daemonRefusal(config: Self.base)
        #expect(status != 0)
        #expect(err.contains("cannot open device /dev/null-not-used"))
    }

    @Test func staleNonSocketPathIsNotReplaced() throws {
        let dir = TempDir()
        try "precious".write(toFile: dir.file("s.sock"), atomically: false, encoding: .utf8)
        let mem = dir.file("m")
        _ = FileManager.default.createFile(atPath: mem, contents: Data(count: 8192))
        let (status, err) = daemonRefusal(
            config: Self.base.replacingOccurrences(of: "/dev/null-not-used", with: mem).replacingOccurrences(
                of: "@SOCKET@", with: dir.file("s.sock")))
        #expect(status != 0)
        #expect(err.contains("is not a socket"))
        #expect(try String(contentsOfFile: dir.file("s.sock"), encoding: .utf8) == "precious")
    }
}
