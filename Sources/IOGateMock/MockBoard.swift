import IOGateCore
import IOGateSystem

/// A simulated board: a `RegisterSpace` addressed by physical address, built from a board file.
///
/// GPIO windows whose model has a `GPIOLayout` (`bcm2835`, `bcm2711`, `rp1`, `omap`) behave like
/// the silicon: set/clear registers and atomic aliases change the output latch of the pins written
/// as 1 and read as 0 (bcm) or as DATAOUT (omap); rp1's RIO OUT and OE read back as written, and
/// its pins start with no function and a pull-down; level registers are read-only and show the latch for outputs and
/// the simulated input level (set with `setInputLevel`) or the pull for inputs; function-select
/// and pull registers read back as written. OMAP's OE resets to all ones (all inputs), as on the
/// chip. Every other address, including other windows and GPIO blocks of other models, is plain
/// zero-initialised memory. Accesses narrower than a 32-bit GPIO register act on its bytes only
/// (a byte written to GPSET0 sets only the pins in that byte); a 64-bit access is two registers.
///
/// Thread-safe: one internal lock serialises every access, so callers may use it from several
/// threads without a lock of their own.
// @unchecked Sendable: its one internal lock serialises every access to the simulated state.
public final class MockBoard: RegisterSpace, @unchecked Sendable {
    /// The board this simulates.
    public let board: Board

    // Guarded by `lock`; this lock is why the class can be @unchecked Sendable.
    private let lock = Lock()
    private var memory = SparseMemory()
    private var blocks: [SimulatedGPIOBlock] = []
    // Immutable copies of each block's window and layout, readable without the lock.
    private let blockWindows: [BoardWindow]
    private let blockLayouts: [GPIOLayout]

    /// Creates a board with zeroed memory, every output latch low and no input driven.
    public init(board: Board) {
        self.board = board
        let simulated = board.windows.compactMap { w in GPIOLayout(window: w).map { (w, $0) } }
        blockWindows = simulated.map(\.0)
        blockLayouts = simulated.map(\.1)
        for (window, layout) in simulated {
            blocks.append(SimulatedGPIOBlock(window: window, layout: layout, memory: &memory))
        }
    }

    /// The names of the windows simulated as GPIO blocks, in board order.
    public var simulatedGPIOWindows: [String] { blockWindows.map(\.name) }

    /// The register layout of the simulated GPIO window `window`.
    public func layout(window: String) throws(IOGateError) -> GPIOLayout {
        blockLayouts[try blockIndex(window)]
    }

    // MARK: RegisterSpace

