import Foundation
import Glibc
import IOGate
import IOGateCore
import IOGateGPIO
import IOGateSystem
import IOGateTestSupport
import Testing

@testable import IOGateServer

/// Which kernel GPIO chip drives which board window.
@Suite struct GuardChipMatchingTests {
    static let boards: BoardCatalog = try! BoardDirectory.catalog(repositoryRoot + "/boards")

    @Test func raspberryPiByBoardLabel() throws {
        let gpio = try #require(Self.boards.boards.first { $0.id == "rpi4" }?.window(named: "gpio"))
        #expect(gpio.gpiochipLabel == "pinctrl-bcm2711")
        let chips = [
            FakeGPIOLineSource.chip(name: "gpiochip0", label: "pinctrl-bcm2711", count: 58),
            FakeGPIOLineSource.chip(name: "gpiochip1", label: "raspberrypi-exp-gpio", count: 8),
        ]
        let m = try #require(GPIOChipMatcher.chip(for: gpio, among: chips))
        #expect(m.chip.name == "gpiochip0")
        #expect(m.reason == .boardLabel("pinctrl-bcm2711"))
    }

    @Test func beagleBoneBanksBySysfsDeviceNotProbeOrderLabels() throws {
        let bone = try #require(Self.boards.boards.first { $0.id == "beaglebone-black" })
        // gpio-omap.c numbers its labels in probe order: here gpio0 (0x44e07000) probed last.
        let chips = [
            FakeGPIOLineSource.chip(name: "gpiochip0", label: "gpio-0-31", device: "4804c000.gpio", count: 32),
            FakeGPIOLineSource.chip(name: "gpiochip1", label: "gpio-32-63", device: "481ac000.gpio", count: 32),
            FakeGPIOLineSource.chip(name: "gpiochip2", label: "gpio-64-95", device: "481ae000.gpio", count: 32),
            FakeGPIOLineSource.chip(name: "gpiochip3", label: "gpio-96-127", device: "44e07000.gpio", count: 32),
        ]
        let expected = ["gpio0": "gpiochip3", "gpio1": "gpiochip0", "gpio2": "gpiochip1", "gpio3": "gpiochip2"]
        for (window, chip) in expected {
            let w = try #require(bone.window(named: window))
            #expect(GPIOChipMatcher.chip(for: w, among: chips)?.chip.name == chip, "\(window)")
        }
        // Without sysfs devices there is no trustworthy match for an omap bank.
        let bare = chips.map { GPIOChipInfo(name: $0.name, label: $0.label, lines: $0.lines) }
        #expect(GPIOChipMatcher.chip(for: try #require(bone.window(named: "gpio0")), among: bare) == nil)
    }

    @Test func modelLabelOnlyWhenUniqueAndNoBoardLabel() throws {
        let w = BoardWindow(
            name: "gpio", range: try PhysicalRange(base: 0x3F20_0000, length: 0xB4), model: .bcm2835, pins: 54, source: "test")
        let one = [FakeGPIOLineSource.chip(name: "gpiochip0", label: "pinctrl-bcm2835", count: 54)]
        #expect(GPIOChipMatcher.chip(for: w, among: one)?.reason == .modelLabel("pinctrl-bcm2835"))
        #expect(
            GPIOChipMatcher.chip(for: w, among: one + [FakeGPIOLineSource.chip(name: "gpiochip9", label: "pinctrl-bcm2835", count: 54)])
                == nil)
        var labelled = w
        labelled.gpiochipLabel = "something-else"
        #expect(GPIOChipMatcher.chip(for: labelled, among: one) == nil)
        #expect(GPIOChipMatcher.chip(for: w, among: []) == nil)
    }

    @Test func gpiochipLabelNeedsAModel() {
        let text = """
            id = "x"
            name = "X"
            soc = "X"
            compatible = ["x"]
            [[window]]
            name = "uart"
            base = 0x1000
            length = 0x100
            source = "test"
            gpiochip_label = "pinctrl-bcm2835"
            """
        #expect(throws: IOGateError.self) { try Board.parse(text: text, file: "x.toml") }
        do { _ = try Board.parse(text: text, file: "x.toml") } catch { #expect(error.message.contains("x.toml:10")) }
    }

    @Test func protectKernelLinesConfigKey() throws {
        let base = "device = \"mock\"\nboard = \"rpi4\"\n[[grant]]\nuid = 0\nwindows = [\"gpio\"]\naccess = \"rw\"\n"
        #expect(try Config.parse(text: base, file: "c.toml").protectKernelLines == true)
        #expect(try Config.parse(text: "protect_kernel_lines = false\n" + base, file: "c.toml").protectKernelLines == false)
        do {
            _ = try Config.parse(text: "protect_kernel_lines = \"no\"\n" + base, file: "c.toml")
            Issue.record("a string was accepted")
        } catch {
            #expect(error.message.hasPrefix("c.toml:1"), "\(error.message)")
        }
    }
}

