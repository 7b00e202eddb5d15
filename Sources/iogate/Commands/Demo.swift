import ArgumentParser
import Foundation
import IOGate
import IOGateServer

/// The main job on a machine with no hardware: a private iogated on the mock Raspberry Pi 4.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a private iogated on a mock Raspberry Pi 4, blink GPIO17 through it, and stop it (no hardware, no root).")

    @Option(name: .long, help: "Board files directory (default: $IOGATE_BOARDS, install locations, ./boards).") var boards: String?
    @Option(name: .long, help: "How many times to blink.") var blinks: Int = 3
    @Option(name: .long, help: "Milliseconds between level changes.") var delayMs: Int = 150

    func validate() throws {
        guard (1...100).contains(blinks) else { throw ValidationError("--blinks must be 1...100") }
        guard (0...5000).contains(delayMs) else { throw ValidationError("--delay-ms must be 0...5000") }
    }

    func run() throws {
        let boardsDir = try BoardDirectory.locate(boards)
        let board = try BoardDirectory.catalog(boardsDir).board(id: "rpi4")
        guard let gpio = board.window(named: "gpio") else { throw IOGateError(.board, "board rpi4 has no gpio window") }
        let dir = try makeTemporaryDirectory("iogate-demo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/iogate.sock"
        let config = dir + "/iogate.toml"
        try """
        # A private daemon for the demo: the mock board, only this user, only the GPIO block.
        device = "mock"
        board = "rpi4"
        socket = "\(socket)"
        socket_mode = "0600"
        audit = "none"
        trace = "\(dir)/trace.log"

        [[grant]]
        uid = \(getuid())
        windows = ["gpio"]
        access = "rw"
        """.write(toFile: config, atomically: false, encoding: .utf8)
        chmod(config, 0o600)

        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: siblingExecutable("iogated"))
        daemon.arguments = ["--config", config, "--boards", boardsDir]
        let log = Pipe()
        daemon.standardError = log
        try daemon.run()
        defer {
            if daemon.isRunning { daemon.terminate() }
            daemon.waitUntilExit()
        }
        let gate = try connect(socket, daemon: daemon, log: log)

        let base = gpio.range.base
        let (gpfsel1, gplev0) = (base + 0x04, base + 0x34)
        func r(_ a: UInt64) throws -> String { hex(try gate.read(a), digits: 8) }
        print(
            "iogate demo: \(board.name) (\(board.soc), mock), GPIO block at \(hex(base)); iogated pid \(daemon.processIdentifier) on \(socket)"
        )
        print("")
        let led = try gate.gpio(17)
        let before = try r(gpfsel1)
        try led.setFunction(.output, gate)
        print("GPIO17 mode out    GPFSEL1 \(before) -> \(try r(gpfsel1))   (bits 21..23 = 001: output)")
        let bit = hex(try led.layout.setBit(pin: 17).mask, digits: 8)
        for i in 1...blinks {
            try led.set(true, gate)
            print("blink \(i): on      GPSET0 <- \(bit)       GPLEV0 = \(try r(gplev0))   (bit 17 high)")
            usleep(useconds_t(delayMs * 1000))
            try led.set(false, gate)
            print("blink \(i): off     GPCLR0 <- \(bit)       GPLEV0 = \(try r(gplev0))")
            usleep(useconds_t(delayMs * 1000))
        }
        if let uart = board.window(named: "uart0") {
            do {
                _ = try gate.read(uart.range.base)
                print("error: a read of uart0 was allowed; the grant should cover only the GPIO block")
                throw ExitCode(1)
            } catch let e as IOGateError {
                print("")
                print("read uart0 at \(hex(uart.range.base)) -> refused (\(e.code)): \(e.message)")
            }
        }
        daemon.terminate()
        daemon.waitUntilExit()
        let trace = (try? String(contentsOfFile: dir + "/trace.log", encoding: .utf8)) ?? ""
        print("")
        print(
            "iogated stopped (exit \(daemon.terminationStatus)); it traced \(trace.split(separator: "\n").count) register accesses, e.g.:")
        for line in trace.split(separator: "\n").prefix(4) { print("  \(line)") }
    }

    /// Waits for the daemon's socket; if the daemon exits first, shows why.
    func connect(_ socket: String, daemon: Process, log: Pipe) throws -> IOGateClient {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if !daemon.isRunning {
                let why = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw IOGateError(.unreachable, "the demo's iogated exited with status \(daemon.terminationStatus): \(why)")
            }
            if FileManager.default.fileExists(atPath: socket), let g = try? IOGateClient(socketPath: socket) { return g }
            usleep(20_000)
        }
        throw IOGateError(.unreachable, "the demo's iogated did not open \(socket) within 10 s")
    }
}

/// The path of another executable installed beside this one (iogate and iogated ship together).
func siblingExecutable(_ name: String) -> String {
    let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
}

/// A new private (0700) directory `/tmp/<prefix>-XXXXXX`; the caller removes it.
func makeTemporaryDirectory(_ prefix: String) throws -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw IOGateError(.system, "cannot create a temporary directory in /tmp: \(String(cString: strerror(errno)))")
    }
    return String(cString: made)
}
