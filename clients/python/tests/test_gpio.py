"""gate.gpio(...) pins on the mock boards, register state checked after every step through a
second connection (the registers the Linux drivers use, not the client's own view)."""

import unittest

from support import GPIO4, RPI4_GRANTS, RPI5_GPIO, RPI5_GRANTS, RPI5_PADS, RPI5_RIO, Daemon, iogate


def field(value: int, shift: int, width: int) -> int:
    return (value >> shift) & ((1 << width) - 1)


class Rpi4PinTests(unittest.TestCase):
    """bcm2711: GPFSELn (3 bits a pin), GPSET0/GPCLR0, GPLEV0, GPIO_PUP_PDN_CNTRL_REGn (2 bits a pin)."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon("rpi4", RPI4_GRANTS)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.stop()

    def setUp(self) -> None:
        self.gate = self.daemon.gate()
        self.check = self.daemon.gate()
        self.addCleanup(self.gate.close)
        self.addCleanup(self.check.close)

    def reg(self, offset: int) -> int:
        return self.check.read(GPIO4 + offset)

    def test_output(self) -> None:
        led = self.gate.gpio(17)
        self.assertEqual((led.window.name, led.pin, led.layout.model), ("gpio", 17, "bcm2711"))
        self.assertEqual(led.mode(), "in")
        self.assertEqual(led.mode("out"), "out")
        self.assertEqual(field(self.reg(0x04), 21, 3), 0b001)  # GPFSEL1 bits 21..23
        self.assertEqual(led.mode(), "out")
        led.set(1)
        self.assertEqual(self.reg(0x34) & (1 << 17), 1 << 17)  # GPLEV0
        self.assertEqual(led.get(), 1)
        led.set(False)
        self.assertEqual(self.reg(0x34) & (1 << 17), 0)
        self.assertEqual(led.get(), 0)
        self.assertEqual(led.toggle(), 1)
        self.assertEqual(self.reg(0x34) & (1 << 17), 1 << 17)
        self.assertEqual(led.toggle(), 0)
        self.assertEqual(self.reg(0x34) & (1 << 17), 0)
        self.assertEqual(led.info(), {"window": "gpio", "pin": 17, "model": "bcm2711", "function": "out", "level": 0, "pull": "none"})
        led.mode("in")
        self.assertEqual(field(self.reg(0x04), 21, 3), 0)

    def test_alternate_functions_use_bcm_codes(self) -> None:
        p = self.gate.gpio(4)
        for name, code in (("alt0", 4), ("alt1", 5), ("alt2", 6), ("alt3", 7), ("alt4", 3), ("alt5", 2)):
            p.mode(name)
            self.assertEqual(field(self.reg(0x00), 12, 3), code, name)  # GPFSEL0 bits 12..14
            self.assertEqual(p.mode(), name)
        p.mode("in")
        self.assertEqual(self.reg(0x00), 0)
        with self.assertRaises(iogate.NotFoundError) as cm:
            p.mode("alt6")
        self.assertIn("allowed: in, out, alt0", cm.exception.message)
        with self.assertRaises(iogate.NotFoundError):
            p.mode("none")
        self.assertEqual(self.reg(0x00), 0)

    def test_pull_and_input_level(self) -> None:
        b = self.gate.gpio(27)
        b.mode("in")
        for pull, code, level in (("up", 1, 1), ("down", 2, 0), ("none", 0, 0)):
            self.assertEqual(b.pull(pull), pull)
            self.assertEqual(field(self.reg(0xE4 + 4), 22, 2), code, pull)  # REG1: pins 16..31, 2 bits each
            self.assertEqual(b.pull(), pull)
            self.assertEqual(b.get(), level, pull)  # the mock's input follows its pull
            self.assertEqual(field(self.reg(0x34), 27, 1), level)
        with self.assertRaises(iogate.NotFoundError):
            b.pull("sideways")

    def test_pin_specs(self) -> None:
        self.assertEqual(self.gate.gpio("17").pin, 17)
        self.assertEqual(self.gate.gpio("gpio:57").pin, 57)
        p57 = self.gate.gpio(57)
        p57.mode("out")
        self.assertEqual(field(self.reg(0x14), 21, 3), 1)  # GPFSEL5, pin 57
        p57.set(1)
        self.assertEqual(self.reg(0x38) & (1 << 25), 1 << 25)  # GPLEV1 bit 25
        p57.set(0)
        p57.mode("in")
        for bad, cls in ((58, iogate.NotFoundError), ("uart0:1", iogate.NotFoundError), ("x", iogate.MalformedError),
                         (-1, iogate.MalformedError), ("gpio:x", iogate.MalformedError)):
            with self.assertRaises(cls, msg=str(bad)):
                self.gate.gpio(bad)
        with self.assertRaises(iogate.MalformedError):
            self.gate.gpio(17).set(2)


class Rpi5PinTests(unittest.TestCase):
    """rp1: CTRL FUNCSEL (5 = RIO), RIO OUT/OE/IN with set/clear aliases, pad PULL/IE/OD."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon("rpi5", RPI5_GRANTS)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.stop()

    def setUp(self) -> None:
        self.gate = self.daemon.gate()
        self.check = self.daemon.gate()
        self.addCleanup(self.gate.close)
        self.addCleanup(self.check.close)

    def test_output_and_input(self) -> None:
        ctrl17, pad17 = RPI5_GPIO + 8 * 17 + 4, RPI5_PADS + 4 + 4 * 17
        self.assertEqual(self.check.read(ctrl17) & 0x1F, 0x1F)  # the mock starts with no function
        led = self.gate.gpio(17)
        self.assertEqual((led.layout.model, led.mode()), ("rp1", "none"))
        sent = []
        real = self.gate.call
        self.gate.call = lambda op, body=b"": (sent.append(op), real(op, body))[1]  # type: ignore[method-assign]
        led.mode("out")
        self.assertEqual(sent, [0x21])  # RIO OE, pad and CTRL in one compact batch
        self.assertEqual(self.check.read(ctrl17) & 0xF01F, 5)  # FUNCSEL 5, OUTOVER/OEOVER normal
        self.assertEqual(self.check.read(RPI5_RIO + 0x4) & (1 << 17), 1 << 17)  # RIO OE
        self.assertEqual(self.check.read(pad17) & 0xC0, 0x40)  # input enabled, output not disabled
        self.assertEqual(led.mode(), "out")
        led.set(1)
        self.assertEqual(self.check.read(RPI5_RIO + 0x0) & (1 << 17), 1 << 17)  # RIO OUT
        self.assertEqual(self.check.read(RPI5_RIO + 0x8) & (1 << 17), 1 << 17)  # RIO IN
        self.assertEqual(led.get(), 1)
        self.assertEqual(led.toggle(), 0)
        self.assertEqual(self.check.read(RPI5_RIO + 0x0) & (1 << 17), 0)
        self.assertEqual(led.get(), 0)
        led.mode("in")
        self.assertEqual(self.check.read(RPI5_RIO + 0x4) & (1 << 17), 0)
        self.assertEqual(led.mode(), "in")
        for pull, code, level in (("up", 2, 1), ("down", 1, 0), ("none", 0, 0)):
            led.pull(pull)
            self.assertEqual(field(self.check.read(pad17), 2, 2), code, pull)
            self.assertEqual((led.pull(), led.get()), (pull, level))
        led.mode("alt3")
        self.assertEqual(self.check.read(ctrl17) & 0x1F, 3)
        self.assertEqual(led.mode(), "alt3")
        led.mode("none")
        self.assertEqual(self.check.read(ctrl17) & 0x1F, 0x1F)
        with self.assertRaises(iogate.NotFoundError) as cm:
            led.mode("alt5")
        self.assertIn("GPIO function", cm.exception.message)

    def test_banks(self) -> None:
        p = self.gate.gpio(40)  # bank 2 (34..53), line 6
        p.mode("out")
        p.set(1)
        self.assertEqual(self.check.read(RPI5_GPIO + 0x8000 + 8 * 6 + 4) & 0x1F, 5)
        self.assertEqual(self.check.read(RPI5_RIO + 0x8000) & (1 << 6), 1 << 6)
        self.assertEqual(self.check.read(RPI5_RIO + 0x8004) & (1 << 6), 1 << 6)
        self.assertEqual(self.check.read(RPI5_PADS + 0x8004 + 4 * 6) & 0xC0, 0x40)
        self.assertEqual(p.info()["level"], 1)
        p.set(0)
        p.mode("in")


