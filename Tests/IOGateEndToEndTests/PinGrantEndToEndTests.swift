import Foundation
import Glibc
import IOGate
import IOGateCore
import IOGateProtocol
import IOGateTestSupport
import Synchronization
import Testing

/// Per-pin grants through a real daemon on the mock Raspberry Pi 4. User A (gid 4001, and the
/// pigpio frontend's account, uid 65534) is granted pins 11 and 17, user B (gid 4002) pins 12
/// and 18: the four share GPFSEL1 (pins 10-19), GPSET0, GPCLR0, GPLEV0, and pairwise the pull
/// registers. Both users reconfigure and toggle their pins at once for thousands of iterations
/// through every request kind (modify, plain write, set/clear writes, version 1 batch, compact
/// batch, and for A pigpio's MODES/WRITE/BS1/BC1), each checking that what it finds in its own
/// fields is what it left, and both try to change the other's pins every way, which must be
/// refused (pigpio: PI_NOT_PERMITTED, or PI_SOME_PERMITTED for a bank mask naming both).
///
/// The two native identities come from one test process: each client connects from a thread
/// whose supplementary groups were set with the raw `setgroups` system call (credentials are per
/// thread in the kernel; glibc's wrapper would change every thread of the test process), and the
/// daemon takes the groups the kernel recorded at connect (`SO_PEERGROUPS`).
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root to connect with other supplementary groups"))
final class PinGrantEndToEndTests {
    let dir = TempDir()
    let port: UInt16
    let daemon: DaemonProcess
    static let base: UInt64 = 0xFE20_0000
    static let gpfsel1 = base + 0x04, gpset0 = base + 0x1C, gpclr0 = base + 0x28, gplev0 = base + 0x34
    static let pull0 = base + 0xE4, pull1 = base + 0xE8

