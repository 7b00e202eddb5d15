import Foundation
import Glibc
import IOGate
import IOGateTestSupport
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
        // A bank write naming pins 17 and 27 sets 17 only: PI_SOME_PERMITTED, as pigpiod answers.
        #expect(try pigs("bs1", "0x8020000").stdout == "-42\n")
        #expect(try reg(Self.rio + 0x0) & (1 << 27) == 0)
        #expect(try reg(Self.rio + 0x0) & (1 << 17) != 0)
        #expect(try pigs("bc1", "0x20000").status == 0)
        #expect(try reg(Self.gpio + 0xDC) == 0x1F)
        #expect(try pigs("r", "27").stdout == "0\n")  // reading its level is granted (RIO IN)

        #expect(try pigs("hwver").stdout == "\(0xd04170)\n")  // Pi 5 Model B 4 GB
        #expect(try pigs("r", "54").stdout == "-3\n")  // PI_BAD_GPIO: RP1 has 54
        // Every write went through the ClientAccess as `nobody`, by physical address.
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

    /// A C program linked against Debian's libpigpiod_if2 (libpigpiod-if2-1), as pigpio's own C
    /// clients are. It declares the few functions it calls itself: on amd64 Debian's
    /// `pigpiod_if2.h` (libpigpiod-if-dev) cannot be compiled, as it includes `pigpio.h`, which
    /// Debian ships only for the Raspberry Pi's architectures.
    @Test func libpigpiodIf2Program() throws {
        let source = dir.file("client.c"), binary = dir.file("client")
        try libpigpiodClient.write(toFile: source, atomically: false, encoding: .utf8)
        let library = "/usr/lib/libpigpiod_if2.so.1"
        try #require(FileManager.default.fileExists(atPath: library), "\(library) is missing: install libpigpiod-if2-1 (scripts/setup.sh)")
        let cc = try run("/usr/bin/cc", ["-Wall", "-Werror", "-o", binary, source, library, "-lpthread"])
        try #require(cc.status == 0, "cc: \(cc.stderr)")
        let r = try run(binary, ["127.0.0.1", "\(port)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout == """
                hwver d04170
                write22 0 read 1 mode 1
                bank1 00400000
                pud21 0 mode21 0 read 1
                write27 -41

                """, "\(r.stdout)")
        #expect(try reg(Self.gpio + 0xB4) == 5)  // GPIO22_CTRL: RIO
        #expect(try reg(Self.rio + 0x4) == 1 << 22)  // only GPIO22 drives
        #expect(try reg(Self.pads + 0x58) == 0x5A)  // GPIO21 pulled up
        #expect(try reg(Self.rio + 0x0) & (1 << 27) == 0)
    }
}

/// The libpigpiod_if2 client: prints each result on one line.
private let libpigpiodClient = """
    #include <stdint.h>
    #include <stdio.h>

    /* From pigpio's documentation of pigpiod_if2 (abyz.me.uk/rpi/pigpio/pdif2.html). */
    int pigpio_start(const char *addrStr, const char *portStr);
    void pigpio_stop(int pi);
    int set_mode(int pi, unsigned gpio, unsigned mode);
    int get_mode(int pi, unsigned gpio);
    int set_pull_up_down(int pi, unsigned gpio, unsigned pud);
    int gpio_read(int pi, unsigned gpio);
    int gpio_write(int pi, unsigned gpio, unsigned level);
    uint32_t read_bank_1(int pi);
    unsigned get_hardware_revision(int pi);
    enum { PI_INPUT = 0, PI_PUD_UP = 2 };

    int main(int argc, char **argv) {
        int pi = pigpio_start(argv[1], argv[2]);
        if (pi < 0) { fprintf(stderr, "pigpio_start: %d\\n", pi); return 1; }
        printf("hwver %x\\n", get_hardware_revision(pi));
        int w = gpio_write(pi, 22, 1);
        printf("write22 %d read %d mode %d\\n", w, gpio_read(pi, 22), get_mode(pi, 22));
        printf("bank1 %08x\\n", read_bank_1(pi));
        int p = set_pull_up_down(pi, 21, PI_PUD_UP);
        set_mode(pi, 21, PI_INPUT);
        printf("pud21 %d mode21 %d read %d\\n", p, get_mode(pi, 21), gpio_read(pi, 21));
        printf("write27 %d\\n", gpio_write(pi, 27, 1));
        pigpio_stop(pi);
        return 0;
    }
    """