class Rpi5WithoutRioTests(unittest.TestCase):
    """Only the rp1 ``gpio`` window granted: a mode change needs RIO and pads too, and the batch that
    carries it is refused whole (outside-allowlist) with CTRL left as it was."""

    def test_mode_refused_whole(self) -> None:
        d = Daemon("rpi5", ['windows = ["gpio"]\naccess = "rw"'])
        self.addCleanup(d.stop)
        with d.gate() as g:
            p = g.gpio(17)
            with self.assertRaises(iogate.OutsideAllowlistError) as cm:
                p.mode("out")
            self.assertTrue(cm.exception.from_daemon)
            self.assertIn("nothing was run", cm.exception.message)
            self.assertEqual(g.read(RPI5_GPIO + 8 * 17 + 4) & 0x1F, 0x1F)
            with self.assertRaises(iogate.OutsideAllowlistError):
                p.set(1)


class Rpi1PinTests(unittest.TestCase):
    """bcm2835: pulls through GPPUD and GPPUDCLKn (not readable back)."""

    def test_pin(self) -> None:
        d = Daemon("rpi1", ['windows = ["gpio"]\naccess = "rw"'])
        self.addCleanup(d.stop)
        base = 0x20200000
        with d.gate() as g:
            p = g.gpio(22)
            self.assertEqual(p.layout.model, "bcm2835")
            p.mode("out")
            self.assertEqual(field(g.read(base + 0x08), 6, 3), 1)  # GPFSEL2, pin 22
            p.set(1)
            self.assertEqual(g.read(base + 0x34) & (1 << 22), 1 << 22)
            p.set(0)
            p.mode("in")
            p.pull("up")
            self.assertIsNone(p.pull())  # bcm2835 cannot read a pull back
            self.assertEqual(p.get(), 1)  # but the mock's input follows the latched pull-up
            self.assertEqual((g.read(base + 0x94), g.read(base + 0x98)), (0, 0))  # GPPUD, GPPUDCLK0 cleared after
            p.pull("down")
            self.assertEqual(p.get(), 0)


