import Foundation
import Glibc
import IOGateCore
import IOGateGPIO
import IOGateTestSupport
import Testing

/// `iogate pins` through a real daemon on the mock boards: after a scripted set of `iogate gpio`
/// changes (modes, levels, pulls), the exact header table, plain and as JSON.
@Suite(.serialized)
struct PinsEndToEndTests {
    /// Starts a daemon on the mock `board` granting this uid `windows`, runs `iogate gpio` with
    /// each of `changes`, and returns `iogate pins` with `arguments`.
    func pins(board: String, windows: [String], changes: [String], _ arguments: [String] = []) throws -> (Run, DaemonProcess) {
        let daemon = try DaemonProcess(
            config: """
                device = "mock"
                board = "\(board)"
                socket = "@SOCKET@"
                socket_mode = "0600"
                audit = "none"
                [[grant]]
                uid = \(getuid())
                windows = [\(windows.map { "\"\($0)\"" }.joined(separator: ", "))]
                access = "rw"
                """)
        for change in changes {
            let r = try iogate(daemon.socket, ["gpio"] + change.split(separator: " ").map(String.init))
            #expect(r.status == 0, "iogate gpio \(change): \(r.stderr)")
        }
        return (try iogate(daemon.socket, ["pins"] + arguments), daemon)
    }

    static let rpi4Changes = [
        "17 mode out", "17 set 1", "14 mode alt0", "15 mode alt0", "4 pull up", "22 mode alt5", "27 pull down", "18 mode out",
        "12 mode alt0", "2 mode alt0", "3 mode alt0", "2 pull up", "3 pull up",
    ]

