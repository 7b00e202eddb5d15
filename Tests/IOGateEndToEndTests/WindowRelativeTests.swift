import Foundation
import Glibc
import IOGate
import IOGateTestSupport
import Testing

/// Protocol version 3's window-relative requests (docs/PROTOCOL.md section 5.10) against a real
/// iogated on the mock Raspberry Pi 4, through the library, as raw frames, and through the CLI,
/// whose `read WINDOW+OFFSET` is one round trip.
@Suite(.serialized)
final class WindowRelativeTests {
    static let gpio: UInt64 = 0xFE20_0000

    let dir = TempDir()
    let daemon: DaemonProcess

    init() throws {
        daemon = try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi4"
                socket = "@SOCKET@"
                socket_mode = "0600"
                audit = "none"
                [[grant]]
                uid = 0
                windows = ["gpio"]
                access = "rw"
                [[grant]]
                uid = 0
                IoBase = [0xFE201000]
                IoLen = [0x80]
                access = "ro"
                """, dir: dir)
    }

    deinit { daemon.stop() }

    /// A window-relative request frame: flags 0x02, the name, then the request's body.
    func relative(_ r: Request, window: String, id: UInt32 = 7) -> [UInt8] {
        var w = ByteWriter()
        Codec.encode(r, id: id, window: window, into: &w)
        return w.bytes
    }

    @Test func libraryReadsWritesModifiesAndWaitsRelativeToAWindow() throws {
        let c = try daemon.client()
        #expect(c.serverHello.version == 3)
        try c.write(Self.gpio, 0x0000_4000)  // GPFSEL0
        #expect(try c.read(window: "gpio", offset: 0) == [0x0000_4000])
        #expect(try c.read(window: "gpio", offset: 0, count: 2) == [0x0000_4000, try c.read(Self.gpio + 4)])

        // Raw frames after a version 3 hello: the answers are those of the physical requests.
        let hello3 = frame(.hello(minVersion: 1, maxVersion: 3), id: 1)
        let read = relative(.read(address: 0, width: .word, count: 1), window: "gpio")
        #expect(read == [0x1D, 0, 0, 0, 0x10, 0x02, 0, 0, 7, 0, 0, 0, 4] + Array("gpio".utf8) + le(0, 8) + [4, 0, 0, 0] + le(1, 4))
        let reply = rawExchange(daemon.socket, hello3 + read)
        #expect(Array(reply.dropFirst(28)) == [0x0C, 0, 0, 0, 0x10, 0x01, 0, 0, 7, 0, 0, 0] + le(0x4000, 4))
        let modify = relative(.modify(address: 0, width: .word, mask: 0x7000, value: 0x1000), window: "gpio")
        #expect(Array(rawExchange(daemon.socket, hello3 + modify).dropFirst(28 + 12)) == le(0x4000, 8))
        #expect(try c.read(Self.gpio) == 0x1000)
        let write = relative(.write(address: 0, width: .word, values: [0x0000_4000]), window: "gpio")
        #expect(firstStatus(rawExchange(daemon.socket, hello3 + write)) == 0)
        #expect(try c.read(Self.gpio) == 0x4000)
        let wait = relative(.wait(address: 0, width: .word, mask: 0xFFFF, value: 0x4000, timeoutMilliseconds: 100), window: "gpio")
        #expect(Array(rawExchange(daemon.socket, hello3 + wait).dropFirst(28 + 12)) == le(0x4000, 8))
    }

    @Test func theAccessIsCheckedAsAnyOtherAndNamesAreTheCallersWindows() throws {
        let hello3 = frame(.hello(minVersion: 1, maxVersion: 3), id: 1)
        func status(_ bytes: [UInt8]) -> (UInt16?, String) {
            let r = rawExchange(daemon.socket, hello3 + bytes)
            return (firstStatus(r), String(decoding: r.dropFirst(28 + 12), as: UTF8.self))
        }
        let unknown = status(relative(.read(address: 0, width: .word, count: 1), window: "uart0"))
        #expect(unknown.0 == IOGateError.Code.notFound.rawValue)
        #expect(unknown.1 == "no window named 'uart0' is granted to you; your windows: gpio")
        let past = status(relative(.read(address: 0x100, width: .word, count: 1), window: "gpio"))
        #expect(past.0 == IOGateError.Code.outsideAllowlist.rawValue)
        #expect(past.1 == "offset 0x100 is past the end of window 'gpio' (length 0x100)")
        let overrun = status(relative(.read(address: 0xFC, width: .word, count: 2), window: "gpio"))
        #expect(overrun.0 == IOGateError.Code.outsideAllowlist.rawValue)
        let misaligned = status(relative(.read(address: 2, width: .word, count: 1), window: "gpio"))
        #expect(misaligned.0 == IOGateError.Code.misaligned.rawValue)
        // The flag is for read, write, modify and wait only, and needs a name.
        var batch = frame(.batch([.read(Self.gpio)]))
        batch[5] = Frame.windowRelativeFlag
        #expect(status(batch).0 == IOGateError.Code.malformed.rawValue)
        let empty = [0x19, 0, 0, 0, 0x10, 0x02, 0, 0, 7, 0, 0, 0, 0] + le(0, 8) + [4, 0, 0, 0] + le(1, 4)
        let nameless = status(empty)
        #expect(nameless.0 == IOGateError.Code.malformed.rawValue)
        #expect(nameless.1 == "a window-relative request needs a window name (its length is 0)")
    }

    /// A version 2 connection answers the flagged frame exactly as before version 3 existed.
    @Test func versionTwoConnectionsRefuseTheFlagAsBefore() throws {
        let read = relative(.read(address: 0, width: .word, count: 1), window: "gpio")
        for version in [1, 2] as [UInt16] {
            let reply = rawExchange(daemon.socket, frame(.hello(minVersion: 1, maxVersion: version), id: 1) + read)
            #expect(reply[12] == version)
            let message = "request flags and status must be 0; got flags 2, status 0"
            #expect(
                Array(reply.dropFirst(28)) == le(UInt64(8 + message.utf8.count), 4) + [0x10, 0x01, 1, 0, 7, 0, 0, 0] + Array(message.utf8))
        }
        // The library against a version 2 session still resolves names, through the windows list.
        let old = try IOGateClient(socketPath: daemon.socket, maxVersion: 2)
        try old.write(Self.gpio + 4, 0x0000_0008)
        #expect(try old.read(window: "gpio", offset: 4) == [8])
    }

    /// `iogate read WINDOW+OFFSET` and `iogate read ADDR`: the hello and the read leave in one
    /// write, and both answers come back: one round trip (strace counts the socket calls).
    @Test func cliReadIsOneRoundTrip() throws {
        let c = try daemon.client()
        try c.write(Self.gpio + 0x08, 0x0000_0009)
        #expect(try iogate(daemon.socket, ["read", "gpio+0x8"]).stdout == "0x00000009\n")
        #expect(try iogate(daemon.socket, ["read", "0xFE200008", "--width", "16"]).stdout == "0x0009\n")
        let refused = try iogate(daemon.socket, ["read", "uart0+0x18"])
        #expect(refused.status == 1 && refused.stderr == "iogate: no window named 'uart0' is granted to you; your windows: gpio\n")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/strace") else { return }
        for address in ["gpio+0x8", "0xFE200008"] {
            let r = try run(
                "/usr/bin/strace",
                [
                    "-f", "-e", "trace=sendto,sendmsg,write,recvfrom,recvmsg", productsDirectory + "/iogate", "--socket", daemon.socket,
                    "read", address,
                ])
            #expect(r.stdout == "0x00000009\n")
            let calls = r.stderr.split(separator: "\n").filter { $0.contains("(3,") }
            let sends = calls.filter { $0.hasPrefix("sendto(") || $0.hasPrefix("sendmsg(") || $0.hasPrefix("write(3") }
            #expect(sends.count == 1, "\(calls)")
            // The one write holds both frames: the 20-byte hello and the read.
            #expect(sends.first?.hasSuffix("= \(address.hasPrefix("gpio") ? 53 : 48)") == true, "\(sends)")
        }
    }
}
