"""grants() (PROTOCOL.md 5.9, version 3) against a real iogated with a pin grant and a bits grant."""

import unittest

from support import GPIO4, Daemon, iogate

BITS_BASE = 0xFE204000  # inside spi0 on the rpi4 board: plain memory on the mock


class GrantsTests(unittest.TestCase):
    daemon: Daemon

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon("rpi4", [
            'pins = [17, 27]\naccess = "rw"',
            'IoBase = [0x%X]\nIoLen = [0x100]\nbits = [0xFF]\naccess = "ro"' % BITS_BASE,
        ])

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.stop()

    def test_pin_and_bits_grants(self) -> None:
        with self.daemon.gate() as g:
            self.assertEqual(g.version, 3)
            gs = g.grants()
            self.assertEqual([x.window for x in gs], g.windows())
            by_base = {x.base: x for x in gs}
            gpio = by_base[GPIO4]
            self.assertEqual((gpio.name, gpio.access, gpio.window.model, gpio.scope), ("gpio", "rw", "bcm2711", "pins"))
            self.assertEqual(gpio.pins_granted, [17, 27])
            self.assertIsNone(gpio.bits)
            self.assertIn("pins=[17, 27]", repr(gpio))
            bits = by_base[BITS_BASE]
            self.assertEqual((bits.scope, bits.bits, bits.access, bits.length, bits.pins_granted), ("bits", 0xFF, "ro", 0x100, []))

    def test_pin_refusal_details(self) -> None:
        with self.daemon.gate() as g:
            # GPSET0 bit 18: pin 18 is not granted (§6.1 item 7): status 5 with the address and size.
            with self.assertRaises(iogate.OutsideAllowlistError) as cm:
                g.write(GPIO4 + 0x1C, 1 << 18)
            e = cm.exception
            self.assertIn("pin 18", e.message)
            self.assertNotIn("\x00", e.message)
            # §7.1: the access, the first pin not granted and the grant that refused it.
            self.assertEqual((e.details.address, e.details.size, e.details.pin), (GPIO4 + 0x1C, 4, 18))
            self.assertEqual([base for base, _, _ in e.details.granted], [GPIO4])

    def test_version_2_has_no_grants_list(self) -> None:
        with self.daemon.gate(max_version=2) as g:
            self.assertEqual(g.version, 2)
            with self.assertRaises(iogate.UnknownOperationError):
                g.grants()
            self.assertTrue(any(w.name == "gpio" for w in g.windows()))


if __name__ == "__main__":
    unittest.main()
