import Foundation
import Glibc
import IOGate
import IOGateTestSupport
import Testing

/// Sends raw bytes; returns what the daemon answers before closing or going quiet (200 ms).
func rawExchange(_ socket: String, _ bytes: [UInt8], readTimeoutMs: Int = 200) -> [UInt8] {
    let fd = rawConnect(socket)
    defer { close(fd) }
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var tv = timeval(tv_sec: 0, tv_usec: readTimeoutMs * 1000)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return out
}

/// A request frame as the library would send it.
func frame(_ r: Request, id: UInt32 = 7) -> [UInt8] {
    var w = ByteWriter()
    Codec.encode(r, id: id, into: &w)
    return w.bytes
}

let hello = frame(.hello(minVersion: 1, maxVersion: 1), id: 1)

/// The status of the first response frame in `bytes` (after a hello response, if `skipHello`).
func firstStatus(_ bytes: [UInt8], skipHello: Bool = true) -> UInt16? {
    var at = 0
    if skipHello {
        guard bytes.count >= 4 else { return nil }
        at = 4 + Int(UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
    }
    guard bytes.count >= at + 12 else { return nil }
    return UInt16(bytes[at + 6]) | UInt16(bytes[at + 7]) << 8
}

@Suite(.serialized)
final class HardeningTests {
    let dir = TempDir()
    let memory: String

    init() {
        memory = makeSparseFile(dir.file("mem.img"), size: 64 << 20)
    }

    func config(_ extra: String = "", grants: String? = nil) -> String {
        """
        device = "\(memory)"
        socket = "@SOCKET@"
        socket_mode = "0666"
        \(extra)
        \(grants ?? """
        [[grant]]
        uid = 0
        IoBase = [0x100000]
        IoLen = [0x1000]
        access = "rw"
        [[grant]]
        uid = \(otherUID)
        IoBase = [0x100000]
        IoLen = [0x100]
        access = "ro"
        """)
        """
    }

    @Test func daemonDropsToTheConfiguredUserWithNoGroupsNoCapabilitiesAndSeccomp() throws {
        let d = try DaemonProcess(config: config("user = \(otherUID)"), dir: dir)
        let status = procText("/proc/\(d.pid)/status")
        func field(_ name: String) -> String {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map {
                String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
            } ?? "?"
        }
        #expect(field("Uid").split(separator: "\t").allSatisfy { $0 == "\(otherUID)" }, "\(field("Uid"))")
        #expect(field("Groups").isEmpty)
        #expect(field("CapEff") == "0000000000000000")
        #expect(field("CapPrm") == "0000000000000000")
        #expect(field("NoNewPrivs") == "1")
        #expect(field("Seccomp") == "2")
        // Still serves after confinement.
        let c = try d.client()
        try c.write(0x100000, 0x5A5A)
        #expect(try c.read(0x100000) == 0x5A5A)
        #expect(try c.wait(0x100000, mask: 0xFF, value: 0x5A, timeoutMilliseconds: 100) == 0x5A5A)
        // The daemon holds no descriptor of the device any more: only its mappings.
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(d.pid)/fd")) ?? []
        for fd in fds {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(d.pid)/fd/\(fd)")) ?? ""
            #expect(target != memory, "fd \(fd) still refers to the device")
        }
    }

    @Test func seccompRefusesForbiddenCalls() throws {
        let r = try run(productsDirectory + "/iogated", ["--seccomp-selftest"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        for call in ["execve(/bin/true)", "socket(AF_INET)", "open(/etc/hostname, O_RDWR)", "mmap of a file descriptor", "setuid(0)"] {
            #expect(r.stdout.contains("refused: \(call)"), "\(call): \(r.stdout)")
        }
        #expect(r.stdout.contains("allowed: open(/proc/self/status, O_RDONLY)"))
    }

    @Test func badInputBatteryLeavesTheDaemonServingAndMemoryUnchanged() throws {
        let d = try DaemonProcess(config: config(), dir: dir)
        let c = try d.client()
        try c.write(0x100000, [0x11111111, 0x22222222, 0x33333333, 0x44444444])
        let before = bytes(of: memory, at: 0x100000, count: 0x1000)
        var rng = SystemRandomNumberGenerator()
        var cases: [(String, [UInt8], UInt16?)] = [
            ("random bytes", (0..<512).map { _ in UInt8.random(in: 0...255, using: &rng) }, nil),
            ("length prefix 2^32-1", [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3], nil),
            ("zero-length frame", [0, 0, 0, 0], nil),
            ("unknown version", frame(.hello(minVersion: 9, maxVersion: 12)), nil),
            ("hello with bad magic", [12, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x41, 0x41, 0x41, 0x41, 1, 0, 1, 0], nil),
            ("request before hello", frame(.read(address: 0x100000, width: .word, count: 1)), nil),
        ]
        // After a good hello: each of these must get a specific error status.
        let afterHello: [(String, [UInt8], UInt16)] = [
            ("unknown opcode", [8, 0, 0, 0, 0x7F, 0, 0, 0, 9, 0, 0, 0], IOGateError.Code.unknownOperation.rawValue),
            ("width 3", patch(frame(.read(address: 0x100000, width: .word, count: 1)), at: 20, 3), IOGateError.Code.badWidth.rawValue),
            ("width 128", patch(frame(.read(address: 0x100000, width: .word, count: 1)), at: 20, 128), IOGateError.Code.badWidth.rawValue),
            (
                "offset wrapping 2^64", frame(.read(address: 0xFFFF_FFFF_FFFF_FFF8, width: .double, count: 4)),
                IOGateError.Code.outsideAllowlist.rawValue
            ),
            (
                "write wrapping 2^64", frame(.write(address: 0xFFFF_FFFF_FFFF_FFFC, width: .word, values: [1, 2])),
                IOGateError.Code.outsideAllowlist.rawValue
            ),
            ("batch over the limit", batchFrame(count: 5000), IOGateError.Code.limitExceeded.rawValue),
            (
                "block read over the limit", frame(.read(address: 0x100000, width: .byte, count: 70000)),
                IOGateError.Code.limitExceeded.rawValue
            ),
            (
                "truncated read", Array(frame(.read(address: 0x100000, width: .word, count: 1)).prefix(20)).withLength(16),
                IOGateError.Code.malformed.rawValue
            ),
            ("misaligned write", frame(.write(address: 0x100002, width: .word, values: [0xDEAD])), IOGateError.Code.misaligned.rawValue),
            (
                "write with non-zero padding", patch(frame(.write(address: 0x100000, width: .word, values: [0xDEAD])), at: 21, 1),
                IOGateError.Code.malformed.rawValue
            ),
            (
                "batch write with non-zero padding", patch(frame(.batch([.write(0x100000, 0xDEAD)])), at: 26, 0xFF),
                IOGateError.Code.malformed.rawValue
            ),
        ]
        for (name, bytes, _) in cases {
            _ = rawExchange(d.socket, bytes)
            #expect(try c.read(0x100000) == 0x11111111, "daemon stopped answering after \(name)")
        }
        for (name, bytes, status) in afterHello {
            let reply = rawExchange(d.socket, hello + bytes)
            #expect(firstStatus(reply) == status, "\(name): reply \(reply.prefix(16))")
            #expect(try c.read(0x100000) == 0x11111111, "daemon stopped answering after \(name)")
        }
        // A client that closes mid-frame, with a length that promises more.
        let fd = rawConnect(d.socket)
        let partial = hello + [200, 0, 0, 0, 0x10, 0, 0]
        _ = partial.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        close(fd)
        cases.removeAll()
        #expect(try c.read(0x100000, count: 4) == [0x11111111, 0x22222222, 0x33333333, 0x44444444])
        #expect(bytes(of: memory, at: 0x100000, count: 0x1000) == before)
    }

    func patch(_ b: [UInt8], at i: Int, _ v: UInt8) -> [UInt8] {
        var b = b
        b[i] = v
        return b
    }

    func batchFrame(count: Int) -> [UInt8] {
        var w = ByteWriter()
        w.beginFrame(FrameHeader(opcode: Opcode.batch.rawValue, id: 3))
        w.u32(UInt32(count))
        w.u32(0)
        for _ in 0..<count { Codec.encode(BatchOp.read(0x100000), into: &w) }
        w.endFrame()
        return w.bytes
    }

    @Test func limitsGiveSpecificErrorsAndSpareOtherClients() throws {
        let d = try DaemonProcess(
            config: config(
                """
                [limits]
                max_batch = 16
                max_block = 32
                max_clients = 3
                max_frame = 4096
                max_wait_ms = 200
                """), dir: dir)
        let c = try d.client()
        #expect(c.serverHello.maxBatch == 16)
        let batch = failure { _ = try c.batch(Array(repeating: .read(0x100000), count: 17)) }
        #expect(batch?.code == .limitExceeded)
        #expect(batch?.message.contains("allowed: 1...16") == true)
        #expect(failure { _ = try c.read(0x100000, count: 33) }?.code == .limitExceeded)
        #expect(try c.read(0x100000, count: 32).count == 32)
        // The CLI and readBlocks split a longer read into blocks the daemon accepts.
        #expect(try c.readBlocks(0x100000, count: 100).count == 100)
        let long = try iogate(d.socket, ["read", "0x100000", "--count", "70"])
        #expect(long.status == 0, "\(long.stderr)")
        #expect(long.stdout.split(separator: "\n").count == 70)
        let wait = failure { _ = try c.wait(0x100000, mask: 1, value: 1, timeoutMilliseconds: 5000) }
        #expect(wait?.code == .limitExceeded)
        #expect(wait?.message.contains("200 ms") == true)
        // A frame over max_frame: error and disconnect, the others unaffected.
        let big = frame(.write(address: 0x100000, width: .byte, values: Array(repeating: 0, count: 5000)))
        let reply = rawExchange(d.socket, hello + big)
        #expect(firstStatus(reply) == IOGateError.Code.limitExceeded.rawValue)
        // max_clients = 3: c is one; two more fit, the fourth is told why.
        let c2 = try d.client()
        let c3 = try d.client()
        let fourth = failure { _ = try d.client() }
        #expect(fourth?.message.contains("too many clients") == true, "\(String(describing: fourth))")
        let seenByOther = try c2.read(0x100000)
        let seenByThird = try c3.read(0x100000)
        #expect(try c.read(0x100000) == seenByOther)
        #expect(seenByOther == seenByThird)
    }

    @Test func idleClientsAreDisconnectedAndSlowClientsBlockNobody() throws {
        let d = try DaemonProcess(
            config: config(
                """
                [limits]
                idle_timeout_s = 1
                """), dir: dir)
        // A slow client that sends a frame one byte at a time.
        let slow = rawConnect(d.socket)
        let slowBytes = hello
        let started = Date()
        var sent = 0
        // 500 idle connections at once.
        var idle: [Int32] = []
        for _ in 0..<500 { idle.append(rawConnect(d.socket)) }
        defer { idle.forEach { close($0) } }
        let c = try d.client()
        for i in 0..<20 {
            if sent < slowBytes.count {
                _ = slowBytes[sent...sent].withUnsafeBytes { send(slow, $0.baseAddress, 1, Int32(MSG_NOSIGNAL)) }
                sent += 1
            }
            try c.write(0x100000 + UInt64(i * 4), UInt64(i))
            #expect(try c.read(0x100000 + UInt64(i * 4)) == UInt64(i))
        }
        #expect(Date().timeIntervalSince(started) < 5, "serving 20 requests beside 500 idle and one slow client took too long")
        // The idle connections are closed by the daemon after about a second.
        usleep(2_500_000)
        var buf = [UInt8](repeating: 0, count: 8)
        let n = recv(idle[0], &buf, 8, Int32(MSG_DONTWAIT))
        #expect(n == 0, "an idle client was not disconnected (recv returned \(n), errno \(errno))")
        #expect(throws: IOGateError.self) { _ = try c.read(0x100000) }  // c idled too
        #expect(try d.client().read(0x100000 + 4) == 1)
        close(slow)
    }

    @Test func sighupReloadsGrantsAmongMappedWindowsOnly() throws {
        let d = try DaemonProcess(config: config(), dir: dir)
        #expect(try iogate(d.socket, ["write", "0x100000", "1"], asUID: otherUID).status == 1)
        // Give the other uid write access to the same window: applies without a restart.
        try config().replacingOccurrences(of: "access = \"ro\"", with: "access = \"rw\"").replacingOccurrences(
            of: "@SOCKET@", with: d.socket
        )
        .write(toFile: d.configPath, atomically: false, encoding: .utf8)
        kill(d.pid, SIGHUP)
        #expect(eventually { d.stderrText.contains("policy reloaded") })
        #expect(try iogate(d.socket, ["write", "0x100000", "1"], asUID: otherUID).status == 0)
        // A grant for a window that is not mapped needs a restart: refused, old policy stays.
        try config(
            grants: """
                [[grant]]
                uid = 0
                IoBase = [0x200000]
                IoLen = [0x1000]
                access = "rw"
                """
        ).replacingOccurrences(of: "@SOCKET@", with: d.socket).write(toFile: d.configPath, atomically: false, encoding: .utf8)
        kill(d.pid, SIGHUP)
        #expect(eventually { d.stderrText.contains("needs a restart") })
        #expect(try iogate(d.socket, ["write", "0x100000", "2"], asUID: otherUID).status == 0)
        // A broken config leaves the old one in force, and the log says why.
        try "device = \n".write(toFile: d.configPath, atomically: false, encoding: .utf8)
        kill(d.pid, SIGHUP)
        #expect(eventually { d.stderrText.contains("TOML syntax error") })
        #expect(d.stderrText.components(separatedBy: "reload refused").count - 1 == 2, "\(d.stderrText)")
        #expect(try iogate(d.socket, ["read", "0x100000"], asUID: otherUID).stdout == "0x00000002\n")
    }

    @Test func sigtermFinishesTheRequestInFlight() throws {
        let d = try DaemonProcess(config: config(), dir: dir)
        let c = try d.client()
        let t0 = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { kill(d.pid, SIGTERM) }
        let e = failure { _ = try c.wait(0x100000, mask: 1, value: 1, timeoutMilliseconds: 800) }
        #expect(e?.code == .timeout, "the in-flight wait was cut off instead of finishing: \(String(describing: e))")
        #expect(Date().timeIntervalSince(t0) >= 0.75)
        d.process.waitUntilExit()
        #expect(d.process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: d.socket))
    }

    @Test(arguments: ["none", "writes", "all"])
    func auditLogsWhatTheLevelSays(level: String) throws {
        let d = try DaemonProcess(config: config("audit = \"\(level)\""), dir: dir)
        #expect(try iogate(d.socket, ["write", "0x100004", "0xABCD"]).status == 0)
        #expect(try iogate(d.socket, ["read", "0x100004"]).status == 0)
        let write = "comm=iogate write 0x100004 32-bit 0x0000ABCD"
        let read = "comm=iogate read 0x100004 32-bit 0x0000ABCD"
        // The audit writer thread emits records after the answers: wait for the last one expected.
        if level == "none" { usleep(100_000) } else { eventually { d.stderrText.contains(level == "all" ? read : write) } }
        let log = d.stderrText
        #expect(log.contains(write) == (level != "none"), "\(log)")
        #expect(log.contains(read) == (level == "all"), "\(log)")
        if level != "none" { #expect(log.contains("audit: uid=0 pid=")) }
        // A refused write is logged too (except with audit = "none"), naming who and why.
        #expect(try iogate(d.socket, ["write", "0x100000", "1"], asUID: otherUID).status == 1)
        let refusal = "audit: refused uid=\(otherUID) pid="
        if level == "none" { usleep(100_000) } else { eventually { d.stderrText.contains(refusal) } }
        #expect(d.stderrText.contains(refusal) == (level != "none"), "\(d.stderrText)")
        if level != "none" { #expect(d.stderrText.contains("only read access")) }
    }

    @Test func grantOverSystemRAMIsRefusedUnlessAllowed() throws {
        // /dev/zero is a character device, so the daemon checks its grants against /proc/iomem
        // exactly as it does for /dev/mem; as root the addresses there are real.
        let iomem = Iomem(text: procText("/proc/iomem"))
        guard let ram = iomem.regions.first(where: { $0.name == "System RAM" && $0.range.length >= 0x10000 && $0.range.base > 0 }) else {
            Issue.record("no System RAM region in /proc/iomem (not root?): \(procText("/proc/iomem").prefix(200))")
            return
        }
        let base = (ram.range.base + 0xFFF) & ~0xFFF
        let grants = """
            [[grant]]
            uid = 0
            IoBase = [\(base)]
            IoLen = [0x1000]
            access = "rw"
            """
        let text = config(grants: grants).replacingOccurrences(of: memory, with: "/dev/zero")
        let (status, err) = daemonRefusal(config: text)
        #expect(status != 0)
        #expect(err.contains("overlaps System RAM in /proc/iomem"), "\(err)")
        #expect(err.contains(String(ram.range.base, radix: 16)), "the message must name the region: \(err)")
        #expect(err.contains("allow_ram = true"))
        let allowed = text.replacingOccurrences(of: "access = \"rw\"", with: "access = \"rw\"\nallow_ram = true")
        // With allow_ram the same grant is accepted and mapped (the daemon gets to "ready").
        let d = try DaemonProcess(config: allowed)
        #expect(try d.client().windows().map(\.base) == [base])
    }
}

extension Array where Element == UInt8 {
    /// Rewrites the length prefix to `n`.
    func withLength(_ n: UInt32) -> [UInt8] {
        var b = self
        for i in 0..<4 { b[i] = UInt8(truncatingIfNeeded: n >> (8 * UInt32(i))) }
        return b
    }
}
