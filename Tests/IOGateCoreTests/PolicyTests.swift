import IOGateCore
import Testing

private func range(_ base: UInt64, _ length: UInt64) -> PhysicalRange { try! PhysicalRange(base: base, length: length) }

/// The Pi 4 GPIO block as the DT gives it plus the pull registers (0xF4 bytes), and its UART.
private let gpio = range(0xFE20_0000, 0xF4)
private let uart = range(0xFE20_1000, 0x200)
private let spi = range(0xFE20_4000, 0x200)
private let alice = ClientIdentity(uid: 1000, gid: 1000, pid: 42, groups: [20, 997])

/// Checks that `body` throws an `IOGateError` with `code` whose message contains every fragment.
private func expectError(
    _ code: IOGateError.Code, _ fragments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    let error = expectThrows(IOGateError.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return }
    #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
    for f in fragments {
        #expect(error.message.contains(f), "expected '\(f)' in: \(error.message)", sourceLocation: sourceLocation)
    }
}

@Suite("Policy")
struct PolicyTests {
    @Test(arguments: [
        (Subject.uid(1000), true), (.uid(0), false), (.uid(1001), false),
        (.gid(1000), true),  // primary group
        (.gid(20), true), (.gid(997), true),  // supplementary groups
        (.gid(21), false), (.gid(0), false),
        (.user("alice"), false), (.group("gpio"), false),  // names never match: they are resolved first
    ])
    func subjectMatching(subject: Subject, matches: Bool) {
        #expect(alice.matches(subject) == matches)
    }

    @Test func subjectAndIdentityDescriptions() {
        #expect(Subject.uid(5).description == "uid 5")
        #expect(Subject.gid(6).description == "gid 6")
        #expect(Subject.user("pi").description == "user pi")
        #expect(Subject.group("gpio").description == "group gpio")
        #expect(alice.description == "uid 1000 (pid 42)")
    }

