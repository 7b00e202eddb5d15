import Foundation
import Glibc
import IOGateCore
import IOGateProtocol
import IOGateSystem
import IOGateTestSupport
import Testing

@testable import IOGateServer

/// `Session`'s framing, driven through one end of a socket pair inside this process: pipelining,
/// frames split across writes, and the cases PROTOCOL.md §8 says close the connection.
@Suite(.serialized)
final class SessionFramingTests {
    static let gplev0: UInt64 = 0xFE20_0034
    let dir = TempDir()
    let daemon: Daemon

    init() throws {
        let config = try inProcessConfig(
            board: "rpi4", socket: dir.file("f.sock"),
            grants: """
                [[grant]]
                uid = \(getuid())
                windows = ["gpio"]
                access = "rw"
                """)
        daemon = try Daemon(config: config, boards: BoardCatalog.builtin(), logger: CollectingLog().logger)
        try daemon.start()
    }

    deinit { daemon.stop() }

    /// A session on one end of a socket pair, served on its own thread; returns the other end.
    func connect() -> Int32 {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let served = fds[0]
        let daemon = daemon
        Thread.detachNewThread {
            Session(fd: served, client: ClientIdentity(uid: getuid(), gid: getgid(), pid: getpid()), daemon: daemon).run()
            close(served)
        }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fds[1], SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fds[1]
    }

    func frames(_ requests: [(Request, UInt32)]) -> [UInt8] {
        requests.flatMap { (r, id) in
            var w = ByteWriter()
            Codec.encode(r, id: id, into: &w)
            return w.bytes
        }
    }

    func send(_ fd: Int32, _ bytes: [UInt8]) {
        #expect(bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count)
    }

    /// Reads one response frame: (opcode, status, id, body), or nil when the session closed.
    func response(_ fd: Int32) -> (opcode: UInt8, status: UInt16, id: UInt32, body: [UInt8])? {
        func exactly(_ n: Int) -> [UInt8]? {
            var b = [UInt8](repeating: 0, count: n)
            var got = 0
            while got < n {
                let r = b.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
                if r <= 0 { return nil }
                got += r
            }
            return b
        }
        guard let prefix = exactly(4) else { return nil }
        let length = Int(prefix.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        guard let rest = exactly(length) else { return nil }
        let status = UInt16(rest[2]) | UInt16(rest[3]) << 8
        let id = rest[4..<8].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return (rest[0], status, id, Array(rest[8...]))
    }

    @Test func pipelinedRequestsAreAnsweredInOrderWithTheirIDs() {
        let fd = connect()
        defer { close(fd) }
        let hello = Request.hello(minVersion: 1, maxVersion: Frame.version)
        send(
            fd,
            frames([
                (hello, 7), (.read(address: Self.gplev0, width: .word, count: 1), 8), (.windows, 9),
                (.read(address: 0, width: .word, count: 1), 10), (.read(address: Self.gplev0, width: .word, count: 1), 11),
            ]))
        let answers = (0..<5).compactMap { _ in response(fd) }
        #expect(answers.map(\.id) == [7, 8, 9, 10, 11])
        #expect(answers.map(\.status) == [0, 0, 0, IOGateError.Code.outsideAllowlist.rawValue, 0], "a refusal keeps the connection open")
        #expect(answers.map(\.opcode) == [0x01, 0x10, 0x02, 0x10, 0x10])
    }

    @Test func aFrameSplitIntoSingleBytesIsServed() {
        let fd = connect()
        defer { close(fd) }
        let bytes = frames([
            (.hello(minVersion: 1, maxVersion: Frame.version), 1), (.read(address: Self.gplev0, width: .word, count: 1), 2),
        ])
        for b in bytes { send(fd, [b]) }
        #expect(response(fd)?.status == 0)
        let read = response(fd)
        #expect(read?.id == 2 && read?.status == 0 && read?.body.count == 4, "\(String(describing: read))")
    }

    @Test func aRequestBeforeTheHelloIsAnsweredThenClosed() {
        let fd = connect()
        defer { close(fd) }
        send(fd, frames([(.read(address: Self.gplev0, width: .word, count: 1), 5)]))
        let e = response(fd)
        #expect(e?.status == IOGateError.Code.badState.rawValue && e?.id == 5)
        #expect(response(fd) == nil, "the session closed")
    }

    @Test func aLengthPrefixBelowEightIsAnsweredWithIDZeroThenClosed() {
        let fd = connect()
        defer { close(fd) }
        send(fd, frames([(.hello(minVersion: 1, maxVersion: Frame.version), 1)]))
        #expect(response(fd)?.status == 0)
        send(fd, [3, 0, 0, 0, 0, 0, 0])
        let e = response(fd)
        #expect(e?.status == IOGateError.Code.malformed.rawValue && e?.id == 0 && e?.opcode == 0, "\(String(describing: e))")
        #expect(response(fd) == nil, "the stream cannot be resynchronized: closed")
    }

    @Test func anUnknownOpcodeAfterTheHelloKeepsTheConnection() {
        let fd = connect()
        defer { close(fd) }
        send(fd, frames([(.hello(minVersion: 1, maxVersion: Frame.version), 1)]))
        #expect(response(fd)?.status == 0)
        send(fd, [8, 0, 0, 0, 0x7E, 0, 0, 0, 42, 0, 0, 0])
        let e = response(fd)
        #expect(e?.status == IOGateError.Code.unknownOperation.rawValue && e?.id == 42 && e?.opcode == 0x7E)
        send(fd, frames([(.read(address: Self.gplev0, width: .word, count: 1), 43)]))
        #expect(response(fd)?.id == 43)
    }
}
