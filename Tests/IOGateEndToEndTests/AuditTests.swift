import Foundation
import Glibc
import IOGate
import IOGateTestSupport
import Synchronization
import Testing

/// The audit log is written after the window lock is released: no client waits on the journal
/// (or a stalled standard error), and no record is lost or reordered.
@Suite(.serialized)
struct AuditTests {
    /// A daemon over a 64 KiB file standing in for memory, auditing writes.
    static func config(_ dir: TempDir, socket: String) -> String {
        let memory = makeSparseFile(dir.file("mem.img"), size: 0x10000)
        return """
            device = "\(memory)"
            socket = "\(socket)"
            socket_mode = "0666"
            audit = "writes"
            [[grant]]
            uid = 0
            IoBase = [0x1000]
            IoLen = [0x1000]
            access = "rw"
            """
    }

    @Test func everyWriteIsAuditedOnceInTheOrderItHappened() throws {
        let dir = TempDir()
        let daemon = try DaemonProcess(config: Self.config(dir, socket: "@SOCKET@"), dir: dir)
        let register: UInt64 = 0x1040
        let perClient = 400
        DispatchQueue.concurrentPerform(iterations: 2) { who in
            guard let c = try? daemon.client() else { return }
            for i in 0..<perClient { try? c.write(register, UInt64(who << 16 | i)) }
        }
        let final = try daemon.client().read(register)
        #expect(daemon.stop() == 0)
        let values = daemon.stderrText.split(separator: "\n").filter { $0.contains("audit: ") && $0.contains(" write 0x1040 ") }
            .compactMap { $0.split(separator: " ").last.flatMap { UInt64($0.dropFirst(2), radix: 16) } }
        #expect(values.count == 2 * perClient, "every write has exactly one record")
        for who in 0..<2 {
            let mine = values.filter { $0 >> 16 == who }.map { Int($0 & 0xFFFF) }
            #expect(mine == Array(0..<perClient), "client \(who)'s writes appear in the order it made them")
        }
        // The last record is the value the register kept: the log's order is the accesses' order.
        #expect(values.last == final)
    }

    /// The audit writer thread must not take the signals the daemon's signal thread waits for (it
    /// was started before they were blocked, and a SIGHUP meant for a reload killed the daemon).
    @Test func reloadAndStopWithTheAuditWriterRunning() throws {
        let dir = TempDir()
        let daemon = try DaemonProcess(config: Self.config(dir, socket: "@SOCKET@"), dir: dir)
        try daemon.client().write(0x1040, 1)
        func reloads() -> Int { daemon.stderrText.components(separatedBy: "policy reloaded").count - 1 }
        for i in 1...3 {
            kill(daemon.pid, SIGHUP)
            // One at a time: signals sent together may merge into one.
            #expect(eventually { reloads() == i || kill(daemon.pid, 0) != 0 }, "\(daemon.stderrText)")
        }
        #expect(kill(daemon.pid, 0) == 0, "SIGHUP killed the daemon")
        #expect(reloads() == 3, "\(daemon.stderrText)")
        #expect(daemon.stop() == 0)
        #expect(daemon.stderrText.contains("write 0x1040 32-bit 0x00000001"))
    }

    /// With standard error a pipe nobody reads (a stalled journal), the old daemon wrote each audit
    /// line under the window lock and every client stopped once the pipe filled (64 KiB, about 600
    /// lines). Now requests go on; the records wait in memory for the writer.
    @Test func aStalledLogDoesNotStallRequests() throws {
        let dir = TempDir()
        let socket = dir.file("s.sock")
        let path = dir.file("iogate.toml")
        try Self.config(dir, socket: socket).write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: productsDirectory + "/iogated")
        p.arguments = ["--config", path, "--boards", repositoryRoot + "/boards"]
        let stalled = Pipe()  // never read
        p.standardError = stalled
        try p.run()
        defer {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        var client: IOGateClient?
        for _ in 0..<500 where client == nil {
            client = try? IOGateClient(socketPath: socket)
            if client == nil { usleep(20_000) }
        }
        #expect(client != nil, "the daemon never answered")
        client = nil
        let done = DispatchSemaphore(value: 0)
        let finished = LockedFlag()
        Thread.detachNewThread {
            guard let c = try? IOGateClient(socketPath: socket) else {
                done.signal()
                return
            }
            for i in 0..<3000 { _ = try? c.write(0x1040, UInt64(i)) }
            finished.set()
            done.signal()
        }
        _ = done.wait(timeout: .now() + 60)
        #expect(finished.value, "writes stopped being answered once the log pipe filled")
    }
}

/// A flag set by one thread and read by another.
final class LockedFlag: Sendable {
    private let flag = Atomic(false)
    func set() { flag.store(true, ordering: .sequentiallyConsistent) }
    var value: Bool { flag.load(ordering: .sequentiallyConsistent) }
}
