import IOGateCore
import Testing

/// Inputs found by the libFuzzer targets (scripts/fuzz.sh) that once crashed a parser. Most crashed
/// toml++ (inside TOMLKit), which the own parser (TOMLParser.swift) replaced; they stay as tests of it.
@Suite struct FuzzRegressionTests {
    /// toml++ aborted on an assertion when a table header's name started with a character no key
    /// can start with; found by fuzz-config as `[[\u{FFFD}grant]]`.
    @Test(arguments: [
        "[[\u{FFFD}grant]]\nuid = 1\n", "[.limits]\nmax_batch = 5\n", "[=x]\n", "[ é]\n", "[[ #c\n", "[\n\n", "[\r\n", "[[\n]]\n",
        "\u{FEFF}[.x]\n",
    ])
    func badTableHeaderIsAnError(header: String) throws {
        let text = "device = \"mock\"\n" + header
        let error = expectThrows(IOGateError.self) { try Config.parse(text: text, file: "/etc/iogate/iogate.toml") }
        #expect(error?.code == .config)
        #expect(error?.message.hasPrefix("/etc/iogate/iogate.toml:2:") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("TOML syntax error") == true)
        let boardError = expectThrows(IOGateError.self) { try Board.parse(text: header, file: "b.toml") }
        #expect(boardError?.message.hasPrefix("b.toml:1:") == true, "\(boardError?.message ?? "")")
    }

    /// The same in a file with CRLF line ends (the old workaround split lines by Swift Characters, and
    /// "\r\n" is one Character, so such a file was one line and its headers went unchecked); found by
    /// fuzz-config as `# IOGaon0confibbm = true\r\n[[[mao[maow_grro"\n`.
    @Test(arguments: ["# comment\r\n[[[mao[maow_grro\"\n", "device = \"mock\"\r\n[.limits]\r\n", "a = 1\r\n\r\n[[=x]]\r\n"])
    func badTableHeaderAfterCRLFIsAnError(text: String) throws {
        let error = expectThrows(IOGateError.self) { try Config.parse(text: text, file: "c.toml") }
        #expect(error?.message.contains("TOML syntax error: expected a table name") == true, "\(error?.message ?? "")")
    }

    /// A CRLF file's semantic errors name the right line too.
    @Test func crlfFileErrorsNameTheirLine() throws {
        let text = "device = \"mock\"\r\nboard = \"rpi4\"\r\n[[grant]]\r\nuid = 1\r\nwindows = [\"gpio\"]\r\naccess = \"rx\"\r\n"
        let error = expectThrows(IOGateError.self) { try Config.parse(text: text, file: "c.toml") }
        #expect(error?.message.hasPrefix("c.toml:6:") == true, "\(error?.message ?? "")")
    }

    /// Lines that look like bad headers inside multi-line strings and arrays are not headers.
    @Test func headerLookalikesInsideValuesAreFine() throws {
        let board = try Board.parse(
            text: """
                id = "x"
                name = "X"
                soc = "X"
                compatible = ["acme,x"]
                notes = \"\"\"
                [.not a header]
                [=]
                \"\"\"
                [[window]]
                name = "gpio"
                base = 0x1000
                length = 0x100
                source = "test"
                """, file: "x.toml")
        #expect(board.notes?.contains("[.not a header]") == true)
        // An inline table in a multi-line array: valid TOML, refused by the type check.
        let error = expectThrows(IOGateError.self) {
            try Config.parse(
                text: "device = \"mock\"\n[[grant]]\nuid = 1\nIoBase = [\n[{ a = 1 }],\n]\nIoLen = [1]\naccess = \"ro\"\n", file: "c.toml")
        }
        #expect(error?.message.contains("'IoBase' is an array; expected an integer") == true, "\(error?.message ?? "")")
    }

    /// toml++ aborted on `}` where an array element belongs; found by fuzz-config as `windows = ["gpio",} "nosuch"]`.
    @Test(arguments: ["windows = [\"gpio\",} \"nosuch\"]", "windows = [}]", "windows = [ # c\n\n }", "x = { a = [1, [}] }"])
    func braceInArrayIsAnError(value: String) throws {
        let text = "board = \"auto\"\n[[grant]]\ngroup = \"gpio\"\n" + value + "\naccess = \"ro\"\n"
        let error = expectThrows(IOGateError.self) { try Config.parse(text: text, file: "c.toml") }
        #expect(error?.message.contains("TOML syntax error") == true, "\(error?.message ?? "")")
        #expect(error?.message.hasPrefix("c.toml:4:") == true || error?.message.hasPrefix("c.toml:6:") == true, "\(error?.message ?? "")")
    }

    /// Braces after '[' or ',' inside strings and comments are not array elements.
    @Test func bracesInStringsAndCommentsAreFine() throws {
        let text = """
            socket_group = "a,}b[}"
            trace = '''
            [}, }'''
            [[grant]] # [}
            group = "gpio\\\\"
            IoBase = [0x1000, # ,}
              ]
            IoLen = [0x10]
            access = "ro"
            """
        let config = try Config.parse(text: text, file: "c.toml")
        #expect(config.socketGroup == "a,}b[}")
        #expect(config.trace == "[}, }")
    }

    /// toml++ read the text as a C string: a NUL byte used to hide everything after it.
    @Test func nulByteIsAnError() {
        let error = expectThrows(IOGateError.self) {
            try Config.parse(text: "device = \"mock\"\n\0\n[[grant]]\nuid = 1\n", file: "c.toml")
        }
        #expect(error?.message.hasPrefix("c.toml:2:1: TOML syntax error: the text contains a NUL byte") == true, "\(error?.message ?? "")")
    }
}

/// Found by the config fuzzer in CI: a `[}` in an array above a malformed table header (the old
/// workarounds had to run their checks in the right order; a one-pass parser meets the `}` first).
@Test func braceInArrayAboveABadHeaderIsAnError() throws {
    let text = "[[grant]]\nuid = 2000\nIoBase = [[}[[[\n[\u{FF}grant]]\n"
    do {
        _ = try Config.parse(text: text, file: "fuzz.toml")
        Issue.record("accepted")
    } catch {
        #expect(error.message.contains("fuzz.toml:3:"), "\(error.message)")
        #expect(error.message.contains("saw '}'"))
    }
}
