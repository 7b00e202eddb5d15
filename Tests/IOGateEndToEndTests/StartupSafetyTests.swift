import Foundation
import Glibc
import IOGateTestSupport
import Testing

/// What the root daemon opens or inherits at start is checked before it is used: the trace file
/// (another user must not be able to redirect the root daemon's writes) and a socket passed by
/// systemd.
@Suite struct StartupSafetyTests {
    func config(trace: String, dir: TempDir) -> String {
        """
        device = "mock"
        board = "rpi4"
        socket = "\(dir.file("s.sock"))"
        trace = "\(trace)"
        [[grant]]
        uid = 0
        windows = ["gpio"]
        access = "rw"
        """
    }

    /// Runs `iogated` on `text` (mode 0600) and returns its result; `environment` is added.
    func startDaemon(_ text: String, dir: TempDir, python: String? = nil) throws -> Run {
        let path = dir.file("iogate.toml")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
        let daemon = [productsDirectory + "/iogated", "--config", path, "--boards", repositoryRoot + "/boards"]
        guard let python else { return try run(daemon[0], Array(daemon.dropFirst()) + ["--check"]) }
        // The python prologue puts something on fd 3, sets LISTEN_* for its own pid, and execs.
        let script =
            python + "\nimport os, sys\nos.set_inheritable(3, True)\n"
            + "os.execve(sys.argv[1], sys.argv[1:], dict(os.environ, LISTEN_FDS='1', LISTEN_PID=str(os.getpid())))\n"
        return try run("/usr/bin/python3", ["-c", script] + daemon)
    }

    @Test func traceSymlinkPlantedByAnotherUserIsNotFollowed() throws {
        let dir = TempDir()
        let victim = dir.file("victim")
        try "secret\n".write(toFile: victim, atomically: false, encoding: .utf8)
        chmod(victim, 0o600)
        symlink(victim, dir.file("trace.log"))
        let r = try startDaemon(config(trace: dir.file("trace.log"), dir: dir), dir: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("symbolic link"), "\(r.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "secret\n")
    }

    @Test func traceInADirectoryOthersCanWriteIsRefused() throws {
        let dir = TempDir()
        let shared = dir.file("shared")
        mkdir(shared, 0o777)
        chmod(shared, 0o1777)  // like /tmp: world-writable and sticky
        let r = try startDaemon(config(trace: shared + "/trace.log", dir: dir), dir: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("its directory \(shared) is writable by group or others"), "\(r.stderr)")
        #expect(access(shared + "/trace.log", F_OK) != 0, "the refused trace file was created")
    }

    @Test func traceThatIsAFIFOIsRefusedWithoutBlocking() throws {
        let dir = TempDir()
        mkfifo(dir.file("trace.log"), 0o600)
        let r = try startDaemon(config(trace: dir.file("trace.log"), dir: dir), dir: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("trace"), "\(r.stderr)")
    }

    @Test func traceInAPrivateDirectoryWorks() throws {
        let dir = TempDir()
        let r = try startDaemon(config(trace: dir.file("trace.log"), dir: dir), dir: dir)
        #expect(r.status == 0, "\(r.stderr)")
    }

    /// fd 3 from "systemd" is a regular file, a datagram socket, a stream socket that is not
    /// listening, and a TCP socket: each is a clear start-up error, never a hang or a crash.
    @Test(arguments: [
        ("regular file", "f = open('/dev/null', 'rb')\nos.dup2(f.fileno(), 3)"),
        ("datagram socket", "import socket\ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\nos.dup2(s.fileno(), 3)"),
        ("not listening", "import socket\ns = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\nos.dup2(s.fileno(), 3)"),
        (
            "tcp",
            "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\ns.bind(('127.0.0.1', 0))\n"
                + "s.listen(1)\nos.dup2(s.fileno(), 3)"
        ),
    ])
    func systemdSocketThatIsNotAListeningUnixStreamIsRefused(_ kind: String, _ prologue: String) throws {
        let dir = TempDir()
        let text = """
            device = "mock"
            board = "rpi4"
            socket = "\(dir.file("s.sock"))"
            [[grant]]
            uid = 0
            windows = ["gpio"]
            access = "rw"
            """
        let r = try startDaemon(text, dir: dir, python: "import os\n" + prologue)
        #expect(r.status == 1, "\(kind): \(r.stderr)")
        #expect(r.stderr.contains("needs a listening AF_UNIX stream socket"), "\(kind): \(r.stderr)")
    }
}
