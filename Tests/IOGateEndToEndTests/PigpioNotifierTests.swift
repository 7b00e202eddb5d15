import Foundation
import Glibc
import IOGateTestSupport
import Testing

/// pigpio in-band notifications under misbehaving clients: one that stops reading must not stall
/// the others (the poller never blocks on a socket), and handles that come and go while native
/// clients connect must never send a report into another connection's stream.
@Suite(.serialized)
final class PigpioNotifierTests {
    let dir = TempDir()
    let port: UInt16
    let daemon: DaemonProcess

    init() throws {
        try requirePigpioClients()
        port = try freeLoopbackPort()
        daemon = try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi4"
                socket = "@SOCKET@"
                socket_mode = "0666"
                audit = "none"
                pigpio_listen = "127.0.0.1:\(port)"
                pigpio_as = "root"
                [[grant]]
                uid = 0
                windows = ["gpio"]
                access = "rw"
                """, dir: dir)
    }

    deinit { daemon.stop() }

    /// Raw pigpio socket protocol: 16-byte commands (cmd, p1, p2, p3), 16-byte replies with the
    /// result in the last word, 12-byte reports on a NOIB connection.
    static let common = #"""
        import socket, struct, sys, threading, time
        port = int(sys.argv[1])
        def conn(rcvbuf=None):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf: s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.connect(("127.0.0.1", port))
            return s
        def cmd(s, c, p1=0, p2=0):
            s.sendall(struct.pack("<IIII", c, p1, p2, 0))
            r = b""
            while len(r) < 16:
                chunk = s.recv(16 - len(r))
                if not chunk: raise SystemExit("closed")
                r += chunk
            return struct.unpack("<IIIi", r)[3]
        NOIB, NB, MODES, WRITE = 99, 19, 0, 4

        """#

    static let stuckScript =
        common + #"""
            ctl = conn()
            assert cmd(ctl, MODES, 17, 1) == 0
            stuck = conn(rcvbuf=1024)  # never read again after its handle
            hs = cmd(stuck, NOIB)
            good = conn()
            hg = cmd(good, NOIB)
            assert cmd(ctl, NB, hs, 1 << 17) == 0 and cmd(ctl, NB, hg, 1 << 17) == 0
            times = []
            def reader():
                buf = b""
                while True:
                    chunk = good.recv(4096)
                    if not chunk: return
                    buf += chunk
                    while len(buf) >= 12:
                        buf = buf[12:]
                        times.append(time.monotonic())
            threading.Thread(target=reader, daemon=True).start()
            start = time.monotonic()
            level = 0
            while time.monotonic() - start < 8:
                level ^= 1
                cmd(ctl, WRITE, 17, level)
                time.sleep(0.002)
            end = time.monotonic()
            time.sleep(0.1)
            print(len(times), sum(1 for t in times if t > end - 1.0))
            """#

    @Test func aClientThatStopsReadingDoesNotStallTheOthers() throws {
        let script = dir.file("stuck.py")
        try Self.stuckScript.write(toFile: script, atomically: false, encoding: .utf8)
        let r = try run("/usr/bin/python3", [script, "\(port)"])
        #expect(r.status == 0, "\(r.stderr)")
        let counts = r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        #expect(counts.count == 2, "\(r.stdout)")
        // Hundreds of level changes a second for 8 s: the stuck client's 32 KiB send buffer fills
        // within a few seconds (then the old poller blocked for good), and the reading client
        // keeps hearing changes to the end (a loaded machine polls less often: no exact count).
        #expect((counts.first ?? 0) > 200, "\(r.stdout)")
        #expect((counts.last ?? 0) > 10, "the reading client heard nothing in the last second: \(r.stdout)")
    }

    static let churnScript =
        common + #"""
            import os
            sock_path = sys.argv[2]
            ctl = conn()
            assert cmd(ctl, MODES, 17, 1) == 0
            stop = False
            def toggle():
                level = 0
                while not stop:
                    level ^= 1
                    cmd(ctl, WRITE, 17, level)
                    time.sleep(0.0005)
            threading.Thread(target=toggle, daemon=True).start()
            bad = 0
            for i in range(300):
                n = conn()
                h = cmd(n, NOIB)
                cmd(ctl, NB, h, 1 << 17)
                time.sleep(0.001)
                n.close()  # its descriptor number is free for the next client
                # A native client: hello then windows; any stray 12-byte report breaks its framing.
                u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                u.connect(sock_path)
                u.sendall(struct.pack("<IBBHIIHH", 16, 1, 0, 0, 1, 0x54474F49, 1, 1))
                hdr = u.recv(12, socket.MSG_WAITALL)
                length, op, flags, status, ident = struct.unpack("<IBBHI", hdr)
                body = u.recv(length - 8, socket.MSG_WAITALL)
                if op != 1 or flags != 1 or status != 0 or ident != 1 or len(body) != 16:
                    bad += 1
                u.close()
            stop = True
            print("bad", bad)
            """#

    @Test func handlesClosingWhileNativeClientsConnectNeverCrossStreams() throws {
        let script = dir.file("churn.py")
        try Self.churnScript.write(toFile: script, atomically: false, encoding: .utf8)
        let r = try run("/usr/bin/python3", [script, "\(port)", daemon.socket])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "bad 0\n", "\(r.stdout)")
    }
}
