import Foundation
import Glibc
import IOGate
import Testing

/// The pigpio frontend on a Raspberry Pi 5 (RP1), driven by Debian's real `pigs`, `pigpio` and
/// gpiozero against `iogated` on the mock rpi5. pigpio itself does not run on a Pi 5; this is
/// what lets its clients drive one. After each step the simulated registers are read back through
/// the native client, as a second identity.
///
/// An RP1 pin's registers are in three windows: CTRL in `gpio`, OUT/OE/IN in `rio`, its pad in
/// `pads`. The pigpio account (`nobody`) gets bank 0's CTRL registers and the whole `rio` window,
/// but pads only up to pin 22 (pads + 0x4 + 4n), so pin 27 counts as outside the grant.
@Suite(.serialized)
final class PigpioRP1EndToEndTests {
    let dir = TempDir()
    let port: UInt16
    let daemon: DaemonProcess
    var trace: String { dir.file("trace.log") }

    static let gpio: UInt64 = 0x1F_000D_0000
    static let rio: UInt64 = 0x1F_000E_0000
    static let pads: UInt64 = 0x1F_000F_0000

    init() throws {
        try requirePigpioClients()
        port = try freeLoopbackPort()
        daemon = try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi5"
                socket = "@SOCKET@"
                socket_mode = "0666"
                trace = "@DIR@/trace.log"
                audit = "none"
                pigpio_listen = "127.0.0.1:\(port)"
                pigpio_as = "nobody"
                [[grant]]
                user = "nobody"
                IoBase = [0x1F000D0000, 0x1F000E0000, 0x1F000F0000]
                IoLen  = [0x100, 0xC000, 0x60]
                access = "rw"
                [[grant]]
                uid = \(getuid())
                windows = ["gpio", "rio", "pads"]
                access = "rw"
                """, dir: dir)
    }

    deinit { daemon.stop() }

    func pigs(_ args: String...) throws -> Run {
        try run("/usr/bin/pigs", args, environment: ["PIGPIO_ADDR": "127.0.0.1", "PIGPIO_PORT": "\(port)"])
    }

    func reg(_ address: UInt64) throws -> UInt64 { try daemon.client().read(address) }

    @Test func pigsDrivesRP1Pins() throws {
        // Reset: no function (FUNCSEL 0x1f), which pigpio sees as an input.
        #expect(try pigs("mg", "17").stdout == "0\n")
        #expect(try pigs("m", "17", "w").status == 0)
        #expect(try reg(Self.gpio + 0x8C) == 5)  // GPIO17_CTRL: FUNCSEL 5 (RIO)
        #expect(try reg(Self.rio + 0x4) == 1 << 17)  // RIO OE
        #expect(try reg(Self.pads + 0x48) == 0x56)  // IE on, OD off: as reset
        #expect(try pigs("mg", "17").stdout == "1\n")
        #expect(try pigs("w", "17", "1").status == 0)
        #expect(try reg(Self.rio + 0x0) == 1 << 17)  // RIO OUT
        #expect(try reg(Self.rio + 0x8) == 1 << 17)  // RIO IN
        #expect(try pigs("r", "17").stdout == "1\n")
        #expect(try pigs("br1").stdout == "00020000\n")
        #expect(try pigs("bc1", "0x20000").status == 0)
        #expect(try reg(Self.rio + 0x8) == 0)
        #expect(try pigs("bs1", "0x20000").status == 0)
        #expect(try reg(Self.rio + 0x8) == 1 << 17)

        // Input with a pull-up: OE cleared, pad PULL = 2.
        #expect(try pigs("pud", "17", "u").status == 0)
        #expect(try reg(Self.pads + 0x48) == 0x5A)
        #expect(try pigs("m", "17", "r").status == 0)
        #expect(try reg(Self.rio + 0x4) == 0)
        #expect(try pigs("r", "17").stdout == "1\n")
        #expect(try pigs("pud", "17", "d").status == 0)
        #expect(try pigs("r", "17").stdout == "0\n")

        // WRITE makes an input an output, level first.
        #expect(try pigs("w", "18", "1").status == 0)
        #expect(try reg(Self.gpio + 0x94) == 5)
        #expect(try reg(Self.rio + 0x8) == 1 << 18)

        // ALT0 is FUNCSEL 0; RP1's a5 is the GPIO function itself, so ALT5 is a bad mode.
        #expect(try pigs("m", "5", "0").status == 0)
        #expect(try reg(Self.gpio + 0x2C) == 0)
        #expect(try pigs("mg", "5").stdout == "4\n")
        #expect(try pigs("m", "5", "5").stdout == "-4\n")  // PI_BAD_MODE

        // Pin 27's pad is outside the grant: refused, nothing written.
        let refused = try pigs("w", "27", "1")
        #expect(refused.stdout == "-41\n", "\(refused.stdout)")
        #expect(try pigs("m", "27", "w").stdout == "-41\n")
        #expect(try pigs("bs1", "0x8020000").stdout == "-41\n")
        #expect(try reg(Self.rio + 0x0) & (1 << 27) == 0)
        #expect(try reg(Self.gpio + 0xDC) == 0x1F)
        #expect(try pigs("r", "27").stdout == "0\n")  // reading its level is granted (RIO IN)

        #expect(try pigs("hwver").stdout == "\(0xd04170)\n")  // Pi 5 Model B 4 GB
        #expect(try pigs("r", "54").stdout == "-3\n")  // PI_BAD_GPIO: RP1 has 54
        // Every write went through the Executor as `nobody`, by physical address.
        #expect(procText(trace).contains("W rio+0x2004 32 0x00020000 uid=65534 pid=0"), "\(procText(trace).suffix(600))")
    }

    @Test func pythonPigpioAndGpiozero() throws {
        // pigpio.py takes its "last level" from BR1 when it connects and fires a callback only for
        // bits that differ from it (as against pigpiod), so the button's pull-up must be in place
        // before it connects, as a board's pull-up would be: pad PULL = up (0x56 -> 0x5A).
        _ = try daemon.client().modify(Self.pads + 0x1C, mask: 0b1100, value: 0b1000)
        let script = dir.file("client.py")
        try pigpioPythonClient.write(toFile: script, atomically: false, encoding: .utf8)
        let py = try Interactive("/usr/bin/python3", [script, "127.0.0.1", "\(port)"])
        defer { py.finish() }

        #expect(try py.step() == "connected True \(0xd04170) 79")
        #expect(try py.step() == "write17 1")
        #expect(try reg(Self.gpio + 0x8C) == 5)  // GPIO17_CTRL: RIO
        #expect(try reg(Self.rio + 0x8) == 1 << 17 | 1 << 6)  // GPIO17 driven high; GPIO6 pulled up

        #expect(try py.step() == "led-on True")
        #expect(try reg(Self.gpio + 0x24) == 5)  // GPIO4_CTRL
        #expect(try reg(Self.rio + 0x4) == 1 << 17 | 1 << 4)
        #expect(try reg(Self.rio + 0x8) == 1 << 17 | 1 << 6 | 1 << 4)
        #expect(try py.step() == "led-off False")
        #expect(try reg(Self.rio + 0x8) == 1 << 17 | 1 << 6)

        // Button(6) pulls up: an input with pad PULL = up, level 1, not pressed.
        #expect(try py.step() == "button False")
        #expect(try reg(Self.pads + 0x1C) == 0x5A)
        #expect(try reg(Self.rio + 0x4) & (1 << 6) == 0)
        // "Press" it: another client switches the pad to pull-down through the pad's clear alias
        // (bit 3, pull-up); gpiozero hears of it through an in-band notification.
        try daemon.client().write(Self.pads + 0x3000 + 0x1C, 1 << 3)
        try daemon.client().write(Self.pads + 0x2000 + 0x1C, 1 << 2)
        #expect(try py.step() == "pressed True True")

        #expect(try py.step() == "refused ValueError 'no permission to update GPIO'")
        #expect(try reg(Self.gpio + 0xDC) == 0x1F)
        #expect(try py.step() == "done")
    }
}
