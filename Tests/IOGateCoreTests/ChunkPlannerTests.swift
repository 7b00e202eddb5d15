import IOGateCore
import Testing

private let MB: UInt64 = 1 << 20
private let section: UInt64 = 0x200_0000

/// SplitMix64: a deterministic generator, so a failing property names a reproducible case.
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A value in `1...bound`.
    mutating func upTo(_ bound: UInt64) -> UInt64 { next() % bound + 1 }
}

/// One planning case: a range, a page size and the exact chunks expected.
struct PlanCase: Sendable, CustomStringConvertible {
    var base: UInt64
    var length: UInt64
    var page: UInt64
    var chunks: [(UInt64, UInt64)]
    var description: String { "\(hex(base)) +\(hex(length)) page \(hex(page))" }
}

private let planCases: [PlanCase] = {
    // One append per case: as one array literal, Swift 6.0.3 cannot type-check this in reasonable time.
    var cases: [PlanCase] = []
    // Off a page boundary: the chunk starts at the page below the base.
    cases.append(PlanCase(base: 0xFE20_0010, length: 0x10, page: 0x1000, chunks: [(0xFE20_0000, 0x1000)]))
    cases.append(PlanCase(base: 0xFE20_0FFF, length: 2, page: 0x1000, chunks: [(0xFE20_0000, 0x2000)]))
    cases.append(PlanCase(base: 0xFE20_0000, length: 0xF4, page: 0x1000, chunks: [(0xFE20_0000, 0x1000)]))
    // A 1-byte window just below a 32 MB boundary is one page, not two chunks.
    cases.append(PlanCase(base: 0x1FF_FFFF, length: 1, page: 0x1000, chunks: [(0x1FF_F000, 0x1000)]))
    cases.append(PlanCase(base: 0x1FF_FFFF, length: 1, page: 0x4000, chunks: [(0x1FF_C000, 0x4000)]))
    cases.append(PlanCase(base: 0x1FF_FFFF, length: 1, page: 0x10000, chunks: [(0x1FF_0000, 0x10000)]))
    // Exactly at and across a multiple of 32 MB.
    cases.append(PlanCase(base: 0x200_0000, length: 1, page: 0x1000, chunks: [(0x200_0000, 0x1000)]))
    cases.append(PlanCase(base: 0x200_0000, length: section, page: 0x1000, chunks: [(0x200_0000, section)]))
    cases.append(PlanCase(base: 0x200_0000, length: section + 1, page: 0x1000, chunks: [(0x200_0000, section), (0x400_0000, 0x1000)]))
    cases.append(PlanCase(base: 0x1FF_F000, length: 0x2000, page: 0x1000, chunks: [(0x1FF_F000, 0x1000), (0x200_0000, 0x1000)]))
    cases.append(PlanCase(base: 0x1FF_FFFF, length: 2, page: 0x1000, chunks: [(0x1FF_F000, 0x1000), (0x200_0000, 0x1000)]))
    cases.append(PlanCase(base: 0x1FF_FFFF, length: 2, page: 0x10000, chunks: [(0x1FF_0000, 0x10000), (0x200_0000, 0x10000)]))
    cases.append(PlanCase(base: 0x0, length: section, page: 0x1000, chunks: [(0, section)]))
    // 48 MB from 0x3F000000 (the Pi 2/3 peripheral base): 16 MB up to 0x40000000, then 32 MB.
    cases.append(PlanCase(base: 0x3F00_0000, length: 48 * MB, page: 0x1000, chunks: [(0x3F00_0000, 16 * MB), (0x4000_0000, 32 * MB)]))
    // Several hundred MB, section-aligned: 300 MB is nine full sections and 12 MB.
    var sections: [(UInt64, UInt64)] = []
    for i in 0..<9 as Range<UInt64> { sections.append((0x1000_0000 + i * section, section)) }
    sections.append((0x1000_0000 + 9 * section, 12 * MB))
    cases.append(PlanCase(base: 0x1000_0000, length: 300 * MB, page: 0x1000, chunks: sections))
    // Above 4 GiB: Raspberry Pi 5's RP1 GPIO.
    cases.append(PlanCase(base: 0x1F_000D_0000, length: 0xC000, page: 0x1000, chunks: [(0x1F_000D_0000, 0xC000)]))
    cases.append(PlanCase(base: 0x1F_000D_0000, length: 0xC000, page: 0x10000, chunks: [(0x1F_000D_0000, 0x10000)]))
    cases.append(
        PlanCase(base: 0x1F_01FF_F000, length: 0x2000, page: 0x4000, chunks: [(0x1F_01FF_C000, 0x4000), (0x1F_0200_0000, 0x4000)]))
    // Ranges ending at 2^64 - 1 must not overflow.
    cases.append(PlanCase(base: 0xFFFF_FFFF_FFFF_F000, length: 0x1000, page: 0x1000, chunks: [(0xFFFF_FFFF_FFFF_F000, 0x1000)]))
    cases.append(PlanCase(base: .max, length: 1, page: 0x10000, chunks: [(0xFFFF_FFFF_FFFF_0000, 0x10000)]))
    cases.append(
        PlanCase(
            base: .max - section, length: section + 1, page: 0x1000,
            chunks: [(0xFFFF_FFFF_FDFF_F000, 0x1000), (0xFFFF_FFFF_FE00_0000, section)]))
    return cases
}()

