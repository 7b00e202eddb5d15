import Foundation
import IOGateCore
import Testing

/// Per-pin and per-bit grants: the masks `pins = [...]` and `bits = [...]` become, and what each
/// access through them becomes (`Allowlist.masked`).
@Suite struct PinGrantTests {
    static let catalog = try! BoardCatalog.builtin()
    static let client = ClientIdentity(uid: 1001, gid: 1001, pid: 1)

    static func policy(_ grants: String, board: String? = "rpi4") throws(IOGateError) -> Policy {
        let text = (board.map { "board = \"\($0)\"\n" } ?? "") + grants
        let config = try Config.parse(text: text, file: "t.toml")
        return try config.policy(board: board.map { try! catalog.board(id: $0) }, userID: { _ in nil }, groupID: { _ in nil })
    }

    static func allowlist(_ grants: String, board: String = "rpi4") throws -> Allowlist {
        try policy(grants, board: board).allowlist(for: client)
    }

    /// The mask of the 32-bit register at `offset` of the entry named `window`.
    static func mask(_ list: Allowlist, _ window: String, _ offset: UInt64) -> UInt64 {
        let e = list.entries.first { $0.window == window }!
        return e.masks!.granted(offset: offset, width: .word).mask
    }

    @Test func bcm2711PinsBecomeFieldAndBitMasks() throws {
        let list = try Self.allowlist("[[grant]]\nuid = 1001\npins = [17, 22]\naccess = \"rw\"\n")
        #expect(list.entries.count == 1)
        let gpioRange = try PhysicalRange(base: 0xFE20_0000, length: 0x100)
        #expect(list.entries[0].range == gpioRange)
        #expect(list.entries[0].masks?.pins == [17, 22])
        #expect(Self.mask(list, "gpio", 0x00) == 0)  // GPFSEL0: pins 0-9
        #expect(Self.mask(list, "gpio", 0x04) == 0x00E0_0000)  // GPFSEL1 bits 21-23: pin 17
        #expect(Self.mask(list, "gpio", 0x08) == 0x0000_01C0)  // GPFSEL2 bits 6-8: pin 22
        for reg: UInt64 in [0x1C, 0x28, 0x34] { #expect(Self.mask(list, "gpio", reg) == 0x0042_0000) }  // SET, CLR, LEV
        #expect(Self.mask(list, "gpio", 0x20) == 0)  // GPSET1: pins 32-57
        #expect(Self.mask(list, "gpio", 0xE8) == 0x0000_300C)  // PUP_PDN_CNTRL1: pins 17 and 22, 2 bits each
        #expect(Self.mask(list, "gpio", 0xE4) == 0)
    }

    @Test func writesModifiesAndReadsThroughAPinGrant() throws {
        let list = try Self.allowlist("[[grant]]\nuid = 1001\npins = [17]\naccess = \"rw\"\n")
        let base: UInt64 = 0xFE20_0000
        let e = try list.check(base + 0x04, width: .word, write: true)
        // A plain write to GPFSEL1 becomes a read-modify-write of pin 17's field.
        #expect(try list.masked(e, base + 0x04, width: .word, kind: .write, value: 0x0020_0000) == .readModifyWrite(mask: 0x00E0_0000))
        // GPSET0 acts on ones: pin 17 alone is stored as it is; a 1 for pin 18 is refused by name.
        #expect(try list.masked(e, base + 0x1C, width: .word, kind: .write, value: 1 << 17) == .plain)
        let set18 = expectThrows(IOGateError.self) { try list.masked(e, base + 0x1C, width: .word, kind: .write, value: 1 << 18) }
        #expect(set18?.code == .outsideAllowlist)
        #expect(set18?.message.contains("pin 18 (granted: pins 17)") == true, "\(set18?.message ?? "")")
        // A byte store at GPSET0+2: bit 1 is pin 17, bit 2 pin 18.
        #expect(try list.masked(e, base + 0x1E, width: .byte, kind: .write, value: 0x02) == .plain)
        #expect(throws: IOGateError.self) { try list.masked(e, base + 0x1E, width: .byte, kind: .write, value: 0x04) }
        // Modify may change pin 17's bits only.
        #expect(try list.masked(e, base + 0x04, width: .word, kind: .modify, mask: 0x00E0_0000) == .plain)
        let m18 = expectThrows(IOGateError.self) { try list.masked(e, base + 0x04, width: .word, kind: .modify, mask: 0x0700_0000) }
        #expect(m18?.message.contains("pin 18") == true, "\(m18?.message ?? "")")
        // Reads are whole, but only of registers that hold a granted bit.
        #expect(try list.masked(e, base + 0x34, width: .word, kind: .read) == .plain)
        let fsel0 = expectThrows(IOGateError.self) { try list.masked(e, base + 0x00, width: .word, kind: .read) }
        #expect(fsel0?.message.contains("no bit of this register is granted") == true, "\(fsel0?.message ?? "")")
        // A write to a register with none of the grant's bits names the pins it would change.
        let fsel4 = expectThrows(IOGateError.self) {
            try list.masked(e, base + 0x10, width: .word, kind: .modify, value: 1 << 0, mask: 0b111)
        }
        #expect(fsel4?.message.contains("it would change pin 40 (granted: pins 17)") == true, "\(fsel4?.message ?? "")")
        // A 64-bit write over GPFSEL0 and GPFSEL1: a masked read-modify-write of pin 17's field.
        #expect(
            try list.masked(e, base, width: .double, kind: .write, value: 0) == .readModifyWrite(mask: 0x00E0_0000 << 32))
    }

