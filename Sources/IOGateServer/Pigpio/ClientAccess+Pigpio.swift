import IOGateCore

extension ClientAccess {
    /// True when the allowlist lets this client make a 32-bit access at `address` (a write when
    /// `write` is set). Asks the same allowlist that every operation is checked against.
    func allows(_ address: UInt64, write: Bool) -> Bool {
        (try? allowlist.check(address, width: .word, write: write)) != nil
    }

    /// True when this client may change every bit of `bits` of the 32-bit register at `address`:
    /// a whole grant of it, or a pin or bit grant holding those bits.
    func allows(_ address: UInt64, bits: UInt64) -> Bool {
        guard let e = try? allowlist.check(address, width: .word, write: true) else { return false }
        guard let masks = allowlist.entries[e].masks else { return true }
        let granted = masks.granted(offset: address &- allowlist.entries[e].range.base, width: .word).mask
        return bits & ~granted == 0
    }

    /// Reads one 32-bit register after the allowlist check, under the window's lock, without an
    /// audit or trace line: the pigpio notifier polls the level register a thousand times a second,
    /// and a trace line per poll would drown the trace. Each poll is still checked.
    func readUnobserved(_ address: UInt64) throws(IOGateError) -> UInt64 {
        let e = try allowlist.check(address, width: .word, write: false)
        if hasMasks && allowlist.entries[e].masks != nil { try checkMaskedReads(e, address, .word, count: 1) }
        let window = entryWindows[e]
        window.lock.lock()
        defer { window.lock.unlock() }
        let value = window.space.load(address, .word)
        try ClientAccess.checkBusFault()  // taken here, or it would be blamed on this thread's next request
        return value
    }
}
