import IOGateCore
import Testing

/// `/proc/iomem` of an x86 QEMU guest with the edu and ivshmem devices, as root reads it.
private let x86Sample = """
    00000000-00000fff : Reserved
    00001000-0009fbff : System RAM
    0009fc00-0009ffff : Reserved
    000a0000-000bffff : PCI Bus 0000:00
    000c0000-000c99ff : Video ROM
    000f0000-000fffff : Reserved
      000f0000-000fffff : System ROM
    00100000-7ffdffff : System RAM
      2a000000-2b002fff : Kernel code
      2b200000-2b8fffff : Kernel rodata
      2ba00000-2bd4cf7f : Kernel data
      2c2a2000-2c5fffff : Kernel bss
    7ffe0000-7fffffff : Reserved
    80000000-afffffff : PCI Bus 0000:00
    b0000000-bfffffff : PCI MMCONFIG 0000 [bus 00-ff]
      b0000000-bfffffff : Reserved
    c0000000-febfffff : PCI Bus 0000:00
      fd000000-fdffffff : 0000:00:02.0
      fea00000-feafffff : 0000:00:04.0
        fea00000-feafffff : edu
      feb00000-febfffff : 0000:00:03.0
    fec00000-fec003ff : IOAPIC 0
    fed00000-fed003ff : HPET 0
      fed00000-fed003ff : PNP0103:00
    fee00000-fee00fff : Local APIC
    feffc000-feffffff : Reserved
    fffc0000-ffffffff : Reserved
    100000000-17fffffff : System RAM
    380000000000-3807ffffffff : PCI Bus 0000:00
      380000000000-380007ffffff : 0000:00:03.0
        380000000000-380007ffffff : ivshmem
    """

/// A Raspberry Pi 3 running Debian's arm64 kernel: the pin driver claims the GPIO block.
private let pi3Sample = """
    00000000-3b3fffff : System RAM
      00210000-0143ffff : Kernel code
      01440000-0168ffff : reserved
      01690000-01a1ffff : Kernel data
    3f006000-3f006fff : dwc_otg
    3f007000-3f007eff : dma@7e007000
    3f200000-3f2000b3 : 3f200000.gpio gpio@7e200000
    3f201000-3f2011ff : serial@7e201000
      3f201000-3f2011ff : 3f201000.serial serial@7e201000
    3f300000-3f3000ff : 3f300000.mmcnr mmcnr@7e300000
    """

private func range(_ base: UInt64, _ length: UInt64) -> PhysicalRange { try! PhysicalRange(base: base, length: length) }

@Suite("Iomem")
struct IomemTests {
    private let x86 = Iomem(text: x86Sample)
    private let pi3 = Iomem(text: pi3Sample)

