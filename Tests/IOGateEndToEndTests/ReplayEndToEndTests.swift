import Foundation
import Glibc
import IOGate
import IOGateTestSupport
import Testing

/// Record on the (mock) board, replay in CI: a scripted session is recorded through a real daemon's
/// `trace`, then replayed with `iogate replay` and with `device = "replay:PATH"` against the same
/// program (passes) and changed programs (fail at the right access, naming the trace line).
@Suite(.serialized)
final class ReplayEndToEndTests {
    let dir = TempDir()
    var trace: String { dir.file("trace.log") }

    /// The recorded program: the `iogate` CLI driving GPIO17 on the mock Raspberry Pi 4.
    static let steps = ["gpio 17 mode out", "gpio 17 set 1", "gpio 17 get", "read gpio+0x34", "gpio 17 set 0"]

    /// A shell script running `iogate` with each of `steps` (stopping at the first failure).
    func script(_ name: String, _ steps: [String]) throws -> String {
        let path = dir.file(name)
        let body = steps.map { "\(productsDirectory)/iogate \($0)" }.joined(separator: "\n")
        try "#!/bin/sh\nset -e\n\(body)\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    /// Records `steps` on a mock rpi4 daemon whose trace is `trace`; returns the program's output.
    @discardableResult
    func record(_ steps: [String] = ReplayEndToEndTests.steps) throws -> Run {
        let daemon = try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi4"
                socket = "@SOCKET@"
                socket_mode = "0600"
                audit = "none"
                trace = "@DIR@/trace.log"
                [[grant]]
                uid = \(getuid())
                windows = ["gpio"]
                access = "rw"
                """, dir: dir)
        defer { daemon.stop() }
        return try run(try script("record.sh", steps), [], environment: ["IOGATE_SOCKET": daemon.socket])
    }

    func replay(_ steps: [String]) throws -> Run {
        try run(productsDirectory + "/iogate", ["replay", trace, "--", try script("replay.sh", steps)])
    }

    @Test func recordingIsTheVersionedFormat() throws {
        let recorded = try record()
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stdout == "1\n0x00020000\n")
        let lines = procText(trace).split(separator: "\n").map { $0.split(separator: " ").prefix(4).joined(separator: " ") }
        #expect(
            lines == [
                "# iogate-trace 1 board=rpi4",
                "R gpio+0x4 32 0x00000000",  // gpio 17 mode out: the modify's load ...
                "W gpio+0x4 32 0x00200000",  // ... and store
                "W gpio+0x1C 32 0x00020000",  // set 1: GPSET0
                "R gpio+0x34 32 0x00020000",  // get: GPLEV0
                "R gpio+0x34 32 0x00020000",  // read gpio+0x34
                "W gpio+0x28 32 0x00020000",  // set 0: GPCLR0
            ])
        #expect(procText(trace).split(separator: "\n").dropFirst().allSatisfy { $0.contains(" uid=\(getuid()) pid=") })
    }

    @Test func theSameProgramReplaysWithoutHardware() throws {
        let recorded = try record()
        let r = try replay(Self.steps)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == recorded.stdout)
        #expect(r.stderr == "iogate replay: replay complete: all 6 recorded accesses matched\n")
    }

    @Test func aChangedValueFailsAtItsTraceLine() throws {
        try record()
        // GPIO18 instead of GPIO17 in the last step: the store to GPCLR0 has another bit.
        let r = try replay(Array(Self.steps.dropLast()) + ["gpio 18 set 0"])
        #expect(r.status == 1)
        #expect(r.stdout == "1\n0x00020000\n")
        let why = "replay diverged at \(trace):7: expected W gpio+0x28 32 0x00020000, got W gpio+0x28 32 0x00040000 (a different value)"
        // The failing request's error (from the program's iogate) and the replay's report.
        #expect(r.stderr.contains("iogate: \(why)\n"), "\(r.stderr)")
        #expect(r.stderr.hasSuffix("iogate replay: replay failed: \(why)\n"), "\(r.stderr)")
    }

    @Test func aChangedOperationAndPlaceFailsAtItsTraceLine() throws {
        try record()
        // set 1 became a read of GPFSEL0: a load where the trace has the store to GPSET0 (line 4).
        let r = try replay(["gpio 17 mode out", "read gpio+0x0", "gpio 17 get", "read gpio+0x34", "gpio 17 set 0"])
        #expect(r.status == 1)
        #expect(r.stdout == "")
        let why =
            "replay diverged at \(trace):4: expected W gpio+0x1C 32 0x00020000, got R gpio+0x0 32 (a load where the trace has a store, a different place)"
        #expect(r.stderr.hasSuffix("iogate replay: replay failed: \(why)\n"), "\(r.stderr)")
    }

    @Test func aShorterProgramLeavesRecordsUnused() throws {
        try record()
        let r = try replay(Array(Self.steps.prefix(3)))
        #expect(r.status == 1)
        #expect(r.stdout == "1\n")
        #expect(
            r.stderr
                == "iogate replay: replay failed: replay incomplete: 2 of 6 recorded accesses were never made, from \(trace):6 (R gpio+0x34 32 0x00020000) on\n"
        )
    }

    @Test func aLongerProgramGoesPastTheEnd() throws {
        try record()
        let r = try replay(Self.steps + ["gpio 17 set 1"])
        #expect(r.status == 1)
        let why =
            "replay diverged after the end of \(trace) (line 7, W gpio+0x28 32 0x00020000): got W gpio+0x1C 32 0x00020000; the program made more accesses than were recorded"
        #expect(r.stderr.contains("iogate: \(why)\n"), "\(r.stderr)")
        #expect(r.stderr.hasSuffix("iogate replay: replay failed: \(why)\n"), "\(r.stderr)")
    }

    /// Batches (both encodings), modifies and waits through the Swift library, against a daemon
    /// configured with `device = "replay:PATH"` directly.
    @Test func libraryClientReplaysBatchesModifiesAndWaits() throws {
        func session(_ c: IOGateClient, _ c1: IOGateClient, changed: Bool) throws -> [UInt64] {
            var out: [UInt64] = []
            out.append(try c.modify(0xFE20_0008, mask: 0b111 << 3, value: 0b001 << 3))  // GPIO21 output
            out += try c.batch { b in  // compact batch (protocol 2)
                b.write(0xFE20_001C, 1 << 21)
                b.read(0xFE20_0034)
                b.modify(0xFE20_0004, mask: 0b111 << 21, value: 0b001 << 21)
            }
            out += try c1.batch { b in  // classic batch (protocol 1)
                b.read(0xFE20_0008)
                b.write(0xFE20_0028, changed ? 1 << 22 : 1 << 21)
            }
            out.append(try c.wait(0xFE20_0034, mask: 1 << 21, value: 0, timeoutMilliseconds: 500))
            return out
        }
        let recorder = try DaemonProcess(
            config: """
                device = "mock"
                board = "rpi4"
                socket = "@SOCKET@"
                socket_mode = "0600"
                audit = "none"
                trace = "@DIR@/trace.log"
                [[grant]]
                uid = \(getuid())
                windows = ["gpio"]
                access = "rw"
                """, dir: dir)
        let recorded = try session(try recorder.client(), try IOGateClient(socketPath: recorder.socket, maxVersion: 1), changed: false)
        recorder.stop()
        #expect(recorded == [0, 0, 1 << 21, 0, 1 << 3, 0, 0])

        func replayer() throws -> DaemonProcess {
            try DaemonProcess(
                config: """
                    device = "replay:\(trace)"
                    board = "rpi4"
                    socket = "@SOCKET@"
                    socket_mode = "0600"
                    audit = "none"
                    [[grant]]
                    uid = \(getuid())
                    windows = ["gpio"]
                    access = "rw"
                    """)
        }
        let same = try replayer()
        #expect(try session(try same.client(), try IOGateClient(socketPath: same.socket, maxVersion: 1), changed: false) == recorded)
        #expect(same.stop() == 0)
        #expect(same.stderrText.contains("iogated: replay complete: all 9 recorded accesses matched"), "\(same.stderrText)")

        let changed = try replayer()
        let error = expectThrows(IOGateError.self) {
            try session(try changed.client(), try IOGateClient(socketPath: changed.socket, maxVersion: 1), changed: true)
        }
        let why = "replay diverged at \(trace):9: expected W gpio+0x28 32 0x00200000, got W gpio+0x28 32 0x00400000 (a different value)"
        #expect(error?.code == .badState)
        #expect(error?.message == why)
        #expect(changed.stop() == 1)
        #expect(changed.stderrText.contains("iogated: replay failed: \(why)"), "\(changed.stderrText)")
    }

    @Test func aBadTraceIsRefusedWithItsReason() throws {
        try "# iogate-trace 7 board=rpi4\n".write(toFile: trace, atomically: false, encoding: .utf8)
        let r = try run(productsDirectory + "/iogate", ["replay", trace, "--", "/bin/true"])
        #expect(r.status == 1)
        #expect(r.stderr == "iogate: \(trace):1: trace format version 7 is not supported; this build reads version 1 (docs/TRACE.md)\n")
        let (status, stderr) = daemonRefusal(
            config: """
                device = "replay:\(trace)"
                board = "rpi4"
                socket = "@SOCKET@"
                [[grant]]
                uid = \(getuid())
                windows = ["gpio"]
                access = "rw"
                """)
        #expect(status == 1)
        #expect(stderr.contains("trace format version 7 is not supported"), "\(stderr)")
        let missing = try run(productsDirectory + "/iogate", ["replay", dir.file("none.log"), "--", "/bin/true"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read the trace \(dir.file("none.log"))"), "\(missing.stderr)")
        let usage = try run(productsDirectory + "/iogate", ["replay", trace])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("name the program to run after --"), "\(usage.stderr)")
    }
}
