/// Plain, zero-initialised memory over the whole 64-bit physical address space, allocated in
/// 4 KiB pages on first store. Values are little-endian, like every CPU IOGate runs on.
struct SparseMemory {
    static let pageShift: UInt64 = 12
    static let pageSize = 1 << Int(pageShift)
    static let offsetMask = UInt64(pageSize - 1)

    private var pages: [UInt64: [UInt8]] = [:]

    /// Loads `bytes` bytes (1...8) at `address`; bytes never stored read as 0.
    func load(_ address: UInt64, bytes: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<bytes {
            let a = address &+ UInt64(i)
            if let page = pages[a >> SparseMemory.pageShift] {
                value |= UInt64(page[Int(a & SparseMemory.offsetMask)]) << UInt64(8 * i)
            }
        }
        return value
    }

    /// Stores the low `bytes` bytes (1...8) of `value` at `address`.
    mutating func store(_ address: UInt64, bytes: Int, _ value: UInt64) {
        for i in 0..<bytes {
            storeByte(address &+ UInt64(i), UInt8(truncatingIfNeeded: value >> UInt64(8 * i)))
        }
    }

    /// Stores the bytes of the 32-bit `word` at the 4-aligned `address` whose `byteMask` bits are set.
    mutating func storeWord(_ address: UInt64, _ word: UInt32, byteMask: UInt32) {
        for i in 0..<4 where (byteMask >> UInt32(8 * i)) & 0xFF != 0 {
            storeByte(address &+ UInt64(i), UInt8(truncatingIfNeeded: word >> UInt32(8 * i)))
        }
    }

    private mutating func storeByte(_ address: UInt64, _ byte: UInt8) {
        // The defaulted subscript mutates the stored page in place (no copy of the 4 KiB array).
        pages[address >> SparseMemory.pageShift, default: [UInt8](repeating: 0, count: SparseMemory.pageSize)][
            Int(address & SparseMemory.offsetMask)] = byte
    }
}
