import Foundation
import Glibc
import IOGate
import IOGateTestSupport
import Synchronization
import Testing

/// End-to-end on the mock backend: the real daemon simulating a board, driven by the real CLI.
@Suite(.serialized)
final class MockBoardEndToEndTests {
    let dir = TempDir()
    let daemon: DaemonProcess
    var trace: String { dir.file("trace.log") }

    init() throws {
        daemon = try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi4"
                socket = "@SOCKET@"
                socket_mode = "0666"
                trace = "@DIR@/trace.log"
                audit = "none"
                [[grant]]
                uid = \(otherUID)
                windows = ["gpio"]
                access = "rw"
                [[grant]]
                uid = 0
                windows = ["gpio", "uart0"]
                access = "rw"
                """, dir: dir)
    }

    deinit { daemon.stop() }

    func gpio(_ args: [String]) throws -> Run { try iogate(daemon.socket, ["gpio"] + args, asUID: otherUID) }

    @Test func pinModeSetGetToggleOnBCM2711() throws {
        #expect(try gpio(["17", "mode", "out"]).status == 0)
        // GPFSEL1 bits 21..23 = 001
        #expect(try iogate(daemon.socket, ["read", "gpio+0x4"], asUID: otherUID).stdout == "0x00200000\n")
        #expect(try gpio(["17", "set", "1"]).status == 0)
        #expect(try gpio(["17", "get"]).stdout == "1\n")
        #expect(try iogate(daemon.socket, ["read", "gpio+0x34"], asUID: otherUID).stdout == "0x00020000\n")
        #expect(try gpio(["17", "toggle"]).stdout == "0\n")
        #expect(try gpio(["17", "get"]).stdout == "0\n")
        #expect(try gpio(["17", "toggle"]).stdout == "1\n")
        let info = try gpio(["17", "info"])
        #expect(info.stdout.contains("function out, level 1"), "\(info.stdout)")
        #expect(try gpio(["4", "mode", "alt0"]).status == 0)
        #expect(try gpio(["4", "info"]).stdout.contains("function alt0"))
        // Only GPIO17's field and GPIO4's field changed.
        #expect(try iogate(daemon.socket, ["read", "gpio+0x0"], asUID: otherUID).stdout == "0x00004000\n")
    }

    @Test func gpioUsageErrors() throws {
        #expect(try gpio(["17", "mode", "sideways"]).status == 2)
        #expect(try gpio(["17", "set", "2"]).status == 2)
        #expect(try gpio(["17", "jump"]).status == 2)
        let r = try gpio(["58", "get"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("pins 0...57"))
    }

    @Test func writesToLevelRegisterAreIgnored() throws {
        let c = try daemon.client()
        try c.write(0xFE20_0034, 0xFFFF_FFFF)
        #expect(try c.read(0xFE20_0034) == 0)
    }

    @Test func twoClientsToggleDifferentPinsOfOneBankThroughSetAndClearRegisters() throws {
        let c = try daemon.client()
        for pin in [5, 6] { try c.gpio(pin).setFunction(.output, c) }
        let failures = Mutex<[String]>([])
        let daemon = daemon
        DispatchQueue.concurrentPerform(iterations: 2) { who in
            do {
                let g = try daemon.client()
                let p = try g.gpio(5 + who)
                for _ in 0..<5_000 { try p.toggle(g) }
                // An even number of toggles from low ends low; then drive each pin to a distinct final level.
                try p.set(who == 0, g)
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        #expect(try c.read(0xFE20_0034) & 0x60 == 0x20)  // GPIO5 high, GPIO6 low
        // GPFSEL0 still selects output for both, nothing else.
        #expect(try c.read(0xFE20_0000) == (1 << 15) | (1 << 18))
    }

    @Test func traceOfAScriptedSequenceIsExact() throws {
        let c = try daemon.client()
        _ = try c.modify(0xFE20_0008, mask: 0b111 << 3, value: 0b001 << 3)  // GPIO21 output
        try c.write(0xFE20_001C, 1 << 21)  // GPSET0
        _ = try c.read(0xFE20_0034)  // GPLEV0
        try c.write(0xFE20_0028, 1 << 21)  // GPCLR0
        _ = try c.read(0xFE20_0034)
        _ = try c.read(0xFE20_1018, width: .half)  // uart0 FR
        let me = "uid=0 pid=\(getpid())"
        let expected = [
            "R gpio+0x8 32 0x00000000 \(me)",
            "W gpio+0x8 32 0x00000008 \(me)",
            "W gpio+0x1C 32 0x00200000 \(me)",
            "R gpio+0x34 32 0x00200000 \(me)",
            "W gpio+0x28 32 0x00200000 \(me)",
            "R gpio+0x34 32 0x00000000 \(me)",
            "R uart0+0x18 16 0x0000 \(me)",
        ]
        #expect(procText(trace).split(separator: "\n").map(String.init).suffix(expected.count) == expected[...])
    }

    @Test func registerOutsideTheGrantIsRefused() throws {
        let r = try iogate(daemon.socket, ["read", "0xFE201000"], asUID: otherUID)
        #expect(r.status == 1)
        #expect(r.stderr.contains("granted: [gpio 0xFE200000..<0xFE200100 (rw)]"), "\(r.stderr)")
    }
}

@Suite struct OMAPMockEndToEndTests {
    @Test func beagleBonePinsAcrossBanks() throws {
        let d = try DaemonProcess(
            config: """
                device = "mock"
                board = "beaglebone-black"
                socket = "@SOCKET@"
                socket_mode = "0666"
                [[grant]]
                uid = \(otherUID)
                windows = ["gpio0", "gpio1", "gpio2", "gpio3"]
                access = "rw"
                """)
        // Pin 49 is gpio1 line 17 (Linux numbering: bank * 32 + line), the same as gpio1:17.
        #expect(try iogate(d.socket, ["gpio", "49", "mode", "out"], asUID: otherUID).status == 0)
        #expect(try iogate(d.socket, ["gpio", "gpio1:17", "set", "1"], asUID: otherUID).status == 0)
        #expect(try iogate(d.socket, ["gpio", "49", "get"], asUID: otherUID).stdout == "1\n")
        // gpio1 OE bit 17 cleared (output), DATAOUT bit 17 set; the AM335x gpio1 bank is at 0x4804C000.
        #expect(try iogate(d.socket, ["read", "gpio1+0x134"], asUID: otherUID).stdout == "0xFFFDFFFF\n")
        #expect(try iogate(d.socket, ["read", "gpio1+0x13c"], asUID: otherUID).stdout == "0x00020000\n")
        #expect(try iogate(d.socket, ["gpio", "49", "toggle"], asUID: otherUID).stdout == "0\n")
        #expect(try iogate(d.socket, ["read", "gpio1+0x138"], asUID: otherUID).stdout == "0x00000000\n")
        let info = try iogate(d.socket, ["gpio", "49", "info"], asUID: otherUID)
        #expect(info.stdout == "gpio1:17 (omap): function out, level 0\n")
        let alt = try iogate(d.socket, ["gpio", "49", "mode", "alt0"], asUID: otherUID)
        #expect(alt.status == 1)
        #expect(alt.stderr.contains("allowed: in, out"))
    }
}

@Suite struct CLIWithoutDaemonTests {
    @Test func demoRunsWithoutRootAndShowsTheRegistersAndARefusal() throws {
        let r = try run(
            productsDirectory + "/iogate", ["demo", "--blinks", "2", "--delay-ms", "0", "--boards", repositoryRoot + "/boards"],
            asUID: otherUID)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("GPFSEL1 0x00000000 -> 0x00200000"))
        #expect(r.stdout.contains("blink 2: on      GPSET0 <- 0x00020000       GPLEV0 = 0x00020000"))
        #expect(r.stdout.contains("blink 2: off     GPCLR0 <- 0x00020000       GPLEV0 = 0x00000000"))
        #expect(r.stdout.contains("read uart0 at 0xFE201000 -> refused (outside-allowlist)"))
        // The demo grants the header's user pins (2-27): GPIO0, in GPFSEL0 with pins 2-9, is refused by name.
        #expect(
            r.stdout.contains(
                "GPIO0 mode in     -> refused (outside-allowlist): modify of 32 bits at 0xFE200000 refused: its mask would change pin 0 (granted: pins 2-27)"
            ), "\(r.stdout)")
        #expect(r.stdout.contains("iogated stopped (exit 0)"))
    }

    @Test func demoOnTheRaspberryPi5() throws {
        let r = try run(
            productsDirectory + "/iogate",
            ["demo", "--board", "rpi5", "--blinks", "1", "--delay-ms", "0", "--boards", repositoryRoot + "/boards"], asUID: otherUID)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("GPIO17 mode out    SYS_RIO0.OE.SET <- 0x00020000"), "\(r.stdout)")
        #expect(r.stdout.contains("GPIO17 mode out    IO_BANK0.GPIO17_CTRL 0x0000001F -> 0x00000005"))
        #expect(r.stdout.contains("blink 1: on      SYS_RIO0.OUT.SET <- 0x00020000       SYS_RIO0.IN = 0x00020000"))
        #expect(r.stdout.contains("blink 1: off     SYS_RIO0.OUT.CLR <- 0x00020000       SYS_RIO0.IN = 0x00000000"))
        #expect(r.stdout.contains("read uart0 at 0x1F00030000 -> refused (outside-allowlist)"))
        #expect(
            r.stdout.contains(
                "GPIO0 mode in     -> refused (outside-allowlist): modify of 32 bits at 0x1F000D0004 refused: it would change pin 0 (granted: pins 2-27)"
            ))
        let none = try run(productsDirectory + "/iogate", ["demo", "--board", "rock5b", "--boards", repositoryRoot + "/boards"])
        #expect(none.status == 1)
        #expect(none.stderr.contains("board rock5b has no GPIO window with a register model the mock simulates"), "\(none.stderr)")
    }

    @Test func boardsListsAndShows() throws {
        let list = try run(productsDirectory + "/iogate", ["boards", "--boards", repositoryRoot + "/boards"])
        #expect(list.status == 0)
        for id in [
            "rpi1", "rpi2", "rpi3", "rpi4", "rpi5", "beaglebone-black", "orangepi-pc", "rockpi4", "imx8mm-evk", "jetson-nano", "odroid-c4",
            "rock5b",
        ] {
            #expect(list.stdout.contains(id), "missing \(id)")
        }
        let show = try run(productsDirectory + "/iogate", ["boards", "show", "rpi5", "--boards", repositoryRoot + "/boards"])
        #expect(show.stdout.contains("0x1F000D0000"))
        let missing = try run(productsDirectory + "/iogate", ["boards", "show", "nope", "--boards", repositoryRoot + "/boards"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no board with id 'nope'"))
    }

    @Test func helpListsTheSubcommands() throws {
        let h = try run(productsDirectory + "/iogate", ["--help"])
        #expect(h.status == 0)
        for sub in ["read", "write", "modify", "wait", "dump", "windows", "boards", "gpio", "demo"] { #expect(h.stdout.contains(sub)) }
    }
}

/// A Raspberry Pi 5 (RP1) on the mock, through the CLI as an unprivileged user: a pin's CTRL is
/// in `gpio`, its OUT/OE/IN bits in `rio`, its pad in `pads`.
@Suite struct RP1MockEndToEndTests {
    /// The mock Pi 5, with `windows` granted read-write to the unprivileged user.
    func daemon(windows: String) throws -> DaemonProcess {
        try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi5"
                socket = "@SOCKET@"
                socket_mode = "0666"
                [[grant]]
                uid = \(otherUID)
                windows = \(windows)
                access = "rw"
                """)
    }

    @Test func pinModeSetToggleAndPullOnRP1() throws {
        let d = try daemon(windows: #"["gpio", "rio", "pads"]"#)
        func cli(_ args: String...) throws -> Run { try iogate(d.socket, args, asUID: otherUID) }
        #expect(try cli("gpio", "17", "info").stdout == "gpio:17 (rp1): function none, level 0, pull down\n")
        #expect(try cli("gpio", "17", "mode", "out").status == 0)
        #expect(try cli("read", "gpio+0x8c").stdout == "0x00000005\n")  // GPIO17_CTRL FUNCSEL = RIO
        #expect(try cli("read", "rio+0x4").stdout == "0x00020000\n")  // RIO OE
        #expect(try cli("gpio", "17", "set", "1").status == 0)
        #expect(try cli("read", "rio+0x8").stdout == "0x00020000\n")  // RIO IN
        #expect(try cli("gpio", "17", "get").stdout == "1\n")
        #expect(try cli("gpio", "17", "toggle").stdout == "0\n")
        #expect(try cli("read", "rio+0x0").stdout == "0x00000000\n")
        #expect(try cli("gpio", "17", "mode", "in").status == 0)
        #expect(try cli("gpio", "17", "pull", "up").status == 0)
        #expect(try cli("read", "pads+0x48").stdout == "0x0000005A\n")
        #expect(try cli("gpio", "17", "info").stdout == "gpio:17 (rp1): function in, level 1, pull up\n")
        // Bank 2: pin 40 is line 6, CTRL at 0x8000 + 8*6 + 4.
        #expect(try cli("gpio", "40", "mode", "alt3").status == 0)
        #expect(try cli("read", "gpio+0x8034").stdout == "0x00000003\n")
        #expect(try cli("gpio", "40", "info").stdout == "gpio:40 (rp1): function alt3, level 0, pull down\n")
        let alt5 = try cli("gpio", "17", "mode", "alt5")
        #expect(alt5.status == 1)
        #expect(alt5.stderr.contains("RP1's a5 is the GPIO function: use in or out"), "\(alt5.stderr)")
        let bad = try cli("gpio", "17", "pull", "sideways")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("pull needs one of: up, down, none"), "\(bad.stderr)")
    }

    @Test func withoutThePadsWindowNothingChanges() throws {
        let d = try daemon(windows: #"["gpio", "rio"]"#)
        let r = try iogate(d.socket, ["gpio", "17", "mode", "out"], asUID: otherUID)
        #expect(r.status == 1)
        // The pad register is outside the grant; the batch is refused whole, so OE stays clear.
        #expect(r.stderr.contains("0x1F000F0048"), "\(r.stderr)")
        #expect(r.stderr.contains("nothing was run"), "\(r.stderr)")
        #expect(try iogate(d.socket, ["read", "rio+0x4"], asUID: otherUID).stdout == "0x00000000\n")
        #expect(try iogate(d.socket, ["read", "gpio+0x8c"], asUID: otherUID).stdout == "0x0000001F\n")
    }
}