    @Test func allowlistCollectsOnlyMatchingGrants() {
        let policy = Policy(grants: [
            Grant(subject: .uid(1000), ranges: [GrantedRange(range: gpio, window: "gpio")], access: .rw),
            Grant(subject: .gid(20), ranges: [GrantedRange(range: uart, window: "uart0")], access: .ro),
            Grant(subject: .uid(1001), ranges: [GrantedRange(range: spi, window: "spi0")], access: .rw),
            Grant(subject: .gid(4), ranges: [GrantedRange(range: spi)], access: .rw),
        ])
        let list = policy.allowlist(for: alice)
        #expect(
            list.entries == [
                GrantedRange(range: gpio, window: "gpio", access: .rw), GrantedRange(range: uart, window: "uart0", access: .ro),
            ])
        #expect(list.client == alice)
        #expect(policy.allRanges == [gpio, uart, spi, spi])
        let bob = ClientIdentity(uid: 1001, gid: 1001, pid: 7)
        #expect(policy.allowlist(for: bob).entries.map(\.range) == [spi])
        #expect(policy.allowlist(for: ClientIdentity(uid: 5, gid: 5, pid: 1, groups: [4])).entries.map(\.range) == [spi])
    }

    @Test func grantAccessOverridesTheRangeAccess() {
        // The grant's access is what counts, whatever the range entry says.
        let policy = Policy(grants: [Grant(subject: .uid(1000), ranges: [GrantedRange(range: gpio, access: .rw)], access: .ro)])
        #expect(policy.allowlist(for: alice).entries.map(\.access) == [.ro])
    }

    @Test(arguments: [[Access.ro, .rw], [.rw, .ro], [.ro, .ro], [.rw, .rw]])
    func twoGrantsOnOneRangeStrongestWins(accesses: [Access]) throws {
        let policy = Policy(grants: [
            Grant(subject: .gid(20), ranges: [GrantedRange(range: gpio)], access: accesses[0]),
            Grant(subject: .uid(1000), ranges: [GrantedRange(range: gpio, window: "gpio")], access: accesses[1]),
        ])
        let list = policy.allowlist(for: alice)
        #expect(list.entries.count == 1)
        #expect(list.entries.first?.window == "gpio")  // a later grant names the window
        let expected = accesses.max()!
        #expect(list.entries.first?.access == expected)
        #expect(try list.check(0xFE20_0000, width: .word, write: false) == 0)
        if expected == .rw {
            #expect(try list.check(0xFE20_001C, width: .word, write: true) == 0)
        } else {
            expectError(.readOnly) { _ = try list.check(0xFE20_001C, width: .word, write: true) }
        }
    }

    @Test func readOnlyGrant() throws {
        let list = Allowlist(client: alice, entries: [GrantedRange(range: gpio, window: "gpio", access: .ro)])
        #expect(try list.check(0xFE20_0034, width: .word, write: false) == 0)
        expectError(.readOnly, ["write of 32 bits at 0xFE200034", "uid 1000", "only read access", "gpio 0xFE200000..<0xFE2000F4 (ro)"]) {
            _ = try list.check(0xFE20_0034, width: .word, write: true)
        }
    }

    @Test func writableRangeWinsOverAnOverlappingReadOnlyOne() throws {
        let whole = range(0xFE20_0000, 0x1000)
        let list = Allowlist(
            client: alice,
            entries: [
                GrantedRange(range: whole, window: "periph", access: .ro), GrantedRange(range: gpio, window: "gpio", access: .rw),
            ])
        #expect(try list.check(0xFE20_001C, width: .word, write: true) == 1)
        #expect(try list.check(0xFE20_001C, width: .word, write: false) == 0)
        // Outside the writable part, the read-only range answers.
        expectError(.readOnly, ["periph"]) { _ = try list.check(0xFE20_0800, width: .word, write: true) }
    }

    @Test func outsideEveryRangeListsTheGrantedRanges() {
        let list = Allowlist(
            client: alice,
            entries: [
                GrantedRange(range: gpio, window: "gpio", access: .rw), GrantedRange(range: uart, window: nil, access: .ro),
            ])
        expectError(
            .outsideAllowlist,
            [
                "access of 4 bytes at 0xFE201400 (32-bit)", "uid 1000",
                "granted: [gpio 0xFE200000..<0xFE2000F4 (rw), 0xFE201000..<0xFE201200 (ro)]",
            ]
        ) { _ = try list.check(0xFE20_1400, width: .word, write: false) }
        expectError(.outsideAllowlist, ["0x0"]) { _ = try list.check(0, width: .byte, write: false) }
    }

    @Test(arguments: [false, true])
    func noGrantAtAll(write: Bool) {
        let list = Policy(grants: [Grant(subject: .uid(0), ranges: [GrantedRange(range: gpio)], access: .rw)]).allowlist(for: alice)
        #expect(list.entries.isEmpty)
        expectError(.outsideAllowlist, ["uid 1000 (pid 42) has no grant", "0xFE200000"]) {
            _ = try list.check(0xFE20_0000, width: .word, write: write)
        }
    }

    @Test(arguments: [
        // (offset from 0xFE200000, width, aligned?)
        (0 as UInt64, AccessWidth.byte, true), (1, .byte, true), (3, .byte, true),
        (0, .half, true), (1, .half, false), (2, .half, true), (3, .half, false),
        (0, .word, true), (1, .word, false), (2, .word, false), (3, .word, false), (4, .word, true),
        (0, .double, true), (2, .double, false), (4, .double, false), (6, .double, false), (8, .double, true),
    ])
    func alignment(offset: UInt64, width: AccessWidth, aligned: Bool) throws {
        let list = Allowlist(client: alice, entries: [GrantedRange(range: range(0xFE20_0000, 0x1000), access: .rw)])
        if aligned {
            #expect(try list.check(0xFE20_0000 + offset, width: width, write: true) == 0)
        } else {
            expectError(.misaligned, ["\(width.bits)-bit", "multiple of \(width.bytes)", hex(0xFE20_0000 + offset)]) {
                _ = try list.check(0xFE20_0000 + offset, width: width, write: true)
            }
        }
    }

    @Test(arguments: [
        // Accesses near the end of the 0xF4-byte gpio range: (offset, width, count, allowed?)
        (0xF0 as UInt64, AccessWidth.word, 1 as UInt64, true),  // last register
        (0xF3, .byte, 1, true),  // last byte
        (0xF4, .byte, 1, false),  // first byte past the end
        (0xF2, .half, 1, true),
        (0xF0, .double, 1, false),  // aligned, but its upper half is past the end
        (0xE8, .double, 1, true),
        (0xF0, .half, 2, true), (0xF0, .half, 3, false),
        (0x00, .word, 0x3D, true),  // the whole range as a block
        (0x00, .word, 0x3E, false),  // one element too many
        (0x04, .word, 0x3C, true), (0x04, .word, 0x3D, false),
        (0x00, .byte, 0xF4, true), (0x00, .byte, 0xF5, false),
        (0x00, .word, 0, false),  // an empty block is refused, not allowed
    ])
    func spansNearTheEnd(offset: UInt64, width: AccessWidth, count: UInt64, allowed: Bool) throws {
        let list = Allowlist(client: alice, entries: [GrantedRange(range: gpio, window: "gpio", access: .rw)])
        if allowed {
            #expect(try list.check(0xFE20_0000 + offset, width: width, count: count, write: true) == 0)
        } else {
            expectError(.outsideAllowlist) { _ = try list.check(0xFE20_0000 + offset, width: width, count: count, write: true) }
        }
    }

    @Test func blockBelowTheBaseIsRefused() {
        let list = Allowlist(client: alice, entries: [GrantedRange(range: gpio, access: .rw)])
        expectError(.outsideAllowlist, ["access of 8 bytes at 0xFE1FFFFC"]) {
            _ = try list.check(0xFE1F_FFFC, width: .word, count: 2, write: false)
        }
    }

    @Test func blockAcrossTwoAdjacentRangesIsRefused() throws {
        // Each granted range is mapped on its own, so a block may not run from one into the next.
        let a = range(0x1000, 0x100), b = range(0x1100, 0x100)
        let list = Allowlist(client: alice, entries: [GrantedRange(range: a, access: .rw), GrantedRange(range: b, access: .rw)])
        #expect(try list.check(0x10F8, width: .double, write: false) == 0)
        #expect(try list.check(0x1100, width: .double, write: false) == 1)
        expectError(.outsideAllowlist) { _ = try list.check(0x10F8, width: .double, count: 2, write: false) }
    }

    @Test(arguments: [
        // (address, width, count): each wraps past 2^64 or overflows the size
        (0xFFFF_FFFF_FFFF_FFF8 as UInt64, AccessWidth.double, 2 as UInt64),
        (0xFFFF_FFFF_FFFF_FFFC, .word, 2),
        (0xFFFF_FFFF_FFFF_FFFF, .byte, 2),
        (0, .double, UInt64.max),  // 8 * count overflows
        (0, .half, 1 << 63),
        (0x1000, .byte, UInt64.max),
    ])
    func wrappingAccessesAreRefused(address: UInt64, width: AccessWidth, count: UInt64) {
        let list = Allowlist(
            client: alice, entries: [GrantedRange(range: range(0, .max), access: .rw), GrantedRange(range: range(.max, 1), access: .rw)])
        expectError(.outsideAllowlist, ["wraps past 2^64", hex(address)]) {
            _ = try list.check(address, width: width, count: count, write: false)
        }
    }

    @Test func accessAtTheTopOfTheAddressSpace() throws {
        let list = Allowlist(client: alice, entries: [GrantedRange(range: range(.max - 7, 8), access: .rw)])
        #expect(try list.check(.max - 7, width: .double, write: true) == 0)
        #expect(try list.check(.max, width: .byte, write: true) == 0)
        #expect(try list.check(.max - 1, width: .half, write: true) == 0)
        #expect(try list.check(.max - 7, width: .byte, count: 8, write: true) == 0)
    }

    @Test func accessOrdering() {
        #expect(Access.ro < Access.rw)
        #expect(!(Access.rw < Access.ro))
        #expect(!(Access.rw < Access.rw))
        #expect(max(Access.ro, .rw) == .rw)
    }

    @Test(arguments: AccessWidth.allCases)
    func widths(width: AccessWidth) throws {
        #expect(AccessWidth(bytes: width.bytes) == width)
        #expect(AccessWidth(bits: width.bits) == width)
        #expect(width.maxValue == (width == .double ? UInt64.max : (UInt64(1) << UInt64(width.bits)) - 1))
        #expect(throws: Never.self) { try width.check(width.maxValue, field: "value") }
        if width != .double {
            expectError(.badWidth, ["value", "\(width.bits)-bit"]) { try width.check(width.maxValue + 1, field: "value") }
        }
        #expect(try AccessWidth.decode(width.rawValue) == width)
    }

    @Test(arguments: [0, 3, 5, 16, 128, 255] as [UInt8])
    func badWidthBytes(byte: UInt8) {
        #expect(AccessWidth(bytes: Int(byte)) == nil)
        expectError(.badWidth, ["\(byte) bytes", "1, 2, 4 or 8"]) { _ = try AccessWidth.decode(byte) }
    }

    @Test(arguments: [0, 7, 12, 24, 128, -8])
    func badWidthBits(bits: Int) {
        #expect(AccessWidth(bits: bits) == nil)
    }
}