    init() throws {
        port = try freeLoopbackPort()
        daemon = try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi4"
                socket = "@SOCKET@"
                socket_mode = "0666"
                audit = "none"
                pigpio_listen = "127.0.0.1:\(port)"
                pigpio_as = 65534
                [[grant]]
                gid = 4001
                pins = [11, 17]
                access = "rw"
                [[grant]]
                uid = 65534
                pins = [11, 17]
                access = "rw"
                [[grant]]
                gid = 4002
                pins = [12, 18]
                access = "rw"
                """, dir: dir)
    }

    deinit { daemon.stop() }

    /// A client whose connection carries supplementary group `gid` (see the suite's note).
    func client(gid: UInt32, maxVersion: UInt16 = Frame.version) throws -> IOGateClient {
        try Self.client(daemon.socket, gid: gid, maxVersion: maxVersion)
    }

    static func client(_ socket: String, gid: UInt32, maxVersion: UInt16 = Frame.version) throws -> IOGateClient {
        try withThreadGroups([gid]) { () throws -> IOGateClient in try IOGateClient(socketPath: socket, maxVersion: maxVersion) }
    }

    /// GPFSEL field and pull field of `pin` (pins 10-19, and a pull register's 16 pins).
    static func fsel(_ pin: Int) -> (mask: UInt64, shift: UInt64) { (0b111 << UInt64((pin - 10) * 3), UInt64((pin - 10) * 3)) }
    static func pull(_ pin: Int) -> (address: UInt64, mask: UInt64, shift: UInt64) {
        (pin < 16 ? pull0 : pull1, 0b11 << UInt64((pin % 16) * 2), UInt64((pin % 16) * 2))
    }

    /// One user's loop. Returns what went wrong (empty when nothing did) and its final state.
    struct User {
        let name: String
        let gid: UInt32
        let pins: (Int, Int)
        let others: (Int, Int)
        let pigpio: UInt16?
    }

    struct Outcome {
        var problems: [String] = []
        var functions: [Int: UInt64] = [:]
        var pulls: [Int: UInt64] = [:]
        var refusals = 0
    }

    static func exercise(_ u: User, socket: String, iterations: Int) -> Outcome {
        var o = Outcome()
        let (p, q) = u.pins
        let (x, y) = u.others
        func problem(_ s: String) { if o.problems.count < 20 { o.problems.append("\(u.name): \(s)") } }
        // GPFSEL1 with p's and q's fields as given and every bit of the other pins set.
        func write(keeping a: UInt64, _ p: Int, _ b: UInt64, _ q: Int) -> UInt64 {
            0xFFFF_FFFF & ~Self.fsel(p).mask & ~Self.fsel(q).mask | a << Self.fsel(p).shift | b << Self.fsel(q).shift
        }
        func mine(_ reg: UInt64, _ pin: Int) -> UInt64 { (reg & Self.fsel(pin).mask) >> Self.fsel(pin).shift }
        func expectRefused(_ what: String, naming pin: Int, _ body: () throws -> Void) {
            do {
                try body()
                problem("\(what) was allowed")
            } catch let e as IOGateError {
                if e.code != .outsideAllowlist || !e.message.contains("pin \(pin)") { problem("\(what): \(e.code) \(e.message)") }
                o.refusals += 1
            } catch {
                problem("\(what): \(error)")
            }
        }
        do {
            let c2 = try client(socket, gid: u.gid)  // compact batches
            let c1 = try client(socket, gid: u.gid, maxVersion: 1)  // version 1 batches
            let pigpio = try u.pigpio.map { try PigpioClient(port: $0) }
            var f: [Int: UInt64] = [p: 0, q: 0]
            var pl: [Int: UInt64] = [p: 0, q: 0]
            for i in 0..<iterations {
                // 1. modify p's field; what it finds there is what this user left.
                let a = UInt64((i + p) % 8)
                let old = try c2.modify(Self.gpfsel1, mask: Self.fsel(p).mask, value: a << Self.fsel(p).shift)
                if mine(old, p) != f[p]! || mine(old, q) != f[q]! { problem("step \(i) modify found \(hex(old))") }
                f[p] = a
                // 2. a plain write of GPFSEL1, q's field changed, p's as it is, every other pin's bit
                // set: only this user's fields are stored.
                let b = UInt64((i * 3 + q) % 8)
                try c1.write(Self.gpfsel1, write(keeping: f[p]!, p, b, q))
                f[q] = b
                // 3. set and clear through GPSET0 and GPCLR0.
                try c2.write(Self.gpset0, 1 << UInt64(p) | 1 << UInt64(q))
                try c1.write(Self.gpclr0, 1 << UInt64(q))
                // 4. a version 1 batch: p's field, a set, a read-back.
                let a2 = UInt64((i + 5) % 8)
                let r1 = try c1.batch { bt in
                    bt.modify(Self.gpfsel1, mask: Self.fsel(p).mask, value: a2 << Self.fsel(p).shift)
                    bt.write(Self.gpset0, 1 << UInt64(p))
                    bt.read(Self.gpfsel1)
                }
                f[p] = a2
                if mine(r1[2], p) != f[p]! || mine(r1[2], q) != f[q]! { problem("step \(i) batch read \(hex(r1[2]))") }
                // 5. a compact batch: q's field by plain write, p's pull by modify, a read-back.
                let b2 = UInt64((i + 2) % 8), pp = UInt64(i % 3)
                let pa = Self.pull(p)
                let r2 = try c2.batch { bt in
                    bt.write(Self.gpfsel1, write(keeping: f[p]!, p, b2, q))
                    bt.modify(pa.address, mask: pa.mask, value: pp << pa.shift)
                    bt.read(Self.gpfsel1)
                    bt.read(pa.address)
                }
                f[q] = b2
                pl[p] = pp
                if mine(r2[2], p) != f[p]! || mine(r2[2], q) != f[q]! { problem("step \(i) compact batch read \(hex(r2[2]))") }
                if (r2[3] & pa.mask) >> pa.shift != pp { problem("step \(i) pull read \(hex(r2[3]))") }
                // 6. every way of touching the other user's pins is refused, naming the pin.
                if i % 4 == 0 {
                    expectRefused("set of pin \(x)", naming: x) { try c2.write(Self.gpset0, 1 << UInt64(x)) }
                    expectRefused("modify of pin \(y)'s function", naming: y) {
                        _ = try c1.modify(Self.gpfsel1, mask: Self.fsel(y).mask, value: 0)
                    }
                    expectRefused("batch clearing pin \(y)", naming: y) {
                        _ = try c1.batch { bt in
                            bt.write(Self.gpset0, 1 << UInt64(p))
                            bt.write(Self.gpclr0, 1 << UInt64(y))
                        }
                    }
                    expectRefused("compact batch on pin \(x)'s function", naming: x) {
                        _ = try c2.batch { bt in
                            bt.read(Self.gpfsel1)
                            bt.modify(Self.gpfsel1, mask: Self.fsel(x).mask, value: 7 << Self.fsel(x).shift)
                        }
                    }
                    expectRefused("modify of pin \(x)'s pull", naming: x) {
                        _ = try c2.modify(Self.pull(x).address, mask: Self.pull(x).mask, value: 0)
                    }
                }
                // 7. pigpio, as the frontend's account (granted this user's pins).
                if let pigpio {
                    let mode = UInt32(i % 2)  // PI_INPUT, PI_OUTPUT
                    if try pigpio.command(0, p, mode) != 0 { problem("step \(i) pigpio MODES") }
                    f[p] = UInt64(mode)
                    if try pigpio.command(4, q, UInt32(i % 2)) != 0 { problem("step \(i) pigpio WRITE") }
                    f[q] = 1  // WRITE makes the pin an output
                    if try pigpio.command(1, p, 0) != Int32(mode) { problem("step \(i) pigpio MODEG") }
                    if i % 4 == 0 {
                        if try pigpio.command(0, x, 1) != PigpioStatus.notPermitted { problem("step \(i) pigpio MODES \(x) allowed") }
                        if try pigpio.command(4, y, 1) != PigpioStatus.notPermitted { problem("step \(i) pigpio WRITE \(y) allowed") }
                        let both = UInt32(1 << p | 1 << x)
                        if try pigpio.command(14, both, 0) != PigpioStatus.somePermitted { problem("step \(i) pigpio BS1") }
                        if try pigpio.command(12, both, 0) != PigpioStatus.somePermitted { problem("step \(i) pigpio BC1") }
                        o.refusals += 4
                    }
                }
            }
            // The end state: both pins outputs, p high and q low; pulls as last set (q's: none).
            _ = try c2.modify(
                Self.gpfsel1, mask: Self.fsel(p).mask | Self.fsel(q).mask, value: 1 << Self.fsel(p).shift | 1 << Self.fsel(q).shift)
            f[p] = 1
            f[q] = 1
            try c2.write(Self.gpset0, 1 << UInt64(p))
            try c2.write(Self.gpclr0, 1 << UInt64(q))
            o.functions = f
            o.pulls = pl
        } catch {
            problem("\(error)")
        }
        return o
    }

    @Test func twoUsersSharingRegistersCannotTouchEachOthersPins() throws {
        let users = [
            User(name: "A", gid: 4001, pins: (11, 17), others: (12, 18), pigpio: port),
            User(name: "B", gid: 4002, pins: (12, 18), others: (11, 17), pigpio: nil),
        ]
        let iterations = 2000
        let results = Mutex([Outcome](repeating: Outcome(), count: 2))
        let socket = daemon.socket
        DispatchQueue.concurrentPerform(iterations: 2) { who in
            let o = Self.exercise(users[who], socket: socket, iterations: iterations)
            results.withLock { $0[who] = o }
        }
        let outcomes = results.withLock { $0 }
        for o in outcomes { #expect(o.problems.isEmpty, "\(o.problems)") }
        #expect(outcomes[0].refusals == iterations / 4 * 9)
        #expect(outcomes[1].refusals == iterations / 4 * 5)

        // The registers hold exactly what the two users left: every other pin is untouched.
        let reader = try client(gid: 4001)
        var fsel: UInt64 = 0
        var pulls: [UInt64: UInt64] = [Self.pull0: 0, Self.pull1: 0]
        for o in outcomes {
            for (pin, code) in o.functions { fsel |= code << Self.fsel(pin).shift }
            for (pin, code) in o.pulls { pulls[Self.pull(pin).address]! |= code << Self.pull(pin).shift }
        }
        #expect(try reader.read(Self.gpfsel1) == fsel)
        #expect(fsel == 1 << 3 | 1 << 6 | 1 << 21 | 1 << 24)  // pins 11, 12, 17, 18 outputs; 10, 13-16, 19 inputs
        #expect(try reader.read(Self.pull0) == pulls[Self.pull0]!)
        #expect(try reader.read(Self.pull1) == pulls[Self.pull1]!)
        // A's 11 high and 17 low, B's 12 high and 18 low.
        let levels = try reader.read(Self.gplev0)
        let watched: UInt64 = 1 << 11 | 1 << 12 | 1 << 17 | 1 << 18, high: UInt64 = 1 << 11 | 1 << 12
        #expect(levels & watched == high, "\(hex(levels))")
    }

    @Test func windowsShowPerPinGrantsAndRefusalsNamePins() throws {
        let a = try client(gid: 4001)
        let grants = try a.grants()
        #expect(grants.count == 1)
        #expect(grants.first?.window.name == "gpio")
        #expect(grants.first?.pins == [11, 17])
        // Version 2 clients see the windows list as before.
        let v2 = try client(gid: 4001, maxVersion: 2)
        #expect(try v2.windows().map(\.name) == ["gpio"])
        let e = expectThrows(IOGateError.self) { try a.write(Self.gpset0, 1 << 12 | 1 << 17) }
        #expect(e?.message.contains("pin 12 (granted: pins 11, 17)") == true, "\(e?.message ?? "")")
        let r = expectThrows(IOGateError.self) { _ = try a.read(Self.base + 0x00) }  // GPFSEL0: pins 0-9
        #expect(r?.code == .outsideAllowlist)
        // The CLI, as uid 65534 (granted pins 11 and 17).
        let table = try iogate(daemon.socket, ["windows"], asUID: otherUID)
        #expect(
            table.stdout == "NAME        BASE                LENGTH      ACCESS  GRANTED\n"
                + "gpio        0xFE200000          0x100       rw      pins 11, 17\n", "\(table.stdout) \(table.stderr)")
        let json = try iogate(daemon.socket, ["windows", "--json"], asUID: otherUID)
        #expect(
            json.stdout
                == "[{\"name\": \"gpio\", \"base\": \"0xFE200000\", \"length\": \"0x100\", \"access\": \"rw\", \"pins\": [11, 17]}]\n",
            "\(json.stdout)")
    }
}

/// Runs `body` with this thread's supplementary groups set to `groups` through the raw system
/// call (this thread only), then restores them.
func withThreadGroups<T>(_ groups: [gid_t], _ body: () throws -> T) throws -> T {
    typealias SysCall = @convention(c) (Int, Int, UnsafePointer<gid_t>?) -> Int
    #if arch(x86_64)
        let number = 116  // __NR_setgroups, arch/x86/entry/syscalls/syscall_64.tbl
    #elseif arch(arm64)
        let number = 159  // __NR_setgroups, include/uapi/asm-generic/unistd.h
    #else
        let number = 206  // __NR_setgroups32, arch/arm/tools/syscall.tbl
    #endif
    // syscall(2) is variadic, which Swift does not import; on Linux its integer arguments travel
    // in the same registers as a fixed-argument call's.
    let syscall = unsafeBitCast(dlsym(dlopen(nil, RTLD_NOW), "syscall"), to: SysCall.self)
    let saved = [gid_t](unsafeUninitializedCapacity: 256) { p, n in n = Int(max(0, getgroups(256, p.baseAddress))) }
    guard groups.withUnsafeBufferPointer({ syscall(number, $0.count, $0.baseAddress) }) == 0 else { throw SetGroupsFailed() }
    defer { _ = saved.withUnsafeBufferPointer { syscall(number, $0.count, $0.baseAddress) } }
    return try body()
}

struct SetGroupsFailed: Error {}

/// A minimal pigpio socket client: 16-byte commands, the 32-bit result of each reply.
final class PigpioClient {
    let fd: Int32

    init(port: UInt16) throws {
        struct Failed: Error {}
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else {
            close(fd)
            throw Failed()
        }
    }

    deinit { close(fd) }

    /// Sends command `cmd` with `p1`, `p2` and returns the reply's result.
    func command(_ cmd: UInt32, _ p1: Int, _ p2: UInt32) throws -> Int32 {
        try command(cmd, UInt32(p1), p2)
    }

    func command(_ cmd: UInt32, _ p1: UInt32, _ p2: UInt32) throws -> Int32 {
        struct Failed: Error {}
        var request = [cmd, p1, p2, 0].map(\.littleEndian)
        guard request.withUnsafeMutableBytes({ send(fd, $0.baseAddress, 16, 0) }) == 16 else { throw Failed() }
        var reply = [UInt32](repeating: 0, count: 4)
        var got = 0
        while got < 16 {
            let n = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, 16 - got, 0) }
            guard n > 0 else { throw Failed() }
            got += n
        }
        return Int32(bitPattern: UInt32(littleEndian: reply[3]))
    }
}

/// A `bits = [...]` grant of a raw range through a real daemon on a sparse file: only the
/// granted bits of each register change, by every request kind; a plain write that does not cover
/// a whole register is refused (the daemon cannot know that reading it is harmless).
@Suite struct BitGrantEndToEndTests {
    @Test func onlyTheGrantedBitsChange() throws {
        let dir = TempDir()
        let memory = makeSparseFile(dir.file("mem.img"), size: 0x200_0000)
        let daemon = try DaemonProcess(
            config: """
                device = "\(memory)"
                socket = "@SOCKET@"
                socket_mode = "0600"
                audit = "none"
                [[grant]]
                uid = \(getuid())
                IoBase = [0x1000000]
                IoLen = [0x100]
                bits = [0x0000FF00]
                access = "rw"
                """, dir: dir)
        defer { daemon.stop() }
        let c = try daemon.client()
        let reg: UInt64 = 0x100_0010
        // Another party's bits, as the hardware or another grant left them.
        let fd = open(memory, O_RDWR)
        var outside: UInt32 = 0x1200_0034
        _ = pwrite(fd, &outside, 4, off_t(reg))
        close(fd)

        #expect(try c.modify(reg, mask: 0xFF00, value: 0xAB00) == 0x1200_0034)
        let plain = expectThrows(IOGateError.self) { try c.write(reg, 0xFFFF_FFFF) }
        #expect(plain?.code == .outsideAllowlist)
        #expect(plain?.message.contains("bits 0xFFFF00FF (granted: 0x0000FF00)") == true, "\(plain?.message ?? "")")
        try c.write(reg + 1, 0xCD, width: .byte)  // the granted byte, whole
        let wide = expectThrows(IOGateError.self) { _ = try c.modify(reg, mask: 0x1_0000, value: 0) }
        #expect(wide?.message.contains("its mask would change bits 0x00010000") == true, "\(wide?.message ?? "")")
        #expect(throws: IOGateError.self) { _ = try c.read(reg + 2, width: .byte) }  // bits 16-23: none granted
        for version: UInt16 in [1, Frame.version] {  // a version 1 batch, then a compact batch
            let v = try IOGateClient(socketPath: daemon.socket, maxVersion: version)
            let refused = expectThrows(IOGateError.self) {
                _ = try v.batch { b in
                    b.modify(reg, mask: 0x0F00, value: 0x0100)
                    b.write(reg + 2, 0x77, width: .byte)
                }
            }
            #expect(refused?.message.contains("batch operation #1 refused, nothing was run") == true, "\(refused?.message ?? "")")
            #expect(try v.batch { b in b.modify(reg, mask: 0x0F00, value: 0x0E00) } == [version == 1 ? 0x1200_CD34 : 0x1200_CE34])
        }
        #expect(bytes(of: memory, at: reg, count: 4) == le(0x1200_CE34, 4))
    }
}

/// The daemon refuses to start on a bad pin or bits grant, naming the file, line and mistake.
@Suite struct PinGrantRefusalTests {
    @Test(arguments: [
        ("board = \"rpi4\"", "pins = [58]", "iogate.toml:6: [[grant]] #1: pin 58 does not exist on board 'rpi4'; its pins are 0...57"),
        ("board = \"rock5b\"", "pins = [4]", "board 'rock5b' has no GPIO block with a register model IOGate knows"),
        ("board = \"rpi4\"", "IoBase = [0xFE201000]\nIoLen = [0x100]\nbits = [0x100000000]", "bits mask 0x100000000 is wider than 32 bits"),
    ])
    func badGrantStopsTheDaemon(board: String, grant: String, message: String) {
        let (status, stderr) = daemonRefusal(
            config: """
                device = "mock"
                \(board)
                socket = "@SOCKET@"
                socket_mode = "0600"
                audit = "none"
                [[grant]]
                uid = 0
                \(grant)
                access = "rw"
                """)
        #expect(status != 0)
        #expect(stderr.contains(message), "\(stderr)")
    }
}

/// A pin grant on the mock Raspberry Pi 5: the pin helpers drive the granted pin through RP1's
/// CTRL, pad, RIO registers and their aliases; RIO OUT, shared by a bank, changes only the
/// granted bit; an alias store naming another pin is refused.
@Suite struct RP1PinGrantEndToEndTests {
    @Test func rp1PinGrantReachesItsPinOnly() throws {
        let daemon = try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi5"
                socket = "@SOCKET@"
                socket_mode = "0600"
                audit = "none"
                [[grant]]
                uid = \(getuid())
                pins = [17]
                access = "rw"
                """)
        defer { daemon.stop() }
        let gate = try daemon.client()
        let gpio: UInt64 = 0x1F_000D_0000, rio: UInt64 = 0x1F_000E_0000
        #expect(try gate.windows().map(\.name) == ["gpio", "rio", "pads"])
        let led = try gate.gpio(17)
        try led.setFunction(.output, gate)
        try led.set(true, gate)
        #expect(try gate.read(gpio + 0x8C) == 5)  // GPIO17_CTRL: RIO
        #expect(try gate.read(rio + 0x4) == 1 << 17)  // OE
        #expect(try gate.read(rio + 0x8) == 1 << 17)  // IN follows OUT
        try gate.write(rio + 0x3000, 1 << 17)  // the clear alias
        try gate.write(rio, 0xFFFF_FFFF)  // RIO OUT, plain: only bit 17 is granted
        #expect(try gate.read(rio) == 1 << 17)
        try gate.write(rio, 0)
        #expect(try gate.read(rio) == 0)
        try gate.write(rio + 0x2000, 1 << 17)  // the set alias
        #expect(try gate.read(rio) == 1 << 17)
        let other = expectThrows(IOGateError.self) { try gate.write(rio + 0x3000, 1 << 18 | 1 << 17) }
        #expect(other?.message.contains("it would act on pin 18 (granted: pins 17)") == true, "\(other?.message ?? "")")
        #expect(throws: IOGateError.self) { _ = try gate.read(gpio + 0x94) }  // GPIO18_CTRL
        #expect(try gate.read(rio) == 1 << 17)
    }
}
