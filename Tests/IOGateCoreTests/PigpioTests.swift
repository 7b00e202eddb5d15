import IOGateCore
import Testing

private func board(_ windows: String) throws -> Board {
    try Board.parse(
        text: """
            id = "t"
            name = "test"
            soc = "test"
            compatible = ["test"]
            \(windows)
            """, file: "t.toml")
}

private let bcm2711Window = """
    [[window]]
    name = "gpio"
    base = 0xfe200000
    length = 0x100
    model = "bcm2711"
    pins = 58
    source = "test"
    """

private let omapWindows = (0..<2).map { i in
    """
    [[window]]
    name = "gpio\(i)"
    base = \(0x4800_0000 + i * 0x1000)
    length = 0x1000
    model = "omap"
    pins = 32
    source = "test"
    """
}.joined(separator: "\n")

@Suite struct PigpioFrameTests {
    @Test func decodesLittleEndianWordsAndEchoesInTheReply() throws {
        // pigs w 17 1: cmd 4, p1 17, p2 1, p3 0
        let bytes: [UInt8] = [4, 0, 0, 0, 17, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
        let f = try #require(PigpioFrame(bytes: bytes))
        #expect(f == PigpioFrame(command: 4, p1: 17, p2: 1, p3: 0))
        #expect(f.knownCommand == .write)
        #expect(f.bytes == bytes)
        #expect(f.reply(PigpioStatus.notPermitted).bytes == [4, 0, 0, 0, 17, 0, 0, 0, 1, 0, 0, 0, 0xD7, 0xFF, 0xFF, 0xFF])
        #expect(f.reply(unsigned: 0x0002_0000).p3 == 0x0002_0000)
    }

    @Test func shortInputDoesNotDecode() {
        #expect(PigpioFrame(bytes: [UInt8](repeating: 0, count: 15)) == nil)
        #expect(PigpioFrame(bytes: [UInt8](repeating: 0xFF, count: 20))?.p3 == 0xFFFF_FFFF)
    }

    // Values from PI_CMD_* in pigpio.h (version 79).
    @Test(
        arguments: [
            (PigpioCommand.modes, 0), (.modeg, 1), (.pud, 2), (.read, 3), (.write, 4), (.br1, 10), (.br2, 11),
            (.bc1, 12), (.bc2, 13), (.bs1, 14), (.bs2, 15), (.tick, 16), (.hwver, 17), (.no, 18), (.nb, 19),
            (.np, 20), (.nc, 21), (.pigpv, 26), (.fg, 97), (.fn, 98), (.noib, 99),
        ] as [(PigpioCommand, UInt32)])
    func commandCodesMatchPigpioH(_ c: PigpioCommand, _ code: UInt32) {
        #expect(c.rawValue == code)
    }

    @Test func unknownCommandsDecodeToNil() {
        #expect(PigpioFrame(command: 5).knownCommand == nil)  // PWM: not served
        #expect(PigpioFrame(command: 800).knownCommand == nil)
    }

    @Test func errorCodesMatchPigpioH() {
        #expect(PigpioStatus.badGPIO == -3)
        #expect(PigpioStatus.badMode == -4)
        #expect(PigpioStatus.badLevel == -5)
        #expect(PigpioStatus.badPUD == -6)
        #expect(PigpioStatus.badHandle == -25)
        #expect(PigpioStatus.notPermitted == -41)
        #expect(PigpioStatus.unknownCommand == -88)
        #expect(PigpioStatus.badFilter == -125)
    }

    @Test func reportIsTwelveLittleEndianBytes() {
        let r = PigpioReport(sequence: 0x0102, flags: 0, tick: 0x0A0B0C0D, level: 0x0002_0000)
        #expect(r.bytes == [0x02, 0x01, 0, 0, 0x0D, 0x0C, 0x0B, 0x0A, 0, 0, 0x02, 0])
        #expect(r.bytes.count == PigpioReport.size)
    }
}

@Suite struct PigpioModeTests {
    // PI_INPUT 0, PI_OUTPUT 1, PI_ALT0 4 ... PI_ALT3 7, PI_ALT4 3, PI_ALT5 2.
    @Test(arguments: [
        (UInt32(0), PinFunction.input), (1, .output), (4, .alt(0)), (5, .alt(1)), (6, .alt(2)), (7, .alt(3)),
        (3, .alt(4)), (2, .alt(5)),
    ])
    func modesRoundTrip(_ mode: UInt32, _ function: PinFunction) {
        #expect(PigpioMode.function(mode) == function)
        #expect(PigpioMode.mode(function) == mode)
    }

