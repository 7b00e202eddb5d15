import Foundation
import IOGate
import IOGateCore
import IOGateGPIO
import IOGateTestSupport
import Synchronization
import Testing

@testable import IOGateServer

/// A line source that, once armed, stops inside the guard's next query for pin 5 until the test
/// says go (or 30 seconds pass), so another client can try to act in between. Unarmed (while the
/// test sets the bank up) it answers at once: an earlier query for pin 5 must not be mistaken for
/// the one under test.
final class PausingLineSource: GPIOLineInfoSource, Sendable {
    static let pinToPause = 5
    let inner: FakeGPIOLineSource
    let inGuard = DispatchSemaphore(value: 0)
    let go = DispatchSemaphore(value: 0)
    private let armed = Mutex(false)

    init(_ inner: FakeGPIOLineSource) { self.inner = inner }

    func arm() { armed.withLock { $0 = true } }

    func chips() throws(IOGateError) -> [GPIOChipInfo] { try inner.chips() }

    func lines(chip: String, offsets: [Int]) throws(IOGateError) -> [GPIOLineInfo] {
        let pause =
            offsets.contains(Self.pinToPause)
            && armed.withLock { armed in
                defer { armed = false }
                return armed
            }
        if pause {
            inGuard.signal()
            _ = go.wait(timeout: .now() + 30)
        }
        return try inner.lines(chip: chip, offsets: offsets)
    }
}

extension KernelLineGuardDaemonTests {
    /// The guard must judge a modify by the value the modify then changes. On an OMAP bank, a
    /// modify of CLEARDATAOUT (which reads back DATAOUT) rewrites every bit outside its mask with
    /// the value it read, so it clears every pin that is high at that moment. Client A clears pin
    /// 5; while A's guard asks the kernel about pin 5, client B drives pin 9 high and then a driver
    /// claims pin 9. When the guard read the register outside the window lock, A's store went on
    /// to clear pin 9 under the driver's feet, judged by a stale read. Now A holds the lock from
    /// its guard's read to its store, so B waits, and pin 9 stays high.
    @Test func guardAndModifyAreOneLockedStep() throws {
        let omap = FakeGPIOLineSource(chips: [
            FakeGPIOLineSource.chip(name: "gpiochip0", label: "gpio-0-31", device: "44e07000.gpio", count: 32)
        ])
        let pausing = PausingLineSource(omap)
        let d = try start(board: "beaglebone-black", windows: #"["gpio0"]"#, gpioLines: pausing)
        defer { d.stop() }
        let bank: UInt64 = 0x44E0_7000
        let (oe, dataout, clear, set): (UInt64, UInt64, UInt64, UInt64) = (0x134, 0x13C, 0x190, 0x194)
        let a = try IOGateClient(socketPath: d.config.socket)
        try a.write(bank + oe, 0)  // every pin an output
        try a.write(bank + set, 1 << 5)
        pausing.arm()
        let aDone = DispatchSemaphore(value: 0), bDone = DispatchSemaphore(value: 0)
        let socket = d.config.socket
        Thread.detachNewThread {
            // A's modify on a connection of its own (a client is used by one thread at a time).
            _ = try? IOGateClient(socketPath: socket).modify(bank + clear, mask: 1 << 5, value: 1 << 5)
            aDone.signal()
        }
        #expect(pausing.inGuard.wait(timeout: .now() + 10) == .success)
        Thread.detachNewThread {
            try? IOGateClient(socketPath: socket).write(bank + set, 1 << 9)
            bDone.signal()
        }
        // Returns within the timeout when B is not held back by A's lock (A is paused in its guard
        // until `go`, so B can only finish first if A's guard runs outside the lock).
        var bFinished = bDone.wait(timeout: .now() + 2) == .success
        #expect(!bFinished, "B's write finished while A was inside its guard: A did not hold the window lock")
        omap.claim(chip: "gpiochip0", offset: 9, consumer: "driver")
        pausing.go.signal()
        #expect(aDone.wait(timeout: .now() + 10) == .success)
        if !bFinished { bFinished = bDone.wait(timeout: .now() + 10) == .success }
        #expect(bFinished)
        let out = try a.read(bank + dataout)
        #expect(out & (1 << 5) == 0, "A cleared pin 5")
        #expect(out & (1 << 9) != 0, "pin 9, claimed after B drove it high, was cleared by A's stale decision")
    }
}