    @Test func raspberryPi4Table() throws {
        let (r, daemon) = try pins(board: "rpi4", windows: ["gpio"], changes: Self.rpi4Changes)
        defer { daemon.stop() }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr == "")
        // Not a terminal: no escape sequences.
        #expect(!r.stdout.contains("\u{1B}"))
        #expect(
            r.stdout == """
                J8 header of Raspberry Pi 4 Model B / Raspberry Pi 400 / Compute Module 4 (rpi4)
                PIN  NAME    GPIO  MODE  FUNCTION  LEVEL  PULL  CONSUMER
                  1  3V3
                  2  5V
                  3  GPIO2      2  alt0  SDA1      1      up    -
                  4  5V
                  5  GPIO3      3  alt0  SCL1      1      up    -
                  6  GND
                  7  GPIO4      4  in    input     1      up    -
                  8  GPIO14    14  alt0  TXD0      0      none  -
                  9  GND
                 10  GPIO15    15  alt0  RXD0      0      none  -
                 11  GPIO17    17  out   output    1      none  -
                 12  GPIO18    18  out   output    0      none  -
                 13  GPIO27    27  in    input     0      down  -
                 14  GND
                 15  GPIO22    22  alt5  SDA6      0      none  -
                 16  GPIO23    23  in    input     0      none  -
                 17  3V3
                 18  GPIO24    24  in    input     0      none  -
                 19  GPIO10    10  in    input     0      none  -
                 20  GND
                 21  GPIO9      9  in    input     0      none  -
                 22  GPIO25    25  in    input     0      none  -
                 23  GPIO11    11  in    input     0      none  -
                 24  GPIO8      8  in    input     0      none  -
                 25  GND
                 26  GPIO7      7  in    input     0      none  -
                 27  GPIO0      0  in    input     0      none  -
                 28  GPIO1      1  in    input     0      none  -
                 29  GPIO5      5  in    input     0      none  -
                 30  GND
                 31  GPIO6      6  in    input     0      none  -
                 32  GPIO12    12  alt0  PWM0_0    0      none  -
                 33  GPIO13    13  in    input     0      none  -
                 34  GND
                 35  GPIO19    19  in    input     0      none  -
                 36  GPIO16    16  in    input     0      none  -
                 37  GPIO26    26  in    input     0      none  -
                 38  GPIO20    20  in    input     0      none  -
                 39  GND
                 40  GPIO21    21  in    input     0      none  -

                """)
    }

    @Test func raspberryPi4JSON() throws {
        let (r, daemon) = try pins(board: "rpi4", windows: ["gpio"], changes: Self.rpi4Changes, ["--json"])
        defer { daemon.stop() }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout == """
                {"board": "rpi4", "name": "Raspberry Pi 4 Model B / Raspberry Pi 400 / Compute Module 4", "header": "J8", "pins": [
                  {"physical": 1, "name": "3V3", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 2, "name": "5V", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 3, "name": "GPIO2", "gpio": 2, "mode": "alt0", "function": "SDA1", "level": 1, "pull": "up", "consumer": null, "problem": null},
                  {"physical": 4, "name": "5V", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 5, "name": "GPIO3", "gpio": 3, "mode": "alt0", "function": "SCL1", "level": 1, "pull": "up", "consumer": null, "problem": null},
                  {"physical": 6, "name": "GND", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 7, "name": "GPIO4", "gpio": 4, "mode": "in", "function": "input", "level": 1, "pull": "up", "consumer": null, "problem": null},
                  {"physical": 8, "name": "GPIO14", "gpio": 14, "mode": "alt0", "function": "TXD0", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 9, "name": "GND", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 10, "name": "GPIO15", "gpio": 15, "mode": "alt0", "function": "RXD0", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 11, "name": "GPIO17", "gpio": 17, "mode": "out", "function": "output", "level": 1, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 12, "name": "GPIO18", "gpio": 18, "mode": "out", "function": "output", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 13, "name": "GPIO27", "gpio": 27, "mode": "in", "function": "input", "level": 0, "pull": "down", "consumer": null, "problem": null},
                  {"physical": 14, "name": "GND", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 15, "name": "GPIO22", "gpio": 22, "mode": "alt5", "function": "SDA6", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 16, "name": "GPIO23", "gpio": 23, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 17, "name": "3V3", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 18, "name": "GPIO24", "gpio": 24, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 19, "name": "GPIO10", "gpio": 10, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 20, "name": "GND", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 21, "name": "GPIO9", "gpio": 9, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 22, "name": "GPIO25", "gpio": 25, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 23, "name": "GPIO11", "gpio": 11, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 24, "name": "GPIO8", "gpio": 8, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 25, "name": "GND", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 26, "name": "GPIO7", "gpio": 7, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 27, "name": "GPIO0", "gpio": 0, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 28, "name": "GPIO1", "gpio": 1, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 29, "name": "GPIO5", "gpio": 5, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 30, "name": "GND", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 31, "name": "GPIO6", "gpio": 6, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 32, "name": "GPIO12", "gpio": 12, "mode": "alt0", "function": "PWM0_0", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 33, "name": "GPIO13", "gpio": 13, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 34, "name": "GND", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 35, "name": "GPIO19", "gpio": 19, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 36, "name": "GPIO16", "gpio": 16, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 37, "name": "GPIO26", "gpio": 26, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 38, "name": "GPIO20", "gpio": 20, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null},
                  {"physical": 39, "name": "GND", "gpio": null, "mode": null, "function": null, "level": null, "pull": null, "consumer": null, "problem": null},
                  {"physical": 40, "name": "GPIO21", "gpio": 21, "mode": "in", "function": "input", "level": 0, "pull": "none", "consumer": null, "problem": null}
                ]}

                """)
        // And it is JSON.
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect((object?["pins"] as? [Any])?.count == 40)
    }

    @Test func raspberryPi5Table() throws {
        let (r, daemon) = try pins(
            board: "rpi5", windows: ["gpio", "rio", "pads"],
            changes: [
                "17 mode out", "17 set 1", "14 mode alt4", "15 mode alt4", "4 pull up", "4 mode in", "2 mode alt3", "3 mode alt3",
                "27 pull none", "18 mode out", "12 mode alt0",
            ])
        defer { daemon.stop() }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout == """
                J8 header of Raspberry Pi 5 / Raspberry Pi 500 / Compute Module 5 (rpi5)
                PIN  NAME    GPIO  MODE  FUNCTION    LEVEL  PULL  CONSUMER
                  1  3V3
                  2  5V
                  3  GPIO2      2  alt3  SDA1        0      down  -
                  4  5V
                  5  GPIO3      3  alt3  SCL1        0      down  -
                  6  GND
                  7  GPIO4      4  in    input       1      up    -
                  8  GPIO14    14  alt4  TXD0        0      down  -
                  9  GND
                 10  GPIO15    15  alt4  RXD0        0      down  -
                 11  GPIO17    17  out   output      1      down  -
                 12  GPIO18    18  out   output      0      down  -
                 13  GPIO27    27  none  none        0      none  -
                 14  GND
                 15  GPIO22    22  none  none        0      down  -
                 16  GPIO23    23  none  none        0      down  -
                 17  3V3
                 18  GPIO24    24  none  none        0      down  -
                 19  GPIO10    10  none  none        0      down  -
                 20  GND
                 21  GPIO9      9  none  none        0      down  -
                 22  GPIO25    25  none  none        0      down  -
                 23  GPIO11    11  none  none        0      down  -
                 24  GPIO8      8  none  none        0      down  -
                 25  GND
                 26  GPIO7      7  none  none        0      down  -
                 27  GPIO0      0  none  none        0      down  -
                 28  GPIO1      1  none  none        0      down  -
                 29  GPIO5      5  none  none        0      down  -
                 30  GND
                 31  GPIO6      6  none  none        0      down  -
                 32  GPIO12    12  alt0  PWM0_CHAN0  0      down  -
                 33  GPIO13    13  none  none        0      down  -
                 34  GND
                 35  GPIO19    19  none  none        0      down  -
                 36  GPIO16    16  none  none        0      down  -
                 37  GPIO26    26  none  none        0      down  -
                 38  GPIO20    20  none  none        0      down  -
                 39  GND
                 40  GPIO21    21  none  none        0      down  -

                """)
    }

    @Test func pinsOfAWindowNotGrantedSaySo() throws {
        // rpi5 with only the gpio window: levels and pulls live in rio and pads, so every read
        // of a pin is refused and the row says why instead of failing the whole table.
        let (r, daemon) = try pins(board: "rpi5", windows: ["gpio"], changes: [])
        defer { daemon.stop() }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\n 11  GPIO17    17  -     (outside-allowlist)\n"), "\(r.stdout)")
    }

    @Test func boardWithoutHeaderOrGPIOIsAClearError() throws {
        let (r, daemon) = try pins(board: "rpi4", windows: ["gpio"], changes: [], ["--board", "beaglebone-black"])
        defer { daemon.stop() }
        #expect(r.status == 1)
        #expect(
            r.stderr.contains(
                "board beaglebone-black (BeagleBone Black) has no [header] in its board file; boards with one: rpi1, rpi2, rpi3, rpi4, rpi5"
            ), "\(r.stderr)")
        let (none, other) = try pins(board: "rpi4", windows: ["uart0"], changes: [])
        defer { other.stop() }
        #expect(none.status == 1)
        #expect(none.stderr.contains("no GPIO window with a supported register model is granted to you"), "\(none.stderr)")
    }
    /// On a terminal (a pseudo-terminal from util-linux's `script`) the table is coloured; with
    /// NO_COLOR set, or TERM=dumb, it is not.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func colourOnATerminalOnly() throws {
        let (_, daemon) = try pins(board: "rpi4", windows: ["gpio"], changes: ["17 mode out", "17 set 1"])
        defer { daemon.stop() }
        // `env -u NO_COLOR`: the test runner's environment may carry one.
        func onTerminal(_ settings: [String]) throws -> String {
            let command = "\(productsDirectory)/iogate --socket \(daemon.socket) pins"
            return try run("/usr/bin/env", ["-u", "NO_COLOR"] + settings + ["/usr/bin/script", "-qec", command, "/dev/null"]).stdout
        }
        let coloured = try onTerminal(["TERM=xterm"])
        #expect(
            coloured.contains(" 11  GPIO17    17  \u{1B}[33mout\u{1B}[0m   output    \u{1B}[1;32m1\u{1B}[0m      none  -"), "\(coloured)")
        #expect(coloured.contains("  1  \u{1B}[1;31m3V3\u{1B}[0m"), "\(coloured)")
        for plain in [try onTerminal(["TERM=xterm", "NO_COLOR=1"]), try onTerminal(["TERM=dumb"])] {
            #expect(!plain.contains("\u{1B}["), "\(plain)")
            #expect(plain.contains(" 11  GPIO17    17  out   output    1      none  -"), "\(plain)")
        }
    }

    /// The consumer column: the lines libgpiod reports claimed on the chip that drives the window.
    @Test func consumersComeFromTheWindowsChip() throws {
        let catalog = try BoardCatalog(files: BuiltinBoards.files.map { (file: $0.name, text: $0.text) })
        let gpio = try #require(try catalog.board(id: "rpi4").window(named: "gpio"))
        let source = FakeGPIOLineSource(chips: [
            FakeGPIOLineSource.chip(name: "gpiochip0", label: "pinctrl-bcm2711", count: 58),
            FakeGPIOLineSource.chip(name: "gpiochip1", label: "raspberrypi-exp-gpio", count: 8),
        ])
        source.claim(chip: "gpiochip0", offset: 14, consumer: "serial0")
        source.claim(chip: "gpiochip0", offset: 42, consumer: nil)
        source.claim(chip: "gpiochip1", offset: 2, consumer: "led1")
        let held = GPIOChipMatcher.consumers(for: gpio, among: try source.chips())
        #expect(held == [14: "serial0", 42: "kernel"])
        #expect(GPIOChipMatcher.consumers(for: gpio, among: []) == [:])
    }
}
