import Foundation
import Glibc
import IOGate
import IOGateTestSupport
import Testing

/// The pigpio frontend driven by Debian's real pigpio clients: `pigs` (pigpio-tools), the Python
/// module `pigpio` and gpiozero's `PiGPIOFactory` (python3-pigpio, python3-gpiozero), against
/// `iogated` on the mock Raspberry Pi 4. After each step the simulated registers are read back
/// through the native client, as a second identity.
///
/// "A pin outside the grant": the grant unit is a range, so the pigpio account (`nobody`) gets
/// IoBase/IoLen ranges covering only GPFSEL0-1 (pins 0-19), GPSET0, GPCLR0 and the pull registers
/// read-write, and GPLEV0-1 read-only. Pins 0-19 are then fully writable; pin 27's function
/// register (GPFSEL2) is not granted, so every command that would change pin 27 is refused with
/// PI_NOT_PERMITTED (-41), while reading any pin's level works.
@Suite(.serialized)
final class PigpioEndToEndTests {
    let dir = TempDir()
    let port: UInt16
    let daemon: DaemonProcess
    var trace: String { dir.file("trace.log") }

    init() throws {
        try requirePigpioClients()
        port = try freeLoopbackPort()
        daemon = try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi4"
                socket = "@SOCKET@"
                socket_mode = "0666"
                trace = "@DIR@/trace.log"
                audit = "none"
                pigpio_listen = "127.0.0.1:\(port)"
                pigpio_as = "nobody"
                [[grant]]
                user = "nobody"
                IoBase = [0xFE200000, 0xFE20001C, 0xFE200028, 0xFE2000E4]
                IoLen  = [0x8, 0x4, 0x4, 0x10]
                access = "rw"
                [[grant]]
                user = "nobody"
                IoBase = [0xFE200034]
                IoLen  = [0x8]
                access = "ro"
                [[grant]]
                uid = \(getuid())
                windows = ["gpio"]
                access = "rw"
                """, dir: dir)
    }

    deinit { daemon.stop() }

    var env: [String: String] { ["PIGPIO_ADDR": "127.0.0.1", "PIGPIO_PORT": "\(port)"] }

    func pigs(_ args: String...) throws -> Run { try run("/usr/bin/pigs", args, environment: env) }

    func reg(_ offset: UInt64) throws -> UInt64 { try daemon.client().read(0xFE20_0000 + offset) }

    @Test func pigsModeWriteReadAndRefusal() throws {
        #expect(try pigs("m", "17", "w").status == 0)
        #expect(try reg(0x04) == 0x0020_0000)  // GPFSEL1: GPIO17 = 001 (output)
        #expect(try pigs("w", "17", "1").status == 0)
        #expect(try reg(0x34) == 0x0002_0000)  // GPLEV0 bit 17
        #expect(try pigs("r", "17").stdout == "1\n")
        #expect(try pigs("br1").stdout == "00020000\n")
        #expect(try pigs("mg", "17").stdout == "1\n")
        #expect(try pigs("w", "17", "0").status == 0)
        #expect(try reg(0x34) == 0)
        #expect(try pigs("bs1", "0x20000").status == 0)
        #expect(try reg(0x34) == 0x0002_0000)
        #expect(try pigs("bc1", "0x20000").status == 0)
        #expect(try reg(0x34) == 0)

        // Pin 27 is outside the grant: its GPFSEL2 is not granted.
        let refused = try pigs("w", "27", "1")
        #expect(refused.status != 0)
        #expect(refused.stdout == "-41\n", "\(refused.stdout)")
        #expect(refused.stderr.contains("no permission to update GPIO"), "\(refused.stderr)")
        #expect(try pigs("m", "27", "w").stdout == "-41\n")
        // A bank write naming pin 27 sets pin 17 only and answers PI_SOME_PERMITTED, as pigpiod
        // does for a mask partly outside its update mask.
        #expect(try pigs("bs1", "0x8020000").stdout == "-42\n")
        #expect(try reg(0x34) == 0x0002_0000)
        #expect(try reg(0x08) == 0)  // GPFSEL2 untouched
        #expect(try pigs("bc1", "0x8020000").stdout == "-42\n")
        #expect(try reg(0x34) == 0)
        // Reading pin 27's level is granted (GPLEV0 read-only).
        #expect(try pigs("r", "27").stdout == "0\n")

        #expect(try pigs("hwver").stdout == "\(0xc03111)\n")  // Pi 4 B 4 GB rev 1.1
        #expect(try pigs("pigpv").stdout == "79\n")
        #expect(try pigs("r", "58").stdout == "-3\n")  // PI_BAD_GPIO: the BCM2711 has 58 pins
        #expect(try pigs("pwm", "17", "10").stdout == "-88\n")  // PI_UNKNOWN_COMMAND
        let t1 = UInt32(try pigs("t").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        usleep(20_000)
        let t2 = UInt32(try pigs("t").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect((t2 &- t1) >= 20_000 && (t2 &- t1) < 5_000_000, "ticks \(t1) -> \(t2)")

        // Every pigpio write went through the ClientAccess as the pigpio_as identity.
        #expect(procText(trace).contains("W gpio+0x1C 32 0x00020000 uid=65534 pid=0"), "\(procText(trace).suffix(600))")
    }

    /// A stock client polling wave status (`while (wave_tx_busy(pi)) time_sleep(0.1);`) must see
    /// pigpio's idle answers, not -88, or it spins forever; a command that would act stays -88.
    @Test func waveStatusQueriesAnswerIdleAndWaveCommandsStayUnknown() throws {
        #expect(try pigs("wvbsy").stdout == "0\n")
        #expect(try pigs("wvtat").stdout == "9999\n")
        let act = try pigs("wvcre")
        #expect(act.status != 0 && act.stdout == "-88\n", "\(act.stdout)")
    }

    @Test func pythonPigpioAndGpiozero() throws {
        // On the silicon GPIO0-8 come out of reset pulled up (BCM2711 datasheet, "GPIO pads
        // control": default pull state), so a button on GPIO6 reads 1 before anyone configures it.
        // The mock starts with no pulls; set this one as the chip would. It matters: pigpio.py
        // takes its "last level" from BR1 when it connects and fires a callback only for bits that
        // differ from it, exactly as against pigpiod.
        _ = try daemon.client().modify(0xFE20_00E4, mask: 0b11 << 12, value: 0b01 << 12)
        let script = dir.file("client.py")
        try pigpioPythonClient.write(toFile: script, atomically: false, encoding: .utf8)
        let py = try Interactive("/usr/bin/python3", [script, "127.0.0.1", "\(port)"])
        defer { py.finish() }

        #expect(try py.step() == "connected True 12595473 79")
        #expect(try py.step() == "write17 1")
        #expect(try reg(0x04) == 0x0020_0000)
        #expect(try reg(0x34) == 0x0002_0040)  // GPIO17 driven high; GPIO6 pulled up

        #expect(try py.step() == "led-on True")
        #expect(try reg(0x00) == 0b001 << 12)  // GPFSEL0: GPIO4 output
        #expect(try reg(0x34) == 0x0002_0050)
        #expect(try py.step() == "led-off False")
        #expect(try reg(0x34) == 0x0002_0040)

        // Button(6) pulls up: input, pull field = 01 (BCM2711 up), level 1, not pressed.
        #expect(try py.step() == "button False")
        #expect(try reg(0x00) & (0b111 << 18) == 0)
        #expect(try reg(0xE4) & (0b11 << 12) == 0b01 << 12)
        #expect(try reg(0x34) & (1 << 6) != 0)
        // "Press" it: another client switches the pull to down, so the input reads 0; gpiozero
        // hears of it through an in-band notification (NOIB/NB).
        _ = try daemon.client().modify(0xFE20_00E4, mask: 0b11 << 12, value: 0b10 << 12)
        #expect(try py.step() == "pressed True True")

        #expect(try py.step() == "refused ValueError 'no permission to update GPIO'")
        #expect(try reg(0x08) == 0)
        #expect(try py.step() == "done")
    }

    @Test func nonLoopbackWithoutOptInIsRefused() {
        let (status, err) = daemonRefusal(
            config: """
                device = "mock"
                board = "rpi4"
                socket = "@SOCKET@"
                pigpio_listen = "0.0.0.0:8888"
                pigpio_as = "nobody"
                [[grant]]
                user = "nobody"
                windows = ["gpio"]
                access = "rw"
                """)
        #expect(status == 1)
        #expect(err.contains("iogate.toml:4: 'pigpio_listen' is 0.0.0.0:8888, which other machines can reach"), "\(err)")
    }
}

/// The Python client (for the Pi 4 here and the Pi 5 in PigpioRP1EndToEndTests): each step prints
/// one line, then waits for a line on stdin, so the test can check the registers between steps.
let pigpioPythonClient = #"""
    import sys, threading
    import pigpio
    from gpiozero import LED, Button
    from gpiozero.pins.pigpio import PiGPIOFactory

    host, port = sys.argv[1], int(sys.argv[2])

    def step(*words):
        print(*words, flush=True)
        sys.stdin.readline()

    pi = pigpio.pi(host, port)
    step("connected", pi.connected, pi.get_hardware_revision(), pi.get_pigpio_version())
    pi.set_mode(17, pigpio.OUTPUT)
    pi.write(17, 1)
    step("write17", pi.read(17))

    factory = PiGPIOFactory(host=host, port=port)
    led = LED(4, pin_factory=factory)
    led.on()
    step("led-on", led.is_lit)
    led.off()
    step("led-off", led.is_lit)

    pressed = threading.Event()
    button = Button(6, pin_factory=factory)
    button.when_pressed = pressed.set
    step("button", button.is_pressed)
    step("pressed", pressed.wait(5), button.is_pressed)

    try:
        LED(27, pin_factory=factory)
        step("refused", "no")
    except Exception as e:
        step("refused", type(e).__name__, e)
    step("done")
    """#

/// Fails (never skips) when the Debian packages the tests need are missing.
func requirePigpioClients() throws {
    struct Missing: Error, CustomStringConvertible { var description: String }
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/pigs") else {
        throw Missing(description: "/usr/bin/pigs is missing: install pigpio-tools (scripts/setup.sh)")
    }
    let r = try run("/usr/bin/python3", ["-c", "import pigpio, gpiozero.pins.pigpio"])
    guard r.status == 0 else {
        throw Missing(
            description:
                "/usr/bin/python3 cannot import pigpio and gpiozero: install python3-pigpio python3-gpiozero (scripts/setup.sh): \(r.stderr)"
        )
    }
}

/// A loopback TCP port that was free a moment ago (bind port 0, read it, close).
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    struct NoPort: Error {}
    guard ok else { throw NoPort() }
    return UInt16(bigEndian: addr.sin_port)
}

/// A child process driven a line at a time: `step()` reads its next stdout line (10 s at most),
/// then answers with a newline so it goes on.
final class Interactive {
    let process = Process()
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    var buffer: [UInt8] = []
    var answered = true

    init(_ program: String, _ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = args
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
    }

    struct StepFailed: Error, CustomStringConvertible { var description: String }

    func step() throws -> String {
        if !answered { stdin.fileHandleForWriting.write(Data("\n".utf8)) }
        answered = false
        let fd = stdout.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(10)
        while !buffer.contains(10) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            var chunk = [UInt8](repeating: 0, count: 4096)
            guard left > 0, poll(&p, 1, left) > 0 else { throw StepFailed(description: "no line within 10 s; stderr: \(errText())") }
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else {
                throw StepFailed(
                    description: "the client exited; stdout so far \(String(decoding: buffer, as: UTF8.self)); stderr: \(errText())")
            }
            buffer += chunk[0..<n]
        }
        let i = buffer.firstIndex(of: 10)!
        let line = String(decoding: buffer[..<i], as: UTF8.self)
        buffer.removeSubrange(...i)
        return line
    }

    func errText() -> String {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    func finish() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning {
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { process.terminate() }
        }
        process.waitUntilExit()
    }
}