    @Test func pigpioModesAreTheBCMFunctionCodes() throws {
        let layout = try #require(GPIOLayout(model: .bcm2711, pins: 58))
        for mode in UInt32(0)...7 {
            #expect(try layout.encode(#require(PigpioMode.function(mode))) == UInt64(mode))
        }
        #expect(PigpioMode.function(8) == nil)
    }

    @Test func pulls() {
        #expect(PigpioMode.pull(0) == PinPull.none)
        #expect(PigpioMode.pull(1) == .down)
        #expect(PigpioMode.pull(2) == .up)
        #expect(PigpioMode.pull(3) == nil)
    }

    @Test func revisions() {
        #expect(PigpioRevision.code(boardID: "rpi4") == 0xc03111)
        #expect(PigpioRevision.code(boardID: "rpi3") == 0xa02082)
        #expect(PigpioRevision.code(boardID: "beaglebone-black") == 0)
    }
}

@Suite struct PigpioPinMapTests {
    @Test func bcm2711Addresses() throws {
        let map = try #require(PigpioPinMap(board: board(bcm2711Window)))
        #expect(map.pinCount == 58)
        let f = try #require(map.functionField(17))
        #expect(f.address == 0xFE20_0004)
        #expect(f.field.shift == 21)
        #expect(map.bit(.outputSet, 17)! == (0xFE20_001C, 1 << 17))
        #expect(map.bit(.outputClear, 40)! == (0xFE20_002C, 1 << 8))
        #expect(map.bit(.level, 33)! == (0xFE20_0038, 1 << 1))
        #expect(map.pullField(17)?.address == 0xFE20_00E8)
        #expect(map.controlRegisters(27) == [0xFE20_0008, 0xFE20_001C, 0xFE20_0028])
        #expect(map.functionField(58) == nil)
        #expect(map.locate(-1) == nil)
    }

    @Test func bankWritesGroupPerRegisterAndRefuseMissingPins() throws {
        let map = try #require(PigpioPinMap(board: board(bcm2711Window)))
        guard case .success(let w) = map.bankWrites(.outputSet, bank: 0, bits: 0x0002_0010) else { Issue.record("refused"); return }
        #expect(w.count == 1)
        #expect(w[0] == (0xFE20_001C, 0x0002_0010))
        // Bank 1 has pins 32...57: bit 26 is pin 58, which does not exist.
        guard case .failure(let missing) = map.bankWrites(.outputClear, bank: 1, bits: 1 << 26 | 1) else {
            Issue.record("accepted"); return
        }
        #expect(missing.pins == [58])
    }

    @Test func bankWordFromLevelRegister() throws {
        let map = try #require(PigpioPinMap(board: board(bcm2711Window)))
        let levels = map.bankLevels(bank: 1)
        #expect(levels.count == 26)
        #expect(PigpioPinMap.bankWord(levels, registers: [0xFE20_0038: 0xFFFF_FFFF]) == 0x03FF_FFFF)
        #expect(map.bankLevels(bank: 2).isEmpty)
    }