@Suite("ChunkPlanner")
struct ChunkPlannerTests {
    @Test(arguments: planCases)
    func plan(_ c: PlanCase) throws {
        let range = try PhysicalRange(base: c.base, length: c.length)
        let chunks = ChunkPlanner.plan(range, pageSize: c.page)
        #expect(chunks == c.chunks.map { Chunk(base: $0.0, length: $0.1) })
    }

    @Test func fortyEightMegabytesNeedsAtLeastTwoChunks() throws {
        let chunks = ChunkPlanner.plan(try PhysicalRange(base: 0x3F00_0000, length: 48 * MB), pageSize: 0x1000)
        #expect(chunks.count >= 2)
        #expect(chunks.allSatisfy { $0.length <= section })
    }

    @Test(arguments: [1 as UInt64, 0x1000, 0x10000, MB, 32 * MB, 100 * MB, 512 * MB, 900 * MB])
    func lengthsFromOneByteToHundredsOfMegabytes(length: UInt64) throws {
        let base: UInt64 = 0x3F00_0123
        let chunks = ChunkPlanner.plan(try PhysicalRange(base: base, length: length), pageSize: 0x1000)
        let firstPage = base & ~0xFFF
        let lastByte = (base + length - 1) | 0xFFF
        #expect(chunks.first?.base == firstPage)
        #expect(chunks.last?.last == lastByte)
        #expect(chunks.reduce(0) { $0 + $1.length } == lastByte - firstPage + 1)
        #expect(chunks.count == Int((lastByte >> 25) - (firstPage >> 25) + 1))
    }

    @Test func chunkDescriptionAndLast() {
        let c = Chunk(base: 0x1F_000D_0000, length: 0x1000)
        #expect(c.last == 0x1F_000D_0FFF)
        #expect(c.description == "chunk 0x1F000D0000 +0x1000")
        #expect(Chunk(base: 0xFFFF_FFFF_FFFF_F000, length: 0x1000).last == .max)
    }

    @Test(arguments: [
        // (address, first chunk base, index)
        (0x3F00_0000 as UInt64, 0x3F00_0000 as UInt64, 0),
        (0x3FFF_FFFF, 0x3F00_0000, 0),
        (0x4000_0000, 0x3F00_0000, 1),
        (0x41FF_FFFF, 0x3F00_0000, 1),
        (0x4200_0000, 0x3F00_0000, 2),
        (0x1F_000D_0004, 0x1F_000D_0000, 0),
        (UInt64.max, 0xFFFF_FFFF_FDFF_F000, 1),
    ])
    func chunkIndex(address: UInt64, firstChunkBase: UInt64, index: Int) {
        #expect(ChunkPlanner.chunkIndex(of: address, firstChunkBase: firstChunkBase) == index)
    }

