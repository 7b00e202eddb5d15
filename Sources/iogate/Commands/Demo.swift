import ArgumentParser
import Glibc
import IOGate
import IOGateSystem

/// The main job on a machine with no hardware: a private iogated on a mock board (the Raspberry
/// Pi 4 unless `--board` names another with a GPIO register model).
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Start a private iogated on a mock board (default: Raspberry Pi 4), blink GPIO17 through it, and stop it (no hardware, no root).",
        discussion: "--board rpi5 shows the same on a Raspberry Pi 5, whose pins span RP1's gpio, rio and pads windows.")

    @Option(name: .long, help: "Board files adding to or overriding the built-in boards (default: $IOGATE_BOARDS, ./boards).") var boards:
        String?
    @Option(name: .long, help: "How many times to blink.") var blinks: Int = 3
    @Option(name: .long, help: "Milliseconds between level changes.") var delayMs: Int = 150
    @Option(name: .long, help: "The board to simulate: any board with a bcm2835, bcm2711, rp1 or omap GPIO block.")
    var board: String = "rpi4"

    func validate() throws {
        guard (1...100).contains(blinks) else { throw ValidationError("--blinks must be 1...100") }
        guard (0...5000).contains(delayMs) else { throw ValidationError("--delay-ms must be 0...5000") }
    }

    func run() throws {
        let boardsDir = BoardDirectory.locate(boards)
        let board = try BoardDirectory.catalog(boardsDir).board(id: self.board)
        guard let gpio = board.gpioWindows.first(where: { GPIOLayout(window: $0) != nil }), let layout = GPIOLayout(window: gpio) else {
            throw IOGateError(
                .board, "board \(board.id) has no GPIO window with a register model the mock simulates (bcm2835, bcm2711, rp1, omap)")
        }
        // The GPIO block's windows: on rp1 its RIO and pad registers are in the next two windows.
        // The grant is the header's user pins (the board's user_pins), or GPIO17 alone on a board
        // whose file names none: never the whole block.
        let span = layout.addresses(at: gpio)
        let pins = board.userPins.map { _ in "\"user\"" } ?? "[17]"
        let granted = board.windows.filter { $0.range.base <= span.upperBound && span.lowerBound <= $0.range.last }
        let dir = try makeTemporaryDirectory("iogate-demo")
        defer { try? FileSystem.removeTree(dir) }
        let socket = dir + "/iogate.sock"
        let config = dir + "/iogate.toml"
        try writeFile(
            config,
            """
            # A private daemon for the demo: the mock board, only this user, only the header's user pins.
            device = "mock"
            board = "\(board.id)"
            socket = "\(socket)"
            socket_mode = "0600"
            audit = "none"
            trace = "\(dir)/trace.log"

            [[grant]]
            uid = \(getuid())
            pins = \(pins)
            access = "rw"
            """, mode: 0o600)

        // The daemon's stderr goes to a file in the private directory, so it can never fill a pipe
        // and block; it is shown if the daemon exits before it serves.
        let log = dir + "/iogated.log"
        let daemon = try ChildProcess(
            [try DaemonExecutable.locate(), "--config", config] + (boardsDir.map { ["--boards", $0] } ?? []), stderr: .file(log))
        defer {
            if daemon.isRunning { daemon.terminate() }
            daemon.wait()
        }
        let gate = try connect(socket, daemon: daemon, log: log)

        let base = gpio.range.base
        func r(_ offset: UInt64) throws -> String { hex(try gate.read(base + offset), digits: 8) }
        func name(_ offset: UInt64) -> String { layout.registerName(at: offset) ?? hex(offset) }
        print(
            "iogate demo: \(board.name) (\(board.soc), mock), GPIO block at \(hex(base)); iogated pid \(daemon.pid) on \(socket)"
        )
        print("")
        let led = try gate.gpio(17)
        // Each register the mode change touches, as it was before and after.
        let steps = try layout.steps(selecting: .output, pin: led.pin)
        var before: [UInt64: String] = [:]
        for case .modify(let offset, _, _) in steps { before[offset] = try r(offset) }
        try led.setFunction(.output, gate)
        let field = try layout.functionField(pin: led.pin)
        for step in steps {
            switch step {
            case .modify(let offset, let mask, let value):
                let bits = field.width == 1 ? "bit \(field.shift)" : "bits \(field.shift)..\(field.shift + field.width - 1)"
                let what = mask == field.mask ? "   (\(bits) = \(binary(value >> UInt64(field.shift), field.width)): output)" : ""
                print("GPIO17 mode out    \(name(offset)) \(before[offset]!) -> \(try r(offset))\(what)")
            case .write(let offset, let value):
                print("GPIO17 mode out    \(name(offset)) <- \(hex(value, digits: 8))")
            case .pause: break
            }
        }
        let (set, clear, level) = (try layout.setBit(pin: led.pin), try layout.clearBit(pin: led.pin), try layout.levelBit(pin: led.pin))
        for i in 1...blinks {
            try led.set(true, gate)
            print(
                "blink \(i): on      \(name(set.offset)) <- \(hex(set.mask, digits: 8))       \(name(level.offset)) = \(try r(level.offset))   (bit \(level.bit) high)"
            )
            usleep(useconds_t(delayMs * 1000))
            try led.set(false, gate)
            print(
                "blink \(i): off     \(name(clear.offset)) <- \(hex(clear.mask, digits: 8))       \(name(level.offset)) = \(try r(level.offset))"
            )
            usleep(useconds_t(delayMs * 1000))
        }
        // A pin outside the grant that shares GPIO17's function register, or any other: refused by name.
        let grantedPins = Set(board.userPins ?? [17])
        let function = try layout.functionField(pin: led.pin)
        let outside =
            (0..<layout.pins).first { !grantedPins.contains($0) && (try? layout.functionField(pin: $0).offset) == function.offset }
            ?? (0..<layout.pins).first { !grantedPins.contains($0) }
        if let outside, let field = try? layout.functionField(pin: outside) {
            do {
                _ = try gate.modify(base + field.offset, mask: field.mask, value: 0)
                print("error: pin \(outside) was changed; the grant should cover only \(pins)")
                throw ExitCode(1)
            } catch let e as IOGateError {
                print("")
                print("GPIO\(outside) mode in     -> refused (\(e.code)): \(e.message)")
            }
        }
        if let other = board.window(named: "uart0") ?? board.windows.first(where: { w in !granted.contains { $0.name == w.name } }) {
            do {
                _ = try gate.read(other.range.base)
                print("error: a read of \(other.name) was allowed; the grant should cover only the GPIO block")
                throw ExitCode(1)
            } catch let e as IOGateError {
                print("")
                print("read \(other.name) at \(hex(other.range.base)) -> refused (\(e.code)): \(e.message)")
            }
        }
        daemon.terminate()
        daemon.wait()
        // The trace's records, without its header line (docs/TRACE.md).
        let records = (readTextFile(dir + "/trace.log") ?? "").split(separator: "\n").filter { !$0.hasPrefix("#") }
        print("")
        print("iogated stopped (exit \(daemon.terminationStatus)); it traced \(records.count) register accesses, e.g.:")
        for line in records.prefix(4) { print("  \(line)") }
    }

    /// `value` as `width` binary digits.
    func binary(_ value: UInt64, _ width: Int) -> String {
        let digits = String(value, radix: 2)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Waits for the daemon's socket; if the daemon exits first, shows why.
    func connect(_ socket: String, daemon: ChildProcess, log: String) throws -> IOGateClient {
        let deadline = monotonicNanoseconds() + 10_000_000_000
        while monotonicNanoseconds() < deadline {
            if !daemon.isRunning {
                let why = readTextFile(log) ?? ""
                throw IOGateError(.unreachable, "the demo's iogated exited with status \(daemon.terminationStatus): \(why)")
            }
            if FileSystem.exists(socket), let g = try? IOGateClient(socketPath: socket) { return g }
            usleep(20_000)
        }
        throw IOGateError(.unreachable, "the demo's iogated did not open \(socket) within 10 s")
    }
}
