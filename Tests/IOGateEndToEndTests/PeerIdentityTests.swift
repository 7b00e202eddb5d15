import Foundation
import Glibc
import IOGateTestSupport
import Testing

/// The daemon identifies a client by what the kernel recorded when it connected, never by
/// `/proc/<pid>` later: a process that connects, passes its socket on and exits must not be served
/// with the groups of whichever process takes its pid before the daemon accepts the connection.
@Suite(.serialized)
struct PeerIdentityTests {
    /// The reuse scenario, step by step (python3 does the forking; the daemon is the real one):
    /// the daemon is stopped so the connection waits in the backlog; a uid-65534 child with no
    /// groups connects, hands its socket to the parent over SCM_RIGHTS and exits; `ns_last_pid`
    /// is set so the next fork gets the same pid, and that process becomes uid 1234 with group
    /// 4242; the daemon continues and the parent asks, on the old socket, for its windows.
    static let script = #"""
        import os, socket, struct, sys, time
        sock_path, daemon_pid = sys.argv[1], int(sys.argv[2])

        def frame(opcode, ident, body=b""):
            return struct.pack("<IBBHI", 8 + len(body), opcode, 0, 0, ident) + body

        def recv_frame(s):
            head = b""
            while len(head) < 4:
                chunk = s.recv(4 - len(head))
                if not chunk: return None
                head += chunk
            (n,) = struct.unpack("<I", head)
            body = b""
            while len(body) < n:
                chunk = s.recv(n - len(body))
                if not chunk: return None
                body += chunk
            return body

        for attempt in range(20):
            os.kill(daemon_pid, 19)  # SIGSTOP: the connection stays unaccepted
            parent, child_end = socket.socketpair()
            pid = os.fork()
            if pid == 0:
                os.setgroups([]); os.setgid(65534); os.setuid(65534)
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(sock_path)
                socket.send_fds(child_end, [b"x"], [c.fileno()])
                os._exit(0)
            _, fds, _, _ = socket.recv_fds(parent, 1, 1)
            os.waitpid(pid, 0)
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(pid - 1))
            r, w = os.pipe()
            impostor = os.fork()
            if impostor == 0:
                os.setgroups([4242]); os.setgid(1234); os.setuid(1234)
                os.write(w, b"1")
                time.sleep(5)
                os._exit(0)
            os.read(r, 1)
            if impostor != pid:  # another process took the pid first: try again
                os.kill(impostor, 9); os.waitpid(impostor, 0)
                os.kill(daemon_pid, 18)
                os.close(fds[0])
                continue
            os.kill(daemon_pid, 18)  # SIGCONT: now the daemon accepts and identifies the client
            s = socket.socket(fileno=fds[0])
            s.sendall(frame(0x01, 1, struct.pack("<IHH", 0x54474F49, 1, 1)))
            hello = recv_frame(s)
            if hello is None:
                print("closed"); break
            s.sendall(frame(0x02, 2))
            body = recv_frame(s)
            count = struct.unpack_from("<I", body, 8)[0]
            bases, off = [], 12
            for _ in range(count):
                base, length, access, name_len = struct.unpack_from("<QQBB", body, off)
                off += 18 + name_len
                model_len = body[off]; off += 1 + model_len + 2
                bases.append(hex(base))
            print("pid-reused windows:", " ".join(bases) if bases else "none")
            os.kill(impostor, 9); os.waitpid(impostor, 0)
            break
        else:
            print("could not reuse the pid")
        """#

    @Test func groupsComeFromTheKernelAtConnectTimeNotFromAReusedPid() throws {
        let dir = TempDir()
        let memory = makeSparseFile(dir.file("mem.img"), size: 0x10000)
        let daemon = try DaemonProcess(
            config: """
                device = "\(memory)"
                socket = "@SOCKET@"
                socket_mode = "0666"
                audit = "none"
                [[grant]]
                gid = 4242
                IoBase = [0x1000]
                IoLen = [0x100]
                access = "rw"
                [[grant]]
                uid = 65534
                IoBase = [0x2000]
                IoLen = [0x100]
                access = "ro"
                """, dir: dir)
        defer { daemon.stop() }
        let scriptPath = dir.file("reuse.py")
        try Self.script.write(toFile: scriptPath, atomically: false, encoding: .utf8)
        let r = try run("/usr/bin/python3", [scriptPath, daemon.socket, "\(daemon.pid)"])
        #expect(r.status == 0, "\(r.stderr)")
        // The client that connected was uid 65534 with no groups: it sees only its own range.
        #expect(r.stdout == "pid-reused windows: 0x2000\n", "\(r.stdout) \(r.stderr)")
    }
}
