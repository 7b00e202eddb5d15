import ArgumentParser
import Glibc
import IOGate
import IOGateSystem

/// `iogate replay TRACE -- PROGRAM ARGS...`: runs PROGRAM against a private iogated whose registers
/// answer from a recorded trace (`device = "replay:TRACE"`, docs/TRACE.md), so a program recorded on
/// the board can be checked in CI with no hardware.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a program against a private iogated that replays a recorded trace; fail when its register accesses differ.",
        discussion: """
            Record on the board with trace = "PATH" in iogated's configuration, then run the same program \
            here: iogate replay PATH -- PROGRAM ARGS... Reads return the recorded values in order, writes \
            are checked against the recording. The program finds the daemon through IOGATE_SOCKET. The \
            first access that differs (or comes after the last record) fails that request, with the trace \
            line; at the end, recorded accesses never made are reported too.
            Exit status: the program's, or 1 when the replay diverged or was not used up.
            """)

    @Option(name: .long, help: "The board to replay on (default: the one the trace's header names).") var board: String?
    @Option(name: .long, help: "Board files adding to or overriding the built-in boards (default: $IOGATE_BOARDS, ./boards).")
    var boards: String?
    @Argument(help: "The trace file.") var trace: String
    @Argument(parsing: .postTerminator, help: "The program and its arguments, after --.") var program: [String] = []

    func validate() throws {
        guard !program.isEmpty else { throw ValidationError("name the program to run after --: iogate replay TRACE -- PROGRAM ARGS...") }
    }

    func run() throws {
        let path = trace.hasPrefix("/") ? trace : (FileSystem.currentDirectory() ?? ".") + "/" + trace
        guard let text = readTextFile(path) else {
            throw IOGateError(.notFound, "cannot read the trace \(trace): \(Errno.text(errno))")
        }
        let boardsDir = BoardDirectory.locate(boards)
        let catalog = try BoardDirectory.catalog(boardsDir)
        let boardID = board ?? Self.headerBoard(text)
        let board = try boardID.map { id throws(IOGateError) in try catalog.board(id: id) }
        // Checked here too, so a bad trace is reported before any process starts.
        let parsed = try Trace.parse(text: text, file: trace, board: board)

        let dir = try makeTemporaryDirectory("iogate-replay")
        defer { try? FileSystem.removeTree(dir) }
        let socket = dir + "/iogate.sock"
        let config = dir + "/iogate.toml"
        try writeFile(config, Self.config(trace: path, board: board, trace: parsed, socket: socket), mode: 0o600)
        let log = dir + "/iogated.log"
        let daemon = try ChildProcess(
            [try DaemonExecutable.locate(), "--config", config] + (boardsDir.map { ["--boards", $0] } ?? []), stderr: .file(log))
        defer {
            if daemon.isRunning { daemon.terminate() }
            daemon.wait()
        }
        try waitForSocket(socket, daemon: daemon, log: log)

        setenv("IOGATE_SOCKET", socket, 1)
        let executable = program[0].contains("/") ? program[0] : DaemonExecutable.findInPath(program[0])
        guard let executable else { throw IOGateError(.notFound, "program '\(program[0])' is not in PATH") }
        let child = try ChildProcess([executable] + program.dropFirst())
        let status = child.wait()

        daemon.terminate()
        daemon.wait()
        let lines = (readTextFile(log) ?? "").split(separator: "\n")
        let verdict = lines.last { $0.hasPrefix("iogated: replay ") }
        if daemon.terminationStatus != 0 {
            let why =
                verdict.map { String($0.dropFirst("iogated: ".count)) }
                ?? "iogated exited with status \(daemon.terminationStatus): \(lines.suffix(3).joined(separator: "; "))"
            writeStandardError("iogate replay: \(why)\n")
            throw ExitCode(1)
        }
        if let verdict { writeStandardError("iogate replay: \(verdict.dropFirst("iogated: ".count))\n") }
        if status != 0 { throw ExitCode(status) }
    }

    /// The `board=` of a trace's header line, if it has one.
    static func headerBoard(_ text: String) -> String? {
        let first = text.prefix { $0 != "\n" }
        guard first.hasPrefix(TraceFormat.magic) else { return nil }
        return first.split(separator: " ").first { $0.hasPrefix("board=") }.map { String($0.dropFirst(6)) }
    }

    /// The private daemon's configuration: the replay backend, this user granted every window of
    /// the board and every raw range the trace touches.
    static func config(trace path: String, board: Board?, trace: Trace, socket: String) -> String {
        var text = """
            # A private daemon for iogate replay.
            device = "replay:\(path)"
            \(board.map { "board = \"\($0.id)\"" } ?? "")
            socket = "\(socket)"
            socket_mode = "0600"
            audit = "none"

            """
        if let board {
            text += """
                [[grant]]
                uid = \(getuid())
                windows = [\(board.windows.map { "\"\($0.name)\"" }.joined(separator: ", "))]
                access = "rw"

                """
        }
        // Places recorded as 0xBASE+0xOFFSET: ranges granted outside the board's windows.
        var raw: [UInt64: UInt64] = [:]
        for r in trace.records where r.label.hasPrefix("0x") {
            guard let base = parseInteger(r.label.prefix { $0 != "+" }) else { continue }
            raw[base] = max(raw[base] ?? 0, r.address - base + UInt64(r.width.bytes))
        }
        if !raw.isEmpty {
            let bases = raw.keys.sorted()
            text += """
                [[grant]]
                uid = \(getuid())
                IoBase = [\(bases.map { hex($0) }.joined(separator: ", "))]
                IoLen = [\(bases.map { hex(raw[$0]!) }.joined(separator: ", "))]
                access = "rw"

                """
        }
        return text
    }

    /// Waits for the daemon's socket; if the daemon exits first, shows why.
    func waitForSocket(_ socket: String, daemon: ChildProcess, log: String) throws {
        let deadline = monotonicNanoseconds() + 10_000_000_000
        while monotonicNanoseconds() < deadline {
            if !daemon.isRunning {
                let why = readTextFile(log) ?? ""
                throw IOGateError(.unreachable, "the replay's iogated exited with status \(daemon.terminationStatus): \(why)")
            }
            if FileSystem.exists(socket), (try? IOGateClient(socketPath: socket)) != nil { return }
            usleep(20_000)
        }
        throw IOGateError(.unreachable, "the replay's iogated did not open \(socket) within 10 s")
    }
}