    @Test func omapBanksAreWindowsInBoardOrder() throws {
        let map = try #require(PigpioPinMap(board: board(omapWindows)))
        #expect(map.pinCount == 64)
        #expect(map.bit(.level, 49)! == (0x4800_1138, 1 << 17))
        #expect(map.bit(.outputSet, 3)! == (0x4800_0194, 1 << 3))
        #expect(map.functionField(49)?.address == 0x4800_1134)
        #expect(map.pullField(49) == nil)
    }

    @Test func boardWithoutModelledGPIOHasNoMap() throws {
        let b = try board(
            """
            [[window]]
            name = "pio"
            base = 0x1c20800
            length = 0x400
            model = "sunxi"
            pins = 32
            source = "test"
            """)
        #expect(PigpioPinMap(board: b) == nil)
    }
}

@Suite struct PigpioConfigTests {
    let grant = """
        [[grant]]
        uid = 1000
        IoBase = [0xFE200000]
        IoLen = [0x100]
        access = "rw"
        """

    @Test func offByDefault() throws {
        let c = try Config.parse(text: grant, file: "c.toml")
        #expect(c.pigpioListen == nil)
        #expect(c.pigpioAs == nil)
    }

    @Test func loopbackWithUser() throws {
        let c = try Config.parse(text: "pigpio_listen = \"127.0.0.1:8888\"\npigpio_as = \"gpio-user\"\n" + grant, file: "c.toml")
        #expect(c.pigpioListen == PigpioEndpoint("127.0.0.1:8888"))
        #expect(c.pigpioListen?.port == 8888)
        #expect(c.pigpioAs == .user("gpio-user"))
        let n = try Config.parse(text: "pigpio_listen = \"localhost:0\"\npigpio_as = 1000\n" + grant, file: "c.toml")
        #expect(n.pigpioAs == .uid(1000))
        #expect(n.pigpioListen?.description == "127.0.0.1:0")
    }

    @Test(arguments: [
        (
            "pigpio_listen = \"0.0.0.0:8888\"\npigpio_as = \"u\"\n",
            "c.toml:1: 'pigpio_listen' is 0.0.0.0:8888, which other machines can reach"
        ),
        ("pigpio_listen = \"127.0.0.1:8888\"\n", "c.toml:1: 'pigpio_listen' is set but 'pigpio_as' is not"),
        ("pigpio_as = \"u\"\n", "c.toml:1: 'pigpio_as' is set but 'pigpio_listen' is not"),
        ("pigpio_listen = \"127.0.0.1\"\npigpio_as = \"u\"\n", "c.toml:1: 'pigpio_listen' is \"127.0.0.1\"; expected IPv4-ADDRESS:PORT"),
        ("pigpio_listen = \"127.0.0.1:70000\"\npigpio_as = \"u\"\n", "expected IPv4-ADDRESS:PORT"),
        ("pigpio_listen = \"127.0.0.1:8888\"\npigpio_as = true\n", "c.toml:2: 'pigpio_as' must be a user name or a numeric uid"),
    ])
    func refusals(_ text: String, _ message: String) {
        #expect {
            _ = try Config.parse(text: text + grant, file: "c.toml")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func remoteNeedsExplicitSetting() throws {
        let c = try Config.parse(
            text: "pigpio_listen = \"0.0.0.0:8888\"\npigpio_allow_remote = true\npigpio_as = \"u\"\n" + grant, file: "c.toml")
        #expect(c.pigpioListen?.isLoopback == false)
        #expect(c.pigpioAllowRemote)
    }

    @Test(arguments: ["127.0.0.1:8888", "127.1.2.3:1", "localhost:8888"])
    func loopbackEndpoints(_ text: String) throws {
        #expect(try #require(PigpioEndpoint(text)).isLoopback)
    }

    @Test(arguments: ["", ":8888", "1.2.3:8888", "1.2.3.256:1", "host:1", "1.2.3.4:", "1.2.3.4:-1", "[::1]:8888"])
    func badEndpoints(_ text: String) {
        #expect(PigpioEndpoint(text) == nil)
    }
}
