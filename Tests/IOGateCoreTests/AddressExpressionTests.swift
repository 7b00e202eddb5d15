import IOGateCore
import Testing

@Suite("AddressExpression")
struct AddressExpressionTests {
    @Test(arguments: [
        ("0xFE20001C", AddressExpression.physical(0xFE20_001C)),
        ("0xfe20001c", .physical(0xFE20_001C)),
        ("0XFE20001C", .physical(0xFE20_001C)),
        ("0xFE20_001C", .physical(0xFE20_001C)),
        ("4263510044", .physical(4_263_510_044)),
        ("0", .physical(0)),
        ("0x1f000d0000", .physical(0x1F_000D_0000)),
        ("0xFFFFFFFFFFFFFFFF", .physical(.max)),
        (" 0x10 ", .physical(0x10)),
        ("gpio+0x1c", .window(name: "gpio", offset: 0x1C)),
        ("gpio+28", .window(name: "gpio", offset: 28)),
        ("gpio+0b100", .window(name: "gpio", offset: 4)),
        ("gpio", .window(name: "gpio", offset: 0)),
        ("gpio+0", .window(name: "gpio", offset: 0)),
        (" gpio+0x1c ", .window(name: "gpio", offset: 0x1C)),
        ("i2c1+0x4", .window(name: "i2c1", offset: 4)),
        ("gpio_bank-2+0x10", .window(name: "gpio_bank-2", offset: 0x10)),
    ])
    func parses(text: String, expected: AddressExpression) throws {
        #expect(try AddressExpression(parsing: text) == expected)
    }

    @Test(arguments: [
        ("", "is not a number (0xFE20001C) or WINDOW+OFFSET"),
        ("   ", "is not a number"),
        ("+1", "is not a number"),
        ("-1", "is not a number"),
        ("+0x10", "is not a number"),
        ("0x+1F", "is not a number"),
        ("0x-1", "is not a number"),
        ("0xZZ", "is not a number"),
        ("0x", "is not a number"),
        ("1gpio", "is not a number"),
        ("gpio!", "is not a number"),
        ("+gpio", "is not a number"),
        ("0x1_0000_0000_0000_0000", "is not a number"),  // 2^64 does not fit
        ("gpio+zz", "offset 'zz' in 'gpio+zz' is not a number"),
        ("gpio+", "offset '' in 'gpio+' is not a number"),
        ("gpio+0x", "is not a number"),
        ("gpio++1", "offset '+1' in 'gpio++1' is not a number"),
        ("gpio+-4", "is not a number"),
        ("gpio+0x1c+4", "offset '0x1c+4'"),
    ])
    func refuses(text: String, fragment: String) {
        let error = expectThrows(IOGateError.self) { try AddressExpression(parsing: text) }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
    }

    @Test(arguments: [
        ("0x10", 16 as UInt64?), ("0X10", 16), ("0xFe", 0xFE), ("0b101", 5), ("0B101", 5), ("0o17", 15), ("017", 17),
        ("1_000_000", 1_000_000), ("0x_FF", 0xFF), ("18446744073709551615", .max), ("0xFFFF_FFFF_FFFF_FFFF", .max),
        ("18446744073709551616", nil), ("0x10000000000000000", nil), ("", nil), ("_", nil), ("0x", nil), ("0b2", nil),
        ("0o8", nil), ("12a", nil), ("-1", nil), ("-0", nil), ("0x-0", nil), ("+1", nil), ("+0", nil), ("0x+1", nil), ("0b-1", nil),
        (" 1", nil), ("1.5", nil),
    ])
    func integers(text: String, value: UInt64?) {
        #expect(parseInteger(text) == value)
        #expect(parseInteger(Substring(text)) == value)
    }
}