class OmapPinTests(unittest.TestCase):
    """omap (BeagleBone Black): OE (1 = input), DATAIN, DATAOUT, SET/CLEARDATAOUT; pins count across banks."""

    def test_pin(self) -> None:
        d = Daemon("beaglebone-black", ['windows = ["gpio0", "gpio1", "gpio2", "gpio3"]\naccess = "rw"'])
        self.addCleanup(d.stop)
        gpio1 = 0x4804C000
        with d.gate() as g:
            p = g.gpio(49)  # gpio1 line 17, as Linux numbers it
            self.assertEqual((p.window.name, p.pin), ("gpio1", 17))
            self.assertEqual(g.gpio("gpio1:17").window.base, gpio1)
            self.assertEqual(p.mode(), "in")
            p.mode("out")
            self.assertEqual(g.read(gpio1 + 0x134) & (1 << 17), 0)
            p.set(1)
            self.assertEqual(g.read(gpio1 + 0x13C) & (1 << 17), 1 << 17)  # DATAOUT
            self.assertEqual(p.get(), 1)
            self.assertEqual(p.toggle(), 0)
            self.assertEqual(g.read(gpio1 + 0x13C) & (1 << 17), 0)
            with self.assertRaises(iogate.NotFoundError) as cm:
                p.pull("up")
            self.assertIn("no pull registers", cm.exception.message)
            self.assertIsNone(p.pull())
            p.mode("in")
            self.assertEqual(g.read(gpio1 + 0x134) & (1 << 17), 1 << 17)


class UnsupportedModelTests(unittest.TestCase):
    def test_rockchip_is_a_clear_error(self) -> None:
        d = Daemon("rock5b", ['windows = ["gpio0"]\naccess = "rw"'])
        self.addCleanup(d.stop)
        with d.gate() as g:
            self.assertEqual(g.windows()[0].model, "rockchip")
            with self.assertRaises(iogate.NotFoundError) as cm:
                g.gpio(0)
            self.assertIn("gpio0 (rockchip)", cm.exception.message)
            self.assertIn("supported: bcm2835, bcm2711, rp1, omap", cm.exception.message)
        with self.assertRaises(iogate.NotFoundError):
            iogate.Layout("sunxi", 32)

    def test_no_gpio_window(self) -> None:
        d = Daemon("rpi4", ['windows = ["uart0"]\naccess = "rw"'])
        self.addCleanup(d.stop)
        with d.gate() as g:
            with self.assertRaises(iogate.NotFoundError) as cm:
                g.gpio(17)
            self.assertIn("no GPIO window", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
