import Foundation
import Glibc
import IOGate
import IOGateCore
import IOGateTestSupport
import Testing

/// The typed details of errors, from a real daemon through the library (protocol version 3): what
/// a program can read back instead of matching message text.
@Suite(.serialized)
final class ErrorDetailsEndToEndTests {
    let dir = TempDir()
    let daemon: DaemonProcess
    static let gpio: UInt64 = 0xFE20_0000
    static let uart: UInt64 = 0xFE20_1000

    init() throws {
        daemon = try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi4"
                socket = "@SOCKET@"
                audit = "none"
                [[grant]]
                uid = \(getuid())
                windows = ["gpio"]
                access = "rw"
                [[grant]]
                uid = \(getuid())
                windows = ["uart0"]
                access = "ro"
                """, dir: dir)
    }

    deinit { daemon.stop() }

    @Test func refusalsCarryTheAccessAndTheGrants() throws {
        let c = try daemon.client()
        #expect(c.serverHello.version == 3)
        let outside = failure { _ = try c.read(0xFE21_5000) }
        #expect(outside?.code == .outsideAllowlist)
        #expect(outside?.details.address == 0xFE21_5000)
        #expect(outside?.details.size == 4)
        #expect(outside?.details.granted.map(\.range.base).sorted() == [Self.gpio, Self.uart])
        #expect(outside?.details.granted.first { $0.range.base == Self.uart }?.access == .ro)

        let readOnly = failure { try c.write(Self.uart, 0x41) }
        #expect(readOnly?.code == .readOnly)
        #expect(readOnly?.details.address == Self.uart)
        #expect(readOnly?.details.granted.map(\.range.base) == [Self.uart])

        let misaligned = failure { _ = try c.read(Self.gpio + 2) }
        #expect(misaligned?.code == .misaligned)
        #expect(misaligned?.details.address == Self.gpio + 2)
        #expect(misaligned?.details.size == 4)

        let batch = failure {
            _ = try c.batch { b in
                b.read(Self.gpio + 0x34)
                b.write(Self.uart, 1)
            }
        }
        #expect(batch?.code == .readOnly)
        #expect(batch?.details.operation == 1)
        #expect(batch?.details.address == Self.uart)
    }

    @Test func aPinGrantRefusalNamesThePinAndTheGrant() throws {
        let dir = TempDir()
        let pins = try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi4"
                socket = "@SOCKET@"
                audit = "none"
                [[grant]]
                uid = \(getuid())
                pins = [17]
                access = "rw"
                """, dir: dir)
        defer { pins.stop() }
        let c = try pins.client()
        try c.write(Self.gpio + 0x1C, 1 << 17)  // GPSET0, pin 17: granted
        let e = failure { try c.write(Self.gpio + 0x1C, 1 << 18 | 1 << 17) }  // pin 18 too
        #expect(e?.code == .outsideAllowlist)
        #expect(e?.details.pin == 18, "\(String(describing: e?.details))")
        #expect(e?.details.address == Self.gpio + 0x1C)
        #expect(e?.details.size == 4)
        #expect(e?.details.granted.map(\.range.base) == [Self.gpio])
    }

    @Test func aVersionTwoClientGetsTheMessageAlone() throws {
        let c = try IOGateClient(socketPath: daemon.socket, maxVersion: 2)
        #expect(c.serverHello.version == 2)
        let e = failure { _ = try c.read(0xFE21_5000) }
        #expect(e?.code == .outsideAllowlist)
        #expect(e?.details.isEmpty == true)
        #expect(e?.message.contains("granted: [") == true)
        #expect(e?.message.contains("\u{0}") == false)
    }

    @Test func anUnreachableDaemonGivesTheErrnoAndTheCall() {
        let e = failure { _ = try IOGateClient(socketPath: dir.file("nobody-here.sock")) }
        #expect(e?.code == .unreachable)
        #expect(e?.details.errno == ENOENT)
        #expect(e?.details.call == "connect \(dir.file("nobody-here.sock"))")
    }
}