/// The guard inside a real daemon (in this process, mock Raspberry Pi 4) with a fake line source
/// injected through `Daemon.init(gpioLines:)`, driven through the real socket and client library.
@Suite(.serialized)
final class KernelLineGuardDaemonTests {
    let dir = TempDir()
    let log = CollectingLog()
    let fake = FakeGPIOLineSource(chips: [
        FakeGPIOLineSource.chip(name: "gpiochip0", label: "pinctrl-bcm2711", device: "fe200000.gpio", count: 58),
        FakeGPIOLineSource.chip(name: "gpiochip1", label: "raspberrypi-exp-gpio", count: 8),
    ])

    func config(_ extra: String = "", board: String = "rpi4", windows: String = #"["gpio"]"#) throws -> Config {
        try inProcessConfig(
            board: board, socket: dir.file("g.sock"), extra: extra,
            grants: """
                [[grant]]
                uid = \(getuid())
                windows = \(windows)
                access = "rw"
                """)
    }

    /// Starts a daemon and serves it on a background thread; the caller stops it.
    func start(
        _ extra: String = "", board: String = "rpi4", windows: String = #"["gpio"]"#, gpioLines: GPIOLineInfoSource?
    ) throws -> Daemon {
        let d = try Daemon(
            config: try config(extra, board: board, windows: windows), boards: try BoardDirectory.catalog(repositoryRoot + "/boards"),
            logger: log.logger,
            gpioLines: gpioLines)
        try d.start()
        Thread.detachNewThread { d.serve() }
        return d
    }

    @Test func refusesWritesToClaimedLinesNamingPinAndConsumer() throws {
        let d = try start(gpioLines: fake)
        defer { d.stop() }
        #expect(d.writeGuards.count == 1)
        #expect(log.messages.contains { $0.contains("window gpio is GPIO chip gpiochip0 [pinctrl-bcm2711]") })
        fake.claim(chip: "gpiochip0", offset: 17, consumer: "led0")
        let c = try IOGateClient(socketPath: d.config.socket)
        let pin17 = try c.gpio(17), pin18 = try c.gpio(18)
        do {
            try pin17.set(true, c)
            Issue.record("set on a claimed line was allowed")
        } catch {
            #expect(error.code == .lineBusy)
            #expect(error.message.contains("pin 17"), "\(error.message)")
            #expect(error.message.contains("\"led0\""), "\(error.message)")
            #expect(error.message.contains("output"), "\(error.message)")
            #expect(error.details.pin == 17 && error.details.consumer == "led0", "\(error.details)")
            #expect(error.details.address == 0xFE20_001C)
        }
        do {
            try pin17.setFunction(.input, c)
            Issue.record("mode change on a claimed line was allowed")
        } catch {
            #expect(error.code == .lineBusy && error.message.contains("function"), "\(error.message)")
        }
        // Neighbours in the same registers are fine when only their bits change.
        try pin18.setFunction(.output, c)
        try pin18.set(true, c)
        #expect(try pin18.get(c) == true)
        // Reads are never checked.
        _ = try pin17.get(c)
        _ = try c.read(0xFE20_0004)
        // A plain write to GPFSEL1 rewrites GPIO17's field too.
        #expect(throws: IOGateError.self) { try c.write(0xFE20_0004, 0x0004_0000) }
        // A batch with one refused store runs none of it.
        let before = try c.read(0xFE20_0034)
        do {
            _ = try c.batch { b in
                b.write(0xFE20_0028, 1 << 18)  // GPCLR0: pin 18 low (allowed alone)
                b.write(0xFE20_001C, 1 << 17)  // GPSET0: pin 17 (claimed)
            }
            Issue.record("batch allowed")
        } catch {
            #expect(error.code == .lineBusy && error.message.contains("batch operation #1"), "\(error.message)")
            #expect(error.details.operation == 1 && error.details.pin == 17, "\(error.details)")
        }
        #expect(try c.read(0xFE20_0034) == before)
        // A claim without a consumer name (a strict pin controller's mux) also protects the line.
        fake.claim(chip: "gpiochip0", offset: 40, consumer: nil)
        do {
            try c.gpio(40).set(true, c)
            Issue.record("set on an unnamed claim was allowed")
        } catch {
            #expect(error.message.contains("the kernel (no consumer name)"), "\(error.message)")
        }
        // Released: allowed again.
        fake.release(chip: "gpiochip0", offset: 17)
        try pin17.setFunction(.output, c)
        try pin17.set(true, c)
        #expect(try pin17.get(c) == true)
    }