    /// Checks every rule of the design on thousands of generated ranges.
    @Test(arguments: [4096 as UInt64, 16384, 65536])
    func propertiesOfGeneratedRanges(pageSize: UInt64) throws {
        var rng = SplitMix64(state: 0x10_6A7E ^ pageSize)
        for _ in 0..<3000 {
            let length: UInt64
            switch rng.next() % 4 {
            case 0: length = rng.upTo(16)
            case 1: length = rng.upTo(0x10000)
            case 2: length = rng.upTo(64 * MB)
            default: length = rng.upTo(600 * MB)
            }
            var base: UInt64
            switch rng.next() % 5 {
            case 0: base = rng.next() % (1 << 32)
            case 1: base = rng.next() % (1 << 40)
            case 2: base = (rng.next() % (1 << 20)) * section &- rng.upTo(0x3000) &+ rng.next() % 0x3000  // near a boundary
            case 3: base = .max - rng.next() % (2048 * MB)  // near the top of the address space
            default: base = rng.next()
            }
            if base > .max - (length - 1) { base = .max - (length - 1) }
            let range = try PhysicalRange(base: base, length: length)
            let chunks = ChunkPlanner.plan(range, pageSize: pageSize)
            let mask = pageSize - 1
            let firstPage = base & ~mask
            let lastByte = range.last | mask
            let label = "range \(range) page \(hex(pageSize))"

            try #require(!chunks.isEmpty, "\(label)")
            #expect(chunks[0].base == firstPage, "\(label)")
            #expect(chunks[chunks.count - 1].last == lastByte, "\(label)")
            // Chunk i covers section firstSection + i: the invariant chunkIndex relies on.
            #expect(chunks.count == Int((lastByte >> 25) - (firstPage >> 25) + 1), "\(label)")
            var total: UInt64 = 0
            for (i, c) in chunks.enumerated() {
                #expect(c.length > 0 && c.length <= section, "\(label): \(c)")
                #expect(c.base & mask == 0 && c.length & mask == 0, "\(label): \(c) not page aligned")
                #expect(c.base >> 25 == c.last >> 25, "\(label): \(c) crosses a 32 MB boundary")
                if i > 0 { #expect(c.base == chunks[i - 1].last &+ 1, "\(label): gap or overlap before \(c)") }
                total &+= c.length
            }
            #expect(total == lastByte &- firstPage &+ 1, "\(label)")

            // Sample addresses: both ends, random ones, and both sides of every chunk boundary inside the range.
            var samples = [base, range.last, base + rng.next() % length, base + rng.next() % length]
            for c in chunks.dropFirst() where c.base > base && c.base <= range.last { samples += [c.base - 1, c.base] }
            for a in samples {
                let i = ChunkPlanner.chunkIndex(of: a, firstChunkBase: chunks[0].base)
                #expect(chunks.indices.contains(i), "\(label): index \(i) for \(hex(a))")
                if chunks.indices.contains(i) {
                    #expect(a >= chunks[i].base && a <= chunks[i].last, "\(label): \(hex(a)) not in \(chunks[i])")
                }
            }
        }
    }
}

@Suite("PhysicalRange")
struct PhysicalRangeTests {
    @Test(arguments: [0 as UInt64, 0xFE20_0000, .max])
    func zeroLengthRefused(base: UInt64) {
        let error = expectThrows(IOGateError.self) { try PhysicalRange(base: base, length: 0) }
        #expect(error?.code == .config)
        #expect(error?.message.contains("has length 0") == true)
        #expect(error?.message.contains(hex(base)) == true)
    }

    @Test(arguments: [
        (UInt64.max, 2 as UInt64), (0xFFFF_FFFF_FFFF_F000, 0x1001), (2, .max), (0x8000_0000_0000_0000, 0x8000_0000_0000_0001),
    ])
    func wraparoundRefused(base: UInt64, length: UInt64) {
        let error = expectThrows(IOGateError.self) { try PhysicalRange(base: base, length: length) }
        #expect(error?.code == .config)
        #expect(error?.message.contains("wraps past 2^64") == true)
        #expect(error?.message.contains("0xFFFFFFFFFFFFFFFF") == true)
    }

    @Test(arguments: [(UInt64.max, 1 as UInt64), (0, .max), (1, .max), (0xFFFF_FFFF_FFFF_F000, 0x1000)])
    func rangesTouchingTheTopAreAccepted(base: UInt64, length: UInt64) throws {
        let r = try PhysicalRange(base: base, length: length)
        #expect(r.last == base &+ (length - 1))
    }

    @Test func description() throws {
        #expect(try PhysicalRange(base: 0xFE20_0000, length: 0xF4).description == "0xFE200000..<0xFE2000F4")
        #expect(try PhysicalRange(base: 0xFFFF_FFFF_FFFF_F000, length: 0x1000).description == "0xFFFFFFFFFFFFF000...0xFFFFFFFFFFFFFFFF")
    }

