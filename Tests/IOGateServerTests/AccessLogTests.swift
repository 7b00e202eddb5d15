import Foundation
import IOGateCore
import IOGateMock
import Synchronization
import Testing

@testable import IOGateServer

/// The audit queue: records leave in order, and a standard error nobody reads (a stalled journal)
/// makes requests wait once the backlog passes its limit, instead of growing without bound.
@Suite struct AccessLogTests {
    /// A log whose writes block until the test opens the gate, like a full pipe.
    final class StalledLog: Sendable {
        let gate = DispatchSemaphore(value: 0)
        let open = Atomic(false)
        let lines = Mutex<[String]>([])
        var logger: Logger {
            Logger(label: "stalled", level: .trace) { [self] _, message in
                if !open.load(ordering: .relaxed) {
                    gate.wait()
                    open.store(true, ordering: .relaxed)
                }
                lines.withLock { $0.append(message) }
            }
        }
    }

    @Test func aStalledJournalMakesRequestsWaitAndLosesNothing() throws {
        let board = try #require(BoardCatalog.builtin().boards.first { $0.id == "rpi4" })
        let window = ServedRange(
            range: try PhysicalRange(base: 0xFE20_0000, length: 0x1000), name: "gpio", space: MockBoard(board: board), index: 0)
        let stalled = StalledLog()
        let log = AccessLog(tracer: nil, audit: .writes, logger: stalled.logger, backlogLimit: 10) { a, _ in hex(a) }
        log.start()
        let client = ClientIdentity(uid: 1, gid: 1, pid: 1)
        func write(_ i: UInt64) {
            log.record(.init(write: true, address: 0xFE20_0000, width: .word, value: i, window: window, client: client, command: "t"))
        }
        // The writer takes the first record and blocks in the stalled log; 25 more queue up.
        write(0)
        usleep(50_000)
        for i in 1...25 { write(UInt64(i)) }
        // A request's thread now waits before answering...
        let answered = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            log.drainTrace()
            answered.signal()
        }
        #expect(answered.wait(timeout: .now() + 0.5) == .timedOut, "a request answered with 25 audit records unwritten (limit 10)")
        // ...until the journal reads again.
        stalled.gate.signal()
        #expect(answered.wait(timeout: .now() + 10) == .success)
        log.flush()
        let values = stalled.lines.withLock { $0 }.compactMap {
            $0.split(separator: " ").last.flatMap { UInt64($0.dropFirst(2), radix: 16) }
        }
        #expect(values == Array(0...25), "every record once, in order")
    }
}