    /// RP1: a pin's registers are in three windows (CTRL in gpio, OUT/OE in rio, its pad in pads),
    /// and every register has atomic aliases; all of them count as the pin's.
    @Test func raspberryPi5PinsAcrossTheirThreeWindows() throws {
        let rp1 = FakeGPIOLineSource(chips: [
            FakeGPIOLineSource.chip(name: "gpiochip0", label: "pinctrl-rp1", device: "1f000d0000.gpio", count: 54)
        ])
        let d = try start(board: "rpi5", windows: #"["gpio", "rio", "pads"]"#, gpioLines: rp1)
        defer { d.stop() }
        #expect(log.messages.contains { $0.contains("window gpio is GPIO chip gpiochip0 [pinctrl-rp1]") }, "\(log.messages)")
        rp1.claim(chip: "gpiochip0", offset: 17, consumer: "led0")
        rp1.claim(chip: "gpiochip0", offset: 40, consumer: "fan")
        let c = try IOGateClient(socketPath: d.config.socket)
        let attempts: [(String, () throws(IOGateError) -> Void)] = [
            ("output", { () throws(IOGateError) in try c.gpio(17).set(true, c) }),  // RIO OUT set alias
            ("output", { () throws(IOGateError) in try c.gpio(17).setFunction(.output, c) }),  // RIO OE set alias first
            ("pull", { () throws(IOGateError) in try c.gpio(17).setPull(.up, c) }),  // pad register
            ("function", { () throws(IOGateError) in try c.write(0x1F_000D_208C, 1 << 13) }),  // CTRL set alias: OUTOVER
            ("output", { () throws(IOGateError) in try c.gpio(40).set(false, c) }),  // bank 2, line 6
        ]
        for (what, attempt) in attempts {
            do {
                try attempt()
                Issue.record("a change of a claimed pin was allowed (\(what))")
            } catch {
                #expect(error.code == .lineBusy && error.message.contains(what), "\(error.message)")
            }
        }
        #expect(try c.read(0x1F_000E_0000) == 0)  // RIO OUT untouched
        #expect(try c.read(0x1F_000D_008C) == 0x1F)  // GPIO17_CTRL untouched
        // Pin 18 shares RIO OUT and OE with 17 and is free.
        let pin18 = try c.gpio(18)
        try pin18.setFunction(.output, c)
        try pin18.set(true, c)
        #expect(try pin18.get(c) == true)
        #expect(try pin18.function(c) == .output)
    }

    @Test func offWhenConfiguredOff() throws {
        fake.claim(chip: "gpiochip0", offset: 17, consumer: "led0")
        let d = try start("protect_kernel_lines = false", gpioLines: fake)
        defer { d.stop() }
        #expect(d.writeGuards.isEmpty)
        #expect(log.messages.contains { $0.contains("protect_kernel_lines = false") })
        let c = try IOGateClient(socketPath: d.config.socket)
        try c.gpio(17).set(true, c)
    }

    @Test func mockBoardWithoutInjectedSourceIsNeverGuarded() throws {
        let d = try start(gpioLines: nil)
        defer { d.stop() }
        #expect(d.writeGuards.isEmpty)
        #expect(log.messages.filter { $0.contains("nothing to protect") }.count == 1)
        let c = try IOGateClient(socketPath: d.config.socket)
        try c.gpio(17).set(true, c)
    }

    @Test func noMatchingChipMeansNothingToProtect() throws {
        let other = FakeGPIOLineSource(chips: [FakeGPIOLineSource.chip(name: "gpiochip0", label: "gpio-mockup-A", count: 8)])
        let d = try start(gpioLines: other)
        defer { d.stop() }
        #expect(d.writeGuards.isEmpty)
        let said = log.messages.filter { $0.contains("nothing to protect") }
        #expect(said.count == 1 && said[0].contains("gpiochip0 [gpio-mockup-A]"), "\(said)")
    }

    @Test func onlyTheChangedPinsAreAskedAbout() throws {
        let d = try start(gpioLines: fake)
        defer { d.stop() }
        let c = try IOGateClient(socketPath: d.config.socket)
        let before = fake.lineQueries
        _ = try c.read(0xFE20_001C)
        try c.write(0xFE20_001C, 0)  // writing zeros to GPSET0 changes nothing: no question
        #expect(fake.lineQueries == before)
        try c.write(0xFE20_001C, 1 << 5)
        #expect(fake.lineQueries == before + 1)
    }
}