    @Test func parsesEveryLineWithItsDepth() {
        #expect(x86.regions.count == 31)
        #expect(x86.regions.first.map { [$0.range.base, $0.range.length, UInt64($0.depth)] } == [0, 0x1000, 0])
        #expect(x86.regions.first?.name == "Reserved")
        let edu = x86.regions.first { $0.name == "edu" }
        #expect(edu?.range == range(0xFEA0_0000, 0x10_0000))
        #expect(edu?.depth == 2)
        #expect(x86.regions.first { $0.name == "IOAPIC 0" }?.range == range(0xFEC0_0000, 0x400))
        #expect(x86.regions.first { $0.name == "Kernel code" }?.depth == 1)
        #expect(x86.regions.first { $0.name == "PCI MMCONFIG 0000 [bus 00-ff]" }?.range == range(0xB000_0000, 0x1000_0000))
        #expect(x86.regions.first { $0.name == "ivshmem" }?.range == range(0x3800_0000_0000, 0x800_0000))
        #expect(x86.regions.last?.depth == 2)
        #expect(
            x86.regions.filter { $0.name == "System RAM" }.map(\.range) == [
                range(0x1000, 0x9_EC00), range(0x10_0000, 0x7FEE_0000), range(0x1_0000_0000, 0x8000_0000),
            ])
        #expect(pi3.regions.count == 10)
        #expect(pi3.regions.first { $0.range.base == 0x3F20_0000 }?.name == "3f200000.gpio gpio@7e200000")
    }

    @Test func descriptionMatchesTheKernelFormat() {
        #expect(x86.regions.first { $0.name == "edu" }?.description == "fea00000-feafffff : edu")
    }

    @Test(arguments: [
        ("System RAM", true), ("Kernel code", true), ("Kernel bss", true), ("Reserved", false), ("reserved", false), ("System ROM", false),
        ("edu", false),
    ])
    func ram(name: String, isRAM: Bool) {
        let iomem = Iomem(text: "00001000-00001fff : \(name)\n")
        #expect(iomem.regions.first?.isRAM == isRAM)
    }

    @Test(arguments: [
        // (base, length, names of the RAM regions it overlaps)
        (0x2A00_0000 as UInt64, 0x1000 as UInt64, ["System RAM", "Kernel code"]),
        (0x7FFD_F000, 0x2000, ["System RAM"]),  // last page of low RAM and the first Reserved page
        (0x7FFE_0000, 0x1000, []),  // Reserved is not RAM
        (0xFEA0_0000, 0x1000, []),  // edu BAR
        (0xFEC0_0000, 0x400, []),  // IOAPIC
        (0x9_F000, 0x1000, ["System RAM"]),
        (0x1_0000_0000, 1, ["System RAM"]),  // high RAM
        (0x1_8000_0000, 0x1000, []),
        (0, 0x1_0000_0000, ["System RAM", "System RAM", "Kernel code", "Kernel rodata", "Kernel data", "Kernel bss"]),
    ])
    func ramOverlapping(base: UInt64, length: UInt64, names: [String]) {
        #expect(x86.ramOverlapping(range(base, length)).map(\.name) == names)
    }

    @Test(arguments: [
        // (base, length, the deepest non-RAM claims it overlaps)
        (0xFEA0_0000 as UInt64, 0x1000 as UInt64, ["edu"]),
        (0xFEAF_FFFC, 4, ["edu"]),
        (0xFEC0_0000, 0x400, ["IOAPIC 0"]),
        (0xFEC0_0000, 0x1000, ["IOAPIC 0"]),
        (0xFED0_0000, 4, ["PNP0103:00"]),
        (0x3800_0000_1000, 0x1000, ["ivshmem"]),
        (0xFD00_0000, 0x1000, ["0000:00:02.0"]),
        (0x1_8000_0000, 0x1000, []),  // nothing claims it
        (0x20_0000, 0x1000, []),  // plain RAM is not a claim
        (0x2A00_0000, 0x1000, []),  // nor is the kernel image
        (0xB000_1000, 4, ["Reserved"]),
    ])
    func claimsOverlapping(base: UInt64, length: UInt64, names: [String]) {
        #expect(x86.claimsOverlapping(range(base, length)).map(\.name) == names)
    }

    @Test func gpioClaimOnAPi3() {
        let claims = pi3.claimsOverlapping(range(0x3F20_0000, 0xB4))
        #expect(claims.map(\.name) == ["3f200000.gpio gpio@7e200000"])
        #expect(pi3.ramOverlapping(range(0x3F20_0000, 0xB4)).isEmpty)
        #expect(pi3.claimsOverlapping(range(0x3F20_1000, 0x200)).map(\.name) == ["3f201000.serial serial@7e201000"])
        #expect(pi3.ramOverlapping(range(0x3B3F_F000, 0x2000)).map(\.name) == ["System RAM"])
    }

    @Test(arguments: [
        ("00000000-00000000 : System RAM\n00000000-00000000 : Reserved\n  00000000-00000000 : Kernel code\n", true),
        ("00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n", false),
        ("00000000-00000000 : System RAM\n00001000-0009fbff : System RAM\n", false),
        ("", false),
        ("not iomem at all\n", false),
    ])
    func redacted(text: String, redacted: Bool) {
        #expect(Iomem(text: text).isRedacted == redacted)
    }

    @Test func unprivilegedViewOfTheSample() {
        // What a non-root reader sees: every address zeroed, names kept.
        let zeroed = x86Sample.split(separator: "\n").map { line -> String in
            let indent = line.prefix { $0 == " " }
            let name = line.split(separator: ":", maxSplits: 1)[1]
            return String(indent) + "00000000-00000000 :" + String(name)
        }.joined(separator: "\n")
        let iomem = Iomem(text: zeroed)
        #expect(iomem.regions.count == 31)
        #expect(iomem.isRedacted)
        #expect(!x86.isRedacted)
    }

    @Test(arguments: [
        "garbage",
        "fea00000-feafffff edu",  // no " : "
        "fea00000 : edu",  // no end
        "feafffff-fea00000 : backwards",
        "zzzz-ffff : bad hex",
        "1-2-3 : three parts",
        "10000000000000000-10000000000000001 : beyond 64 bits",
        " : empty span",
    ])
    func unparsableLinesAreSkipped(line: String) {
        let iomem = Iomem(text: "00001000-00001fff : before\n\(line)\n00002000-00002fff : after\n")
        #expect(iomem.regions.map(\.name) == ["before", "after"])
    }

    @Test func topOfTheAddressSpace() {
        let iomem = Iomem(text: "fffffffffffff000-ffffffffffffffff : top\n")
        #expect(iomem.regions.first?.range == range(0xFFFF_FFFF_FFFF_F000, 0x1000))
    }
}