    @Test(arguments: [
        // (address, size, inside [0x1000, 0x1100))
        (0x1000 as UInt64, 1 as UInt64, true), (0x0FFF, 1, false), (0x0FFF, 2, false), (0x10FF, 1, true),
        (0x1100, 1, false), (0x10FC, 4, true), (0x10FD, 4, false), (0x1000, 0x100, true), (0x1000, 0x101, false),
        (0x1000, 0, false), (.max, 2, false), (0x1080, .max, false),
    ])
    func contains(address: UInt64, size: UInt64, inside: Bool) throws {
        #expect(try PhysicalRange(base: 0x1000, length: 0x100).contains(address, size: size) == inside)
    }

    @Test func containsAtTheTopOfTheAddressSpace() throws {
        let top = try PhysicalRange(base: .max - 7, length: 8)
        #expect(top.contains(.max - 7, size: 8))
        #expect(top.contains(.max, size: 1))
        #expect(!top.contains(.max, size: 2))  // would wrap
        #expect(!top.contains(.max - 8, size: 1))
    }

    @Test(arguments: [
        // (base, length, overlaps [0x1000, 0x1100))
        (0x0F00 as UInt64, 0x100 as UInt64, false),  // touches below
        (0x0F00, 0x101, true),  // shares the first byte
        (0x1100, 0x10, false),  // touches above
        (0x10FF, 0x10, true),  // shares the last byte
        (0x1010, 0x10, true),  // inside
        (0x0000, 0x10000, true),  // around
        (0x1000, 0x100, true),  // identical
        (0x2000, 0x10, false),
    ])
    func overlaps(base: UInt64, length: UInt64, expected: Bool) throws {
        let a = try PhysicalRange(base: 0x1000, length: 0x100)
        let b = try PhysicalRange(base: base, length: length)
        #expect(a.overlaps(b) == expected)
        #expect(b.overlaps(a) == expected)
    }

    @Test func overlapsAtTheTop() throws {
        let top = try PhysicalRange(base: .max, length: 1)
        let fromZero = try PhysicalRange(base: 0, length: .max), fromOne = try PhysicalRange(base: 1, length: .max)
        #expect(top.overlaps(fromZero) == false)
        #expect(top.overlaps(fromOne) == true)
    }

    struct UnionCase: Sendable, CustomStringConvertible {
        var name: String
        var input: [(UInt64, UInt64)]
        var output: [(UInt64, UInt64)]
        var description: String { name }
    }

    @Test(arguments: [
        UnionCase(name: "empty", input: [], output: []),
        UnionCase(name: "one", input: [(0x1000, 0x100)], output: [(0x1000, 0x100)]),
        UnionCase(name: "overlapping", input: [(0x1000, 0x100), (0x1080, 0x100)], output: [(0x1000, 0x180)]),
        UnionCase(name: "touching", input: [(0x1000, 0x100), (0x1100, 0x100)], output: [(0x1000, 0x200)]),
        UnionCase(name: "one-byte gap", input: [(0x1000, 0x100), (0x1101, 0x10)], output: [(0x1000, 0x100), (0x1101, 0x10)]),
        UnionCase(name: "unsorted disjoint", input: [(0x3000, 0x10), (0x1000, 0x10)], output: [(0x1000, 0x10), (0x3000, 0x10)]),
        UnionCase(name: "contained", input: [(0x1000, 0x1000), (0x1100, 0x10)], output: [(0x1000, 0x1000)]),
        UnionCase(name: "duplicates", input: [(0x1000, 0x10), (0x1000, 0x10)], output: [(0x1000, 0x10)]),
        UnionCase(
            name: "chain, unsorted", input: [(0x1200, 0x100), (0x1000, 0x100), (0x1100, 0x100), (0x5000, 1)],
            output: [(0x1000, 0x300), (0x5000, 1)]),
        UnionCase(name: "touching the top", input: [(.max - 0xFF, 0x100), (.max - 0x1FF, 0x100)], output: [(.max - 0x1FF, 0x200)]),
        UnionCase(
            name: "inside a range ending at the top", input: [(.max - 0xFF, 0x100), (.max - 0x7F, 0x10)], output: [(.max - 0xFF, 0x100)]),
    ])
    func union(_ c: UnionCase) throws {
        let input = try c.input.map { try PhysicalRange(base: $0.0, length: $0.1) }
        let expected = try c.output.map { try PhysicalRange(base: $0.0, length: $0.1) }
        #expect(PhysicalRange.union(input) == expected)
        #expect(PhysicalRange.union(input.reversed()) == expected)
    }
}
