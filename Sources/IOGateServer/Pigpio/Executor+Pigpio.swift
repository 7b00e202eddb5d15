import IOGateCore

extension Executor {
    /// True when the allowlist lets this client make a 32-bit access at `address` (a write when
    /// `write` is set). Asks the same allowlist that every operation is checked against.
    func allows(_ address: UInt64, write: Bool) -> Bool {
        (try? allowlist.check(address, width: .word, write: write)) != nil
    }

    /// Reads one 32-bit register after the allowlist check, under the window's lock, without an
    /// audit or trace line: the pigpio notifier polls the level register a thousand times a second,
    /// and a trace line per poll would drown the trace. Each poll is still checked.
    func readUnobserved(_ address: UInt64) throws(IOGateError) -> UInt64 {
        let window = entryWindows[try allowlist.check(address, width: .word, write: false)]
        window.lock.lock()
        defer { window.lock.unlock() }
        let value = window.space.load(address, .word)
        try Executor.checkBusFault()  // taken here, or it would be blamed on this thread's next request
        return value
    }
}