    /// Loads `width` bytes at the physical `address`, little-endian.
    public func load(_ address: UInt64, _ width: AccessWidth) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        guard touchesBlock(address, width) else { return memory.load(address, bytes: width.bytes) }
        var result: UInt64 = 0
        forEachRegister(address, width) { register, byteInRegister, index, count in
            let word: UInt32
            if let b = blocks.firstIndex(where: { $0.contains(register) }) {
                word = blocks[b].read(offset: register - blocks[b].window.range.base, memory: memory)
            } else {
                word = UInt32(truncatingIfNeeded: memory.load(register, bytes: 4))
            }
            let part = (UInt64(word) >> UInt64(8 * byteInRegister)) & lowBytes(count)
            result |= part << UInt64(8 * index)
        }
        return result
    }

    /// Stores the low `width` bytes of `value` at the physical `address`, little-endian.
    public func store(_ address: UInt64, _ width: AccessWidth, _ value: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        guard touchesBlock(address, width) else {
            memory.store(address, bytes: width.bytes, value)
            return
        }
        forEachRegister(address, width) { register, byteInRegister, index, count in
            let shift = UInt64(8 * byteInRegister)
            let word = UInt32(truncatingIfNeeded: ((value >> UInt64(8 * index)) & lowBytes(count)) << shift)
            let byteMask = UInt32(truncatingIfNeeded: lowBytes(count) << shift)
            if let b = blocks.firstIndex(where: { $0.contains(register) }) {
                let offset = register - blocks[b].window.range.base
                blocks[b].write(offset: offset, value: word, byteMask: byteMask, memory: &memory)
            } else {
                memory.storeWord(register, word, byteMask: byteMask)
            }
        }
    }

    // MARK: Simulated pins

    /// Drives `pin` of GPIO window `window` from outside: an input pin then reads `high`.
    /// An output pin keeps reading its latch (the chip's driver wins) until it becomes an input.
    public func setInputLevel(window: String, pin: Int, high: Bool) throws(IOGateError) {
        try withPin(window, pin) { block, _ in block.setInput(pin: pin, high: high) }
    }

    /// Stops driving `pin` from outside: as an input it then reads its pull (pull-up 1, else 0).
    public func releaseInputLevel(window: String, pin: Int) throws(IOGateError) {
        try withPin(window, pin) { block, _ in block.setInput(pin: pin, high: nil) }
    }

    /// The output latch of GPIO window `window`: bit n is pin n's driven value, whatever its function.
    public func outputLatch(window: String) throws(IOGateError) -> UInt64 {
        let b = try blockIndex(window)
        lock.lock()
        defer { lock.unlock() }
        return blocks[b].latch
    }

    /// The level `pin` of GPIO window `window` shows in its level register (GPLEVn, DATAIN).
    public func level(window: String, pin: Int) throws(IOGateError) -> Bool {
        try withPin(window, pin) { block, memory in block.level(pin: pin, memory: memory) }
    }

    /// The function `pin` of GPIO window `window` has selected.
    public func function(window: String, pin: Int) throws(IOGateError) -> PinFunction {
        try withPin(window, pin) { block, memory in block.function(pin: pin, memory: memory) }
    }

    /// The pull `pin` of GPIO window `window` has (always `.none` on omap: pulls are in the pad registers).
    public func pull(window: String, pin: Int) throws(IOGateError) -> PinPull {
        try withPin(window, pin) { block, memory in block.pull(pin: pin, memory: memory) }
    }

    // MARK: Helpers

    private func blockIndex(_ window: String) throws(IOGateError) -> Int {
        if let b = blockWindows.firstIndex(where: { $0.name == window }) { return b }
        guard let w = board.window(named: window) else {
            let names = board.windows.map(\.name).joined(separator: ", ")
            throw IOGateError(.notFound, "board '\(board.id)' has no window '\(window)'; windows: \(names)")
        }
        let what = w.model.map { "has model \($0.rawValue), which the mock simulates as plain memory" } ?? "is not a GPIO block"
        let simulated = blockWindows.isEmpty ? "none" : simulatedGPIOWindows.joined(separator: ", ")
        throw IOGateError(.notFound, "window '\(window)' \(what); simulated GPIO windows: \(simulated)")
    }

    private func withPin<T>(_ window: String, _ pin: Int, _ body: (inout SimulatedGPIOBlock, SparseMemory) -> T) throws(IOGateError) -> T {
        let b = try blockIndex(window)
        try blockLayouts[b].checkPin(pin)
        lock.lock()
        defer { lock.unlock() }
        return body(&blocks[b], memory)
    }

    /// True when any byte of the access lies in a simulated GPIO window.
    private func touchesBlock(_ address: UInt64, _ width: AccessWidth) -> Bool {
        let last = address &+ UInt64(width.bytes - 1)
        return blocks.contains { b in
            last >= address ? address <= b.span.upperBound && b.span.lowerBound <= last : true
        }
    }

    /// Splits an access into its parts per 4-aligned 32-bit register: `body(register address,
    /// first byte within it, index of that byte in the access, byte count)`.
    private func forEachRegister(_ address: UInt64, _ width: AccessWidth, _ body: (UInt64, Int, Int, Int) -> Void) {
        var index = 0
        while index < width.bytes {
            let a = address &+ UInt64(index)
            let byteInRegister = Int(a & 3)
            let count = min(4 - byteInRegister, width.bytes - index)
            body(a & ~3, byteInRegister, index, count)
            index += count
        }
    }

    private func lowBytes(_ count: Int) -> UInt64 { count >= 8 ? .max : (1 << UInt64(8 * count)) - 1 }
}