    @Test func rp1PinsCoverCtrlRioPadsAndTheirAliases() throws {
        let list = try Self.allowlist("[[grant]]\nuid = 1001\npins = [17]\naccess = \"rw\"\n", board: "rpi5")
        #expect(list.entries.map(\.window) == ["gpio", "rio", "pads"])
        for alias: UInt64 in [0, 0x1000, 0x2000, 0x3000] {
            #expect(Self.mask(list, "gpio", 0x8C + alias) == 0xFFFF_FFFF)  // GPIO17_CTRL: the pin's own register
            #expect(Self.mask(list, "gpio", 0x94 + alias) == 0)  // GPIO18_CTRL
            for reg: UInt64 in [0x0, 0x4, 0x8] { #expect(Self.mask(list, "rio", reg + alias) == 1 << 17) }  // OUT, OE, IN
            #expect(Self.mask(list, "pads", 0x48 + alias) == 0xFFFF_FFFF)  // pad of GPIO17
        }
        let rio: UInt64 = 0x1F_000E_0000
        let e = try list.check(rio + 0x2004, width: .word, write: true)
        // RIO OE's set alias acts on ones; a plain write to RIO OUT is a masked read-modify-write.
        #expect(try list.masked(e, rio + 0x2004, width: .word, kind: .write, value: 1 << 17) == .plain)
        #expect(throws: IOGateError.self) { try list.masked(e, rio + 0x2004, width: .word, kind: .write, value: 1 << 18) }
        #expect(try list.masked(e, rio, width: .word, kind: .write, value: 0) == .readModifyWrite(mask: 1 << 17))
        // A modify through the XOR alias stores only pin 17's bit of its result.
        #expect(try list.masked(e, rio + 0x1000, width: .word, kind: .modify, mask: 1 << 17) == .storeOnly(mask: 1 << 17))
    }

    @Test func omapClearDataOutModifyStoresOnlyGrantedOnes() throws {
        let list = try Self.allowlist("[[grant]]\nuid = 1001\npins = [33]\naccess = \"rw\"\n", board: "beaglebone-black")
        // Pin 33 is gpio1 line 1.
        #expect(list.entries.map(\.window) == ["gpio1"])
        #expect(Self.mask(list, "gpio1", 0x190) == 0x2)
        let base = list.entries[0].range.base
        let e = try list.check(base + 0x190, width: .word, write: true)
        #expect(try list.masked(e, base + 0x190, width: .word, kind: .modify, value: 0x2, mask: 0x2) == .storeOnly(mask: 0x2))
        #expect(try list.masked(e, base + 0x134, width: .word, kind: .write, value: 0) == .readModifyWrite(mask: 0x2))  // OE
    }

    @Test func bcm2835PullClockAndPullCode() throws {
        let list = try Self.allowlist("[[grant]]\nuid = 1001\npins = [4]\naccess = \"rw\"\n", board: "rpi3")
        #expect(Self.mask(list, "gpio", 0x94) == 0x3)  // GPPUD: the code, no pin by itself
        #expect(Self.mask(list, "gpio", 0x98) == 1 << 4)  // GPPUDCLK0
        let base = list.entries[0].range.base
        let e = try list.check(base + 0x98, width: .word, write: true)
        #expect(try list.masked(e, base + 0x98, width: .word, kind: .write, value: 1 << 4) == .plain)
        #expect(throws: IOGateError.self) { try list.masked(e, base + 0x98, width: .word, kind: .write, value: 1 << 5) }
    }

    @Test func bitsGrantRefusesPartialPlainWritesAndAllowsModifyWithin() throws {
        let list = try Self.allowlist("[[grant]]\nuid = 1001\nIoBase = [0x1000000]\nIoLen = [0x100]\nbits = [0xFF]\naccess = \"rw\"\n")
        let a: UInt64 = 0x100_0010
        let e = try list.check(a, width: .word, write: true)
        let plain = expectThrows(IOGateError.self) { try list.masked(e, a, width: .word, kind: .write, value: 1) }
        #expect(plain?.message.contains("side effects") == true, "\(plain?.message ?? "")")
        #expect(plain?.message.contains("bits 0xFFFFFF00") == true, "\(plain?.message ?? "")")
        #expect(try list.masked(e, a, width: .byte, kind: .write, value: 0x5A) == .plain)  // the whole granted byte
        #expect(try list.masked(e, a, width: .word, kind: .modify, value: 0x05, mask: 0x0F) == .plain)
        let wide = expectThrows(IOGateError.self) { try list.masked(e, a, width: .word, kind: .modify, mask: 0x100) }
        #expect(wide?.message.contains("bits 0x00000100") == true, "\(wide?.message ?? "")")
        #expect(try list.masked(e, a, width: .word, kind: .read) == .plain)
        #expect(throws: IOGateError.self) { try list.masked(e, a + 1, width: .byte, kind: .read) }  // bits 8-15: none granted
    }

    @Test func grantsOfOneClientMergeAndAWholeGrantWins() throws {
        let two = try Self.allowlist(
            "[[grant]]\nuid = 1001\npins = [17]\naccess = \"rw\"\n[[grant]]\nuid = 1001\npins = [22]\naccess = \"rw\"\n")
        #expect(two.entries.count == 1)
        #expect(two.entries[0].masks?.pins == [17, 22])
        #expect(Self.mask(two, "gpio", 0x1C) == 0x0042_0000)
        let whole = try Self.allowlist(
            "[[grant]]\nuid = 1001\npins = [17]\naccess = \"rw\"\n[[grant]]\nuid = 1001\nwindows = [\"gpio\"]\naccess = \"rw\"\n")
        let e = try whole.check(0xFE20_001C, width: .word, write: true)
        #expect(whole.entries[e].masks == nil)
        // A pin grant and a bit grant of the same range stay two entries.
        let mixed = try Self.allowlist(
            "[[grant]]\nuid = 1001\npins = [17]\naccess = \"rw\"\n[[grant]]\nuid = 1001\nIoBase = [0xFE200000]\nIoLen = [0x100]\nbits = [0xF]\naccess = \"rw\"\n"
        )
        #expect(mixed.entries.map { $0.masks?.isPins } == [true, false])
    }

    @Test func userPinsOfTheBoard() throws {
        let list = try Self.allowlist("[[grant]]\nuid = 1001\npins = \"user\"\naccess = \"rw\"\n")
        #expect(list.entries[0].masks?.pins == Array(2...27))
        #expect(Self.mask(list, "gpio", 0x1C) == 0x0FFF_FFFC)  // pigpio's PI_DEFAULT_UPDATE_MASK_R3
        #expect(Self.mask(list, "gpio", 0x0C) == 0)  // GPFSEL3: pins 30-39 (SD card, Ethernet, ...)
        #expect(list.entries[0].masks?.description == "pins 2-27")
        for id in ["rpi2", "rpi3", "rpi4", "rpi5"] { #expect(try Self.catalog.board(id: id).userPins == Array(2...27)) }
    }

    @Test func badPinAndBitsConfigurationsAreRefusedClearly() throws {
        func refusal(_ grant: String, board: String? = "rpi4") -> String {
            do {
                _ = try Self.policy("[[grant]]\nuid = 1001\naccess = \"rw\"\n" + grant, board: board)
                return "accepted"
            } catch {
                return error.message
            }
        }
        #expect(refusal("pins = [58]").contains("pin 58 does not exist on board 'rpi4'; its pins are 0...57"))
        #expect(refusal("pins = [4]", board: "orangepi-pc").contains("board 'orangepi-pc' has no GPIO block with a register model"))
        #expect(refusal("pins = [4]", board: nil).contains("no board is set"))
        #expect(refusal("pins = \"all\"").contains("expected an array of pin numbers or \"user\""))
        #expect(refusal("pins = []").contains("'pins' is empty"))
        #expect(refusal("pins = \"user\"", board: "rpi1").contains("board 'rpi1' names no user pins"))
        #expect(refusal("pins = [17]\nwindows = [\"gpio\"]").contains("window 'gpio' is granted whole"))
        #expect(refusal("IoBase = [0x1000000]\nIoLen = [0x100]\nbits = [0x1FFFFFFFF]").contains("wider than 32 bits"))
        #expect(refusal("IoBase = [0x1000000]\nIoLen = [0x100]\nbits = [0]").contains("is empty"))
        #expect(
            refusal("IoBase = [0x1000000]\nIoLen = [0x100]\nbits = [0xFF, 0xFF]").contains("bits has 2 entries but IoBase/IoLen have 1"))
        #expect(refusal("IoBase = [0x1000002]\nIoLen = [0x100]\nbits = [0xFF]").contains("multiples of 4"))
        #expect(refusal("windows = [\"gpio\"]\nbits = [0xFF]").contains("bits has 1 entries but IoBase/IoLen have 0"))
        // Errors name the file and line.
        #expect(refusal("pins = [58]").hasPrefix("t.toml:2: [[grant]] #1"))
    }

    @Test func boardUserPinsNeedASourceAndExistingPins() throws {
        let window = "[[window]]\nname = \"gpio\"\nbase = 0x1000\nlength = 0x100\nmodel = \"bcm2711\"\npins = 58\nsource = \"x\"\n"
        func parse(_ top: String) -> String {
            do {
                _ = try Board.parse(text: "id = \"b\"\nname = \"B\"\nsoc = \"S\"\ncompatible = [\"b\"]\n" + top + window, file: "b.toml")
                return "accepted"
            } catch {
                return error.message
            }
        }
        #expect(parse("user_pins = [2, 3]\nuser_pins_source = \"the header\"\n") == "accepted")
        #expect(parse("user_pins = [2, 3]\n").contains("needs 'user_pins_source'"))
        #expect(parse("user_pins = [58]\nuser_pins_source = \"x\"\n").contains("user pin 58 does not exist"))
    }
}

@Suite struct ExampleConfigurationTests {
    /// The shipped example grants group gpio the header's user pins, not the whole GPIO block.
    @Test func exampleGrantsTheUserPins() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let text = try String(contentsOf: url.appendingPathComponent("etc/iogate.toml.example"), encoding: .utf8)
        let config = try Config.parse(text: text, file: "iogate.toml.example")
        let policy = try config.policy(board: try BoardCatalog.builtin().board(id: "rpi4"), userID: { _ in 999 }, groupID: { _ in 42 })
        let list = policy.allowlist(for: ClientIdentity(uid: 1000, gid: 1000, pid: 1, groups: [42]))
        #expect(list.entries.count == 1)
        #expect(list.entries[0].masks?.pins == Array(2...27))
        #expect(list.entries.allSatisfy { $0.masks != nil })
    }
}
