"""gpiozero devices through iogate.gpiozero.IOGateFactory, with the registers read back through a
separate connection after each step. Runs with whatever gpiozero the interpreter imports (Debian 12's
python3-gpiozero 1.6 under /usr/bin/python3; test.sh also runs it with gpiozero 2.x when it can).
Without gpiozero these tests are skipped, unless $IOGATE_REQUIRE_GPIOZERO=1 (test.sh sets it).

The mock board's input pins read their pull (pull-up 1, otherwise 0), so a button press is
simulated by switching the pin's pull register from another connection, as a pulled-up line that
a button shorts to ground would read."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import warnings

from support import GPIO4, PACKAGE_ROOT, RPI4_GRANTS, RPI5_GRANTS, RPI5_RIO, SRC, Daemon, iogate

try:
    import gpiozero
    from gpiozero import LED, Button, DigitalInputDevice, OutputDevice
    from gpiozero.exc import PinFixedPull

    from iogate.gpiozero import IOGateFactory
except ImportError as e:  # pragma: no cover
    if os.environ.get("IOGATE_REQUIRE_GPIOZERO") == "1":
        raise
    raise unittest.SkipTest("gpiozero is not importable here (%s); run with /usr/bin/python3 and python3-gpiozero" % e)


def bcm_function(gate: "iogate.Gate", pin: int) -> int:
    return (gate.read(GPIO4 + 4 * (pin // 10)) >> (3 * (pin % 10))) & 7


def bcm2711_pull(gate: "iogate.Gate", pin: int) -> int:
    return (gate.read(GPIO4 + 0xE4 + 4 * (pin // 16)) >> (2 * (pin % 16))) & 3


def level(gate: "iogate.Gate", pin: int) -> int:
    return (gate.read(GPIO4 + 0x34) >> pin) & 1


class GpiozeroRpi4Tests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon("rpi4", RPI4_GRANTS)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.stop()

    def setUp(self) -> None:
        self.factory = IOGateFactory(self.daemon.socket)
        self.addCleanup(self.factory.close)
        self.check = self.daemon.gate()
        self.addCleanup(self.check.close)

    def test_factory_board(self) -> None:
        info = getattr(self.factory, "board_info", None) or self.factory.pi_info
        self.assertEqual(info.soc, "BCM2711")
        self.assertEqual(self.factory.layout.model, "bcm2711")
        self.assertIn("gpiozero", gpiozero.__file__)

    def test_pin_names(self) -> None:
        pins = {self.factory.pin(name) for name in ("GPIO17", "BCM17", 17, "BOARD11", "J8:11")}
        self.assertEqual(len(pins), 1)
        self.assertEqual(repr(pins.pop()), "GPIO17")

    def test_led(self) -> None:
        led = LED("GPIO17", pin_factory=self.factory)
        self.assertEqual(bcm_function(self.check, 17), 1)  # output
        self.assertEqual((level(self.check, 17), led.value), (0, 0))
        led.on()
        self.assertEqual((level(self.check, 17), led.is_lit), (1, True))
        led.off()
        self.assertEqual((level(self.check, 17), led.is_lit), (0, False))
        led.toggle()
        self.assertEqual(level(self.check, 17), 1)
        led.value = 0
        self.assertEqual(level(self.check, 17), 0)
        led.close()
        self.assertEqual(bcm_function(self.check, 17), 0)  # back to input

    def test_led_blink(self) -> None:
        led = LED(5, pin_factory=self.factory)
        led.blink(on_time=0.05, off_time=0.05, n=2, background=False)
        self.assertEqual(level(self.check, 5), 0)
        led.close()

    def test_output_device_active_low(self) -> None:
        dev = OutputDevice("BCM22", active_high=False, initial_value=False, pin_factory=self.factory)
        self.assertEqual((bcm_function(self.check, 22), level(self.check, 22)), (1, 1))  # inactive = high
        dev.on()
        self.assertEqual((level(self.check, 22), dev.value), (0, 1))
        dev.off()
        self.assertEqual(level(self.check, 22), 1)
        dev.close()

    def test_button(self) -> None:
        button = Button("GPIO27", pin_factory=self.factory)  # pull_up=True
        self.assertEqual((bcm_function(self.check, 27), bcm2711_pull(self.check, 27)), (0, 1))  # input, pull-up
        self.assertFalse(button.is_pressed)
        pressed, released = threading.Event(), threading.Event()
        button.when_pressed = pressed.set
        button.when_released = released.set
        self.check.gpio(27).pull("down")  # the button shorts the line to ground
        self.assertEqual(level(self.check, 27), 0)
        self.assertTrue(button.wait_for_press(timeout=3))
        self.assertTrue(pressed.wait(3))
        self.assertTrue(button.is_pressed)
        self.check.gpio(27).pull("up")
        self.assertTrue(button.wait_for_release(timeout=3))
        self.assertTrue(released.wait(3))
        self.assertFalse(button.is_pressed)
        button.close()
        self.assertEqual(bcm2711_pull(self.check, 27), 0)  # close leaves the pin floating

    def test_digital_input_device(self) -> None:
        dev = DigitalInputDevice(23, pull_up=False, pin_factory=self.factory)
        self.assertEqual(bcm2711_pull(self.check, 23), 2)  # pull-down
        self.assertEqual(dev.value, 0)
        activated = threading.Event()
        dev.when_activated = activated.set
        self.check.gpio(23).pull("up")
        self.assertTrue(dev.wait_for_active(timeout=3))
        self.assertTrue(activated.wait(3))
        self.assertEqual(dev.value, 1)
        dev.close()

    def test_physical_pull_up_is_fixed(self) -> None:
        with self.assertRaises(PinFixedPull):
            Button(2, pull_up=False, pin_factory=self.factory)

    def test_pwm_is_unsupported(self) -> None:
        pin = self.factory.pin(18)
        pin.function = "output"
        with self.assertRaises(gpiozero.PinPWMUnsupported):
            pin.frequency = 100
        pin.close()

    def test_software_spi(self) -> None:
        # No hardware SPI through iogate: gpiozero warns and bit-bangs over the pins (its 1.6 bus
        # takes the default factory, so this factory is made the default for the test).
        old = gpiozero.Device.pin_factory
        gpiozero.Device.pin_factory = self.factory
        self.addCleanup(setattr, gpiozero.Device, "pin_factory", old)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            spi = self.factory.spi(port=0, device=0)
        self.assertIn("SPISoftwareFallback", [type(w.message).__name__ for w in caught])
        self.assertEqual([bcm_function(self.check, p) for p in (11, 10, 9, 8)], [1, 1, 0, 1])  # SCLK, MOSI out; MISO in; CE0 out
        self.assertEqual(spi.transfer([0x55, 0xAA]), [0, 0])
        self.check.gpio(9).pull("up")  # MISO now reads 1
        self.assertEqual(spi.transfer([0x00]), [0xFF])
        spi.close()
        self.assertEqual([bcm_function(self.check, p) for p in (11, 10, 9, 8)], [0, 0, 0, 0])


class GpiozeroRpi5Tests(unittest.TestCase):
    def test_led_and_button(self) -> None:
        d = Daemon("rpi5", RPI5_GRANTS)
        self.addCleanup(d.stop)
        factory = IOGateFactory(d.socket)
        self.addCleanup(factory.close)
        with d.gate() as check:
            led = LED("GPIO17", pin_factory=factory)
            self.assertEqual(check.gpio(17).mode(), "out")
            led.on()
            self.assertEqual(check.read(RPI5_RIO) & (1 << 17), 1 << 17)  # RIO OUT
            led.off()
            self.assertEqual(check.read(RPI5_RIO) & (1 << 17), 0)
            button = Button(27, pin_factory=factory)
            self.assertEqual((check.gpio(27).mode(), check.gpio(27).pull()), ("in", "up"))
            self.assertFalse(button.is_pressed)
            check.gpio(27).pull("down")
            self.assertTrue(button.wait_for_press(timeout=3))
            button.close()
            led.close()
            self.assertEqual(check.gpio(17).mode(), "in")


class GpiozeroRefusalTests(unittest.TestCase):
    def test_read_only_grant_refuses_led(self) -> None:
        d = Daemon("rpi4", ['windows = ["gpio"]\naccess = "ro"'])
        self.addCleanup(d.stop)
        factory = IOGateFactory(d.socket)
        self.addCleanup(factory.close)
        with self.assertRaises(iogate.ReadOnlyError) as cm:
            LED(17, pin_factory=factory)
        self.assertEqual(cm.exception.status, 6)
        with d.gate() as check:
            self.assertEqual(bcm_function(check, 17), 0)

    def test_board_without_pi_gpio(self) -> None:
        d = Daemon("beaglebone-black", ['windows = ["gpio1"]\naccess = "rw"'])
        self.addCleanup(d.stop)
        with self.assertRaises(iogate.NotFoundError) as cm:
            IOGateFactory(d.socket)
        self.assertIn("gpio1 (omap)", cm.exception.message)


class GpiozeroEntryPointTests(unittest.TestCase):
    """GPIOZERO_PIN_FACTORY=iogate: gpiozero finds the factory by its entry-point name (1.6 through
    pkg_resources, 2.x through importlib.metadata) and an unchanged program drives the pin.

    With the package installed (IOGATE_PY_TEST_INSTALLED=1) its real metadata is used; run from src/,
    a throwaway ``iogate-0.0.dist-info`` carries the entry point that pyproject.toml declares.
    test_install.py checks the metadata pip writes."""

    def declared_entry_point(self) -> str:
        with open(os.path.join(PACKAGE_ROOT, "pyproject.toml")) as f:
            text = f.read()
        m = re.search(r'^\[project\.entry-points\.gpiozero_pin_factories\]\s*^iogate\s*=\s*"([^"]+)"', text, re.M)
        self.assertIsNotNone(m, "pyproject.toml declares no gpiozero_pin_factories entry point 'iogate'")
        assert m is not None
        return m.group(1)

    def test_factory_by_name(self) -> None:
        d = Daemon("rpi4", RPI4_GRANTS)
        self.addCleanup(d.stop)
        env = dict(os.environ, GPIOZERO_PIN_FACTORY="iogate", IOGATE_SOCKET=d.socket)
        if os.environ.get("IOGATE_PY_TEST_INSTALLED") != "1":
            meta = tempfile.mkdtemp(prefix="iogpy-meta-")
            self.addCleanup(shutil.rmtree, meta, True)
            info = os.path.join(meta, "iogate-0.0.dist-info")
            os.mkdir(info)
            with open(os.path.join(info, "METADATA"), "w") as f:
                f.write("Metadata-Version: 2.1\nName: iogate\nVersion: 0.0\n")
            with open(os.path.join(info, "entry_points.txt"), "w") as f:
                f.write("[gpiozero_pin_factories]\niogate = %s\n" % self.declared_entry_point())
            env["PYTHONPATH"] = os.pathsep.join([SRC, meta] + [p for p in [os.environ.get("PYTHONPATH")] if p])
        code = ("from gpiozero import LED, Device; led = LED('GPIO17'); led.on(); "
                "print(type(Device.pin_factory).__name__, led.is_lit)")
        p = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "IOGateFactory True"), p.stderr)
        with d.gate() as check:
            check.gpio(17).mode("out")  # gpiozero's exit handler made it an input; the latch stays high
            self.assertEqual(check.gpio(17).get(), 1)

if __name__ == "__main__":
    unittest.main()
