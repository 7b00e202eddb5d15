"""Gate against a real iogated on the mock Raspberry Pi 4: every call, every refusal, state read back."""

import os
import struct
import threading
import time
import unittest

from support import GPIO4, RAW, RPI4_GRANTS, RPI4_LIMITS, UART4, Daemon, iogate


class ClientTests(unittest.TestCase):
    daemon: Daemon

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon("rpi4", RPI4_GRANTS, RPI4_LIMITS)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.stop()

    def setUp(self) -> None:
        self.gate = self.daemon.gate()
        self.addCleanup(self.gate.close)
        self.gate.write_block(RAW, [0] * 64, width=32)  # the raw range starts clean for each test

    def refused(self, cls: type, status: int, fn, *args, **kwargs) -> iogate.IOGateError:
        with self.assertRaises(cls) as cm:
            fn(*args, **kwargs)
        e = cm.exception
        self.assertEqual(e.status, status)
        self.assertEqual(e.status_name, iogate.status_name(status))
        self.assertTrue(e.from_daemon, "expected the daemon's refusal, got a local one: %s" % e)
        self.assertTrue(e.message)
        return e

    # MARK: handshake

    def test_hello_negotiates_version_3_and_limits(self) -> None:
        self.assertEqual(self.gate.version, 3)
        self.assertEqual((self.gate.max_frame, self.gate.max_batch, self.gate.max_block), (1048576, 8, 4))

    def test_hello_version_1_when_asked(self) -> None:
        with self.daemon.gate(max_version=1) as g1:
            self.assertEqual(g1.version, 1)
            sent = self.spy(g1)
            g1.write(RAW, 0x1234)
            self.assertEqual(g1.read(RAW), 0x1234)
            # A batch on a version 1 connection is sent as 0x20 and works...
            with g1.batch() as b:
                r = b.read(RAW)
                b.write(RAW + 4, 0x55)
            self.assertEqual((r.value, self.gate.read(RAW + 4)), (0x1234, 0x55))
            self.assertEqual(sent, [0x11, 0x10, 0x20])
            # ...while forcing the compact encoding (0x21) is refused by the daemon: status 3.
            b2 = g1.batch(compact=True)
            b2.write(RAW + 8, 1)
            e = self.refused(iogate.UnknownOperationError, 3, b2.run)
            self.assertIn("version 2", e.message)
            self.assertEqual(self.gate.read(RAW + 8), 0)

    def test_hello_version_2_when_asked(self) -> None:
        with self.daemon.gate(max_version=2) as g2:
            self.assertEqual(g2.version, 2)
            # No grants list on version 2: refused locally, nothing sent...
            with self.assertRaises(iogate.UnknownOperationError) as cm:
                g2.grants()
            self.assertFalse(cm.exception.from_daemon)
            # ...and the daemon itself refuses opcode 0x03 as unknown (§3).
            e = self.refused(iogate.UnknownOperationError, 3, g2.call, 0x03, b"")
            self.assertEqual(e.message, "unknown opcode 0x3; known: 0x1, 0x2, 0x10, 0x11, 0x12, 0x13, 0x20, 0x21")
            self.assertEqual(e.details, iogate.ErrorDetails())

    def test_bad_max_version_refused_locally(self) -> None:
        for bad in (0, 4, 9, True):
            with self.assertRaises(iogate.UnsupportedVersionError, msg=str(bad)) as cm:
                self.daemon.gate(max_version=bad)
            self.assertFalse(cm.exception.from_daemon)

    def test_unknown_opcode_is_status_3_and_connection_stays_open(self) -> None:
        self.refused(iogate.UnknownOperationError, 3, self.gate.call, 0x7F, b"")
        self.gate.write(RAW, 7)
        self.assertEqual(self.gate.read(RAW), 7)

    def test_malformed_body_is_status_1(self) -> None:
        # A read body one byte short (15 instead of 16).
        self.refused(iogate.MalformedError, 1, self.gate.call, 0x10, struct.pack("<QB3xI", RAW, 4, 1)[:-1])

    def test_frame_over_max_frame_is_refused_and_closes(self) -> None:
        with self.daemon.gate() as g:
            # A write whose frame is one byte over max_frame: the daemon refuses it from the length
            # prefix alone (status 4, opcode 0, id 0) and closes the connection (§3.1, §8).
            e = self.refused(iogate.LimitExceededError, 4, g.call, 0x11, b"\0" * (g.max_frame - 7))
            self.assertIn("exceeds the limit", e.message)
            self.assertTrue(g.closed)
        self.assertEqual(self.gate.read(RAW), 0)

    # MARK: windows and addresses

    def test_windows(self) -> None:
        ws = self.gate.windows()
        self.assertEqual(ws, [
            iogate.Window("gpio", GPIO4, 0x100, "rw", "bcm2711", 58),
            iogate.Window("uart0", UART4, 0x200, "ro", "", 0),
            iogate.Window("", RAW, 0x100, "rw", "", 0),
        ])
        self.assertTrue(ws[0].writable)
        self.assertFalse(ws[1].writable)
        self.assertIn(GPIO4 + 0xFF, ws[0])
        self.assertNotIn(GPIO4 + 0x100, ws[0])
        self.assertEqual(self.gate.window("uart0").base, UART4)

    def test_addresses(self) -> None:
        self.assertEqual(self.gate.resolve("gpio+0x34"), GPIO4 + 0x34)
        self.assertEqual(self.gate.resolve("gpio"), GPIO4)
        self.assertEqual(self.gate.resolve("0xFE200034"), GPIO4 + 0x34)
        self.assertEqual(self.gate.resolve("gpio+52"), GPIO4 + 0x34)
        self.assertEqual(self.gate.resolve(0xFE20_0034), GPIO4 + 0x34)
        self.gate.write("gpio+0x1c", 1 << 5)  # GPSET0: pin 5's latch
        self.gate.write("gpio+0x28", 1 << 5)  # GPCLR0
        # On version 3 the daemon resolves a window-relative request (§5.10) and refuses the unknown
        # name itself (status 14); on version 2 this client does, from the windows list.
        with self.assertRaises(iogate.NotFoundError) as cm:
            self.gate.read("nope+0x34")
        self.assertTrue(cm.exception.from_daemon)
        self.assertIn("no window named 'nope'", cm.exception.message)
        self.assertIn("gpio, uart0", cm.exception.message)
        with self.daemon.gate(max_version=2) as g2:
            with self.assertRaises(iogate.NotFoundError) as cm:
                g2.read("nope+0x34")
            self.assertFalse(cm.exception.from_daemon)
            self.assertIn("gpio, uart0", cm.exception.message)
        with self.assertRaises(iogate.OutsideAllowlistError) as cm2:
            self.gate.read("gpio+0x100")
        self.assertIn("past the end of window 'gpio'", cm2.exception.message)
        for bad in ("gpio+zz", "+4", "9gpio", "gpio+-4", ""):
            with self.assertRaises(iogate.MalformedError, msg=bad):
                self.gate.resolve(bad)
        with self.assertRaises(TypeError):
            self.gate.read(1.5)  # type: ignore[arg-type]

    # MARK: read, write, modify, wait

    def test_window_relative_requests_on_version_3(self) -> None:
        with self.daemon.gate() as g3, self.daemon.gate(max_version=2) as g2:
            s3, s2 = self.spy(g3), self.spy(g2)
            g3.write("gpio+0x1c", 1 << 5)
            self.assertEqual(g3.read("gpio+0x34") & 0, 0)
            self.assertEqual(g3.modify("gpio+0x08", 0, 0), g2.read("gpio+0x08"))  # mask 0: stores what it read
            self.assertEqual(g3.wait("uart0+0x4", 0, 0, timeout_ms=0), g2.read("uart0+0x4"))
            self.assertEqual(g3.read_block("gpio+0x34", 6), g2.read_block("gpio+0x34", 6))  # split by max_block 4
            # No windows list on version 3: every request names its window.
            self.assertEqual(s3, [(0x11, 2), (0x10, 2), (0x12, 2), (0x13, 2), (0x10, 2), (0x10, 2)])
            self.assertEqual(s2[0], 0x02)
            self.assertNotIn((0x10, 2), s2)
            self.refused(iogate.ReadOnlyError, 6, g3.write, "uart0+0x10", 1)
            e = self.refused(iogate.OutsideAllowlistError, 5, g3.read, "gpio+0x100")
            self.assertIn("past the end of window 'gpio'", e.message)
            e = self.refused(iogate.MisalignedError, 7, g3.read, "gpio+0x36")
            self.assertEqual((e.details.address, e.details.size), (GPIO4 + 0x36, 4))

    def test_every_width_reads_back(self) -> None:
        cases = [(8, 0xA5), (16, 0xBEEF), (32, 0xDEADBEEF), (64, 0x0123456789ABCDEF)]
        for i, (width, value) in enumerate(cases):
            addr = RAW + 0x10 * i
            self.gate.write(addr, value, width=width)
            self.assertEqual(self.gate.read(addr, width=width), value, "width %d" % width)
            # Little-endian in memory: the lowest byte is at the address.
            self.assertEqual(self.gate.read(addr, width=8), value & 0xFF)
        self.assertEqual(self.gate.read(RAW + 0x30, width=32), 0x89ABCDEF)
        self.assertEqual(self.gate.read(RAW + 0x34, width=32), 0x01234567)

    def test_blocks_split_to_max_block(self) -> None:
        values = [(i * 0x11) & 0xFF for i in range(11)]  # 11 bytes: 3 requests of at most 4
        self.gate.write_block(RAW + 0x40, values, width=8)
        self.assertEqual(self.gate.read_block(RAW + 0x40, 11, width=8), values)
        self.assertEqual(self.gate.read(RAW + 0x40, width=32), 0x33221100)
        words = [0x1000 + i for i in range(6)]
        self.gate.write_block(RAW + 0x80, words, width=16)
        self.assertEqual(self.gate.read_block(RAW + 0x80, 6, width=16), words)
        with self.assertRaises(iogate.LimitExceededError):
            self.gate.read_block(RAW, 0)
        with self.assertRaises(iogate.LimitExceededError):
            self.gate.write_block(RAW, [])

    def test_write_value_too_wide_refused_locally(self) -> None:
        with self.assertRaises(iogate.BadWidthError) as cm:
            self.gate.write(RAW, 0x100, width=8)
        self.assertFalse(cm.exception.from_daemon)
        self.assertEqual(self.gate.read(RAW), 0)

    def test_modify(self) -> None:
        self.gate.write(RAW, 0x11111111)
        old = self.gate.modify(RAW, mask=0x0000FF00, value=0x0000AB00)
        self.assertEqual(old, 0x11111111)
        self.assertEqual(self.gate.read(RAW), 0x1111AB11)
        self.assertEqual(self.gate.modify(RAW + 1, 0x0F, 0x05, width=8), 0xAB)
        self.assertEqual(self.gate.read(RAW), 0x1111A511)
        self.assertEqual(self.gate.modify("gpio+0x04", 7 << 21, 1 << 21), 0)  # GPIO17 output (GPFSEL1)
        self.assertEqual(self.gate.read("gpio+0x04") & (7 << 21), 1 << 21)
        self.gate.modify("gpio+0x04", 7 << 21, 0)
        self.assertEqual(self.gate.read("gpio+0x04"), 0)

    def test_wait(self) -> None:
        self.gate.write(RAW, 0xC3F0)
        self.assertEqual(self.gate.wait(RAW, 0xFF, 0xF0, timeout_ms=0), 0xC3F0)
        e = self.refused(iogate.WaitTimeoutError, 9, self.gate.wait, RAW, 0xFF, 0x01, timeout_ms=30)
        self.assertTrue(e.message.endswith("last value 0x0000C3F0"), e.message)
        # A change made on another connection ends a wait.
        def later() -> None:
            time.sleep(0.1)
            with self.daemon.gate() as other:
                other.write(RAW, 0xC301)
        t = threading.Thread(target=later)
        t.start()
        self.assertEqual(self.gate.wait(RAW, 0xFF, 0x01, timeout_ms=1500), 0xC301)
        t.join()
        self.assertEqual(self.gate.wait(RAW, 0xFF, 0x01, timeout_ms=0, width=16), 0xC301)
        self.refused(iogate.LimitExceededError, 4, self.gate.wait, RAW, 1, 1, timeout_ms=2001)

    # MARK: refusals, each with the daemon's code and nothing changed

    def test_outside_allowlist(self) -> None:
        e = self.refused(iogate.OutsideAllowlistError, 5, self.gate.read, 0xFE300000)
        self.assertIn("outside the allowlist", e.message)
        self.refused(iogate.OutsideAllowlistError, 5, self.gate.write, 0xFE204100, 1)
        # A block straddling the end of a granted range.
        self.refused(iogate.OutsideAllowlistError, 5, self.gate.read_block, RAW + 0xFC, 2)

    def test_outside_allowlist_details(self) -> None:
        e = self.refused(iogate.OutsideAllowlistError, 5, self.gate.read, 0xFE300000)
        d = e.details
        self.assertEqual((d.address, d.size), (0xFE300000, 4))
        # Every granted range of the caller (RPI4_GRANTS): gpio rw, uart0 ro, the raw range rw.
        bases = {(b, a) for b, _, a in d.granted}
        self.assertEqual(bases, {(GPIO4, "rw"), (UART4, "ro"), (RAW, "rw")})
        windows = {(w.base, w.length, w.access) for w in self.gate.windows()}
        self.assertEqual(set(d.granted), windows)
        self.assertEqual((d.pin, d.consumer, d.errno, d.call, d.operation), (None, None, None, None, None))
        self.assertNotIn("\x00", e.message)
        self.assertIn("outside the allowlist", e.message)
        # A block of 2 x 32 bits straddling the end of the raw range: its whole size.
        e = self.refused(iogate.OutsideAllowlistError, 5, self.gate.read_block, RAW + 0xFC, 2)
        self.assertEqual((e.details.address, e.details.size), (RAW + 0xFC, 8))

    def test_version_2_gets_no_details_and_the_same_message(self) -> None:
        with self.daemon.gate(max_version=2) as g2:
            for fn, args in ((lambda g: g.read(0xFE300000), ()), (lambda g: g.write(UART4, 1), ()),
                             (lambda g: g.read(GPIO4 + 0x36), ())):
                with self.assertRaises(iogate.IOGateError) as c2:
                    fn(g2)
                with self.assertRaises(iogate.IOGateError) as c3:
                    fn(self.gate)
                self.assertEqual(c2.exception.status, c3.exception.status)
                self.assertEqual(c2.exception.message, c3.exception.message)
                self.assertEqual(c2.exception.details, iogate.ErrorDetails())
                self.assertTrue(c2.exception.details.empty)
                self.assertFalse(c3.exception.details.empty)

    def test_read_only_details(self) -> None:
        e = self.refused(iogate.ReadOnlyError, 6, self.gate.write, "uart0+0x10", 0x5A, width=8)
        d = e.details
        self.assertEqual((d.address, d.size), (UART4 + 0x10, 1))
        uart = self.gate.window("uart0")
        self.assertEqual(d.granted, [(UART4, uart.length, "ro")])
        self.assertIsNone(d.operation)

    def test_misaligned_details(self) -> None:
        e = self.refused(iogate.MisalignedError, 7, self.gate.read, GPIO4 + 0x36)
        self.assertEqual(e.message, "address 0xFE200036 is not aligned to the 32-bit width; it must be a multiple of 4")
        self.assertEqual((e.details.address, e.details.size, e.details.granted), (GPIO4 + 0x36, 4, []))
        e = self.refused(iogate.MisalignedError, 7, self.gate.modify, RAW + 4, 1, 1, width=64)
        self.assertEqual((e.details.address, e.details.size), (RAW + 4, 8))

    def test_refused_batch_details_name_the_operation(self) -> None:
        for compact in (True, False):
            b = self.gate.batch(compact=compact)
            b.write(RAW + 0x20, 0xAAAA)
            b.read(RAW)
            b.write(UART4 + 4, 1)
            e = self.refused(iogate.ReadOnlyError, 6, b.run)
            d = e.details
            self.assertEqual((d.operation, d.address, d.size), (2, UART4 + 4, 4), compact)
            self.assertEqual([(base, a) for base, _, a in d.granted], [(UART4, "ro")])
            b = self.gate.batch(compact=compact)
            b.read(0xFE300000)
            e = self.refused(iogate.OutsideAllowlistError, 5, b.run)
            self.assertEqual((e.details.operation, e.details.address, e.details.size), (0, 0xFE300000, 4))
            self.assertEqual(len(e.details.granted), 3)
            self.assertEqual(self.gate.read(RAW + 0x20), 0)

    def test_error_details_parsing(self) -> None:
        from iogate.errors import split_error_body
        body = (b"refused\0" + bytes([1, 8]) + (0xFE215000).to_bytes(8, "little")
                + bytes([99, 3, 1, 2, 3])  # unknown tag: skipped by its length
                + bytes([2, 4, 1, 2, 3, 4])  # known tag with the wrong length: skipped
                + bytes([2, 8]) + (4).to_bytes(8, "little")
                + bytes([3, 17]) + struct.pack("<QQB", 0xFE200000, 0xF4, 1)
                + bytes([4, 4]) + struct.pack("<I", 17) + bytes([5, 4]) + b"gpio"
                + bytes([6, 4]) + struct.pack("<i", -5) + bytes([7, 3]) + b"ioc"
                + bytes([8, 4]) + struct.pack("<I", 3)
                + bytes([1, 8, 0, 0]))  # cut short: ends the list
        msg, d = split_error_body(body, 3)
        self.assertEqual(msg, "refused")
        self.assertEqual(d, iogate.ErrorDetails(address=0xFE215000, size=4, granted=[(0xFE200000, 0xF4, "rw")],
                                                pin=17, consumer="gpio", errno=-5, call="ioc", operation=3))
        self.assertEqual(split_error_body(body, 2)[0], body.decode("utf-8", "replace"))
        self.assertEqual(split_error_body(b"plain", 3), ("plain", iogate.ErrorDetails()))
        with self.assertRaises(Exception):
            d.address = 1  # type: ignore[misc]  # frozen

    def test_grants_whole(self) -> None:
        gs = self.gate.grants()
        self.assertEqual([g.window for g in gs], self.gate.windows())
        self.assertEqual({g.scope for g in gs}, {"whole"})
        self.assertEqual([g.pins_granted for g in gs], [[]] * len(gs))

    def test_read_only_grant(self) -> None:
        before = self.gate.read(UART4)
        self.refused(iogate.ReadOnlyError, 6, self.gate.write, UART4, 0x5A)
        self.refused(iogate.ReadOnlyError, 6, self.gate.write, "uart0+0x10", 0x5A, width=8)
        self.refused(iogate.ReadOnlyError, 6, self.gate.modify, UART4, 0xFF, 0x5A)
        self.refused(iogate.ReadOnlyError, 6, self.gate.write_block, UART4, [1, 2])
        self.assertEqual(self.gate.read(UART4), before)
        self.assertEqual(self.gate.read("uart0+0x10", width=8), 0)
        self.assertEqual(self.gate.wait(UART4, 0, 0, timeout_ms=0), before)  # read and wait need only ro

    def test_bad_width(self) -> None:
        e = self.refused(iogate.BadWidthError, 8, self.gate.read, RAW, width=24)
        self.assertIn("3 bytes", e.message)
        self.refused(iogate.BadWidthError, 8, self.gate.write, RAW, 1, width=24)
        self.refused(iogate.BadWidthError, 8, self.gate.modify, RAW, 0x1FF, 0, width=8)  # mask too wide
        self.refused(iogate.BadWidthError, 8, self.gate.wait, RAW, 0xFF, 0x100, 0, width=8)  # value too wide
        self.assertEqual(self.gate.read(RAW), 0)
        for width in (12, 0, -8, 4096):
            with self.assertRaises(iogate.BadWidthError, msg=str(width)) as cm:
                self.gate.read(RAW, width=width)
            self.assertFalse(cm.exception.from_daemon)

    def test_misaligned(self) -> None:
        e = self.refused(iogate.MisalignedError, 7, self.gate.read, GPIO4 + 0x36)
        self.assertEqual(e.message, "address 0xFE200036 is not aligned to the 32-bit width; it must be a multiple of 4")
        self.refused(iogate.MisalignedError, 7, self.gate.write, RAW + 2, 1)
        self.refused(iogate.MisalignedError, 7, self.gate.modify, RAW + 4, 1, 1, width=64)
        self.assertEqual(self.gate.read_block(RAW, 4, width=32), [0, 0, 0, 0])

    # MARK: batches

    def spy(self, gate: "iogate.Gate") -> list:
        """Records the opcode of every request ``gate`` sends from now on."""
        sent: list = []
        real = gate.call

        def call(opcode: int, body: bytes = b"", flags: int = 0) -> bytes:
            sent.append(opcode if not flags else (opcode, flags))
            return real(opcode, body, flags)

        gate.call = call  # type: ignore[method-assign]
        return sent

    def test_compact_batch(self) -> None:
        self.gate.write(RAW, 0x0000C3F0)
        self.gate.write(RAW + 8, 0xFFFF0000)
        self.gate.windows()  # resolve() then needs no request inside the batch
        sent = self.spy(self.gate)
        with self.gate.batch() as b:
            r = b.read(RAW)
            w = b.write(RAW + 4, 0xBEEF, width=16)
            m = b.modify(RAW + 8, 0x00FF00FF, 0x00120034)
            r8 = b.read(RAW + 4, width=8)
            g = b.modify("gpio+0x04", 7 << 21, 1 << 21)
            self.assertEqual(len(b), 5)
            with self.assertRaises(iogate.BadStateError):
                r.value
        self.assertEqual(sent, [0x21])  # one request: a compact batch
        self.assertEqual(b.results, [0xC3F0, 0, 0xFFFF0000, 0xEF, 0])
        self.assertEqual((r.value, w.value, m.value, r8.value, g.value), (0xC3F0, 0, 0xFFFF0000, 0xEF, 0))
        self.assertEqual(self.gate.read(RAW + 4), 0xBEEF)
        self.assertEqual(self.gate.read(RAW + 8), 0xFF120034)
        self.assertEqual(self.gate.read("gpio+0x04"), 1 << 21)
        self.gate.write("gpio+0x04", 0)
        with self.assertRaises(iogate.BadStateError):
            b.write(RAW, 1)  # a batch runs once

    def test_batch_forced_0x20_on_version_2(self) -> None:
        sent = self.spy(self.gate)
        with self.gate.batch(compact=False) as b:
            b.write(RAW, 0x77, width=8)
            r = b.read(RAW, width=64)
        self.assertEqual(sent, [0x20])
        self.assertEqual(r.value, 0x77)

    def test_batch_beyond_4_gib_uses_0x20(self) -> None:
        # Compact offsets are 32 bits: addresses more than 4 GiB apart go as 0x20 (auto) and are refused
        # locally when compact=True is forced. The daemon then refuses 0x100000000 (outside the allowlist).
        sent = self.spy(self.gate)
        b = self.gate.batch()
        b.read(RAW)
        b.read(RAW + (1 << 32))
        self.refused(iogate.OutsideAllowlistError, 5, b.run)
        self.assertEqual(sent, [0x20])
        b2 = self.gate.batch(compact=True)
        b2.read(RAW)
        b2.read(RAW + (1 << 32))
        with self.assertRaises(iogate.LimitExceededError):
            b2.run()
        self.assertEqual(sent, [0x20])

    def test_batch_with_one_forbidden_op_runs_nothing(self) -> None:
        for forbidden, cls, status in (
            (lambda b: b.write(UART4, 1), iogate.ReadOnlyError, 6),
            (lambda b: b.read(0xFE300000), iogate.OutsideAllowlistError, 5),
            (lambda b: b.modify(RAW + 2, 1, 1), iogate.MisalignedError, 7),
            (lambda b: b.write(RAW, 0x1FF, width=8), iogate.BadWidthError, 8),
            (lambda b: b.read(RAW, width=24), iogate.BadWidthError, 8),
        ):
            for compact in (True, False):
                b = self.gate.batch(compact=compact)
                b.write(RAW + 0x20, 0xAAAA)
                b.modify("gpio+0x04", 7 << 21, 1 << 21)
                forbidden(b)
                b.write(RAW + 0x24, 0xBBBB)
                e = self.refused(cls, status, b.run)
                self.assertIsNone(b.results)
                self.assertEqual(self.gate.read_block(RAW + 0x20, 2), [0, 0], e.message)
                self.assertEqual(self.gate.read("gpio+0x04"), 0, e.message)
                if status != 8:
                    self.assertIn("nothing was run", e.message)
                    self.assertIn("operation #2", e.message)

    def test_batch_over_max_batch_is_refused_whole(self) -> None:
        b = self.gate.batch()
        for i in range(9):  # max_batch is 8
            b.write(RAW + 4 * i, i + 1)
        self.refused(iogate.LimitExceededError, 4, b.run)
        self.assertEqual(self.gate.read_block(RAW, 9), [0] * 9)

    def test_batch_not_sent_when_block_raises(self) -> None:
        with self.assertRaises(KeyError):
            with self.gate.batch() as b:
                b.write(RAW, 0x99)
                raise KeyError("stop")
        self.assertIsNone(b.results)
        self.assertEqual(self.gate.read(RAW), 0)

    def test_empty_batch(self) -> None:
        with self.gate.batch() as b:
            pass
        self.assertEqual(b.results, [])

    # MARK: connection

    def test_default_socket_from_environment(self) -> None:
        old = os.environ.get("IOGATE_SOCKET")
        os.environ["IOGATE_SOCKET"] = self.daemon.socket
        try:
            with iogate.Gate() as g:
                self.assertEqual(g.socket_path, self.daemon.socket)
                self.assertEqual(g.read(RAW), 0)
        finally:
            if old is None:
                del os.environ["IOGATE_SOCKET"]
            else:
                os.environ["IOGATE_SOCKET"] = old
        self.assertEqual(iogate.DEFAULT_SOCKET, "/run/iogate/iogate.sock")

    def test_unreachable_and_closed(self) -> None:
        with self.assertRaises(iogate.UnreachableError) as cm:
            iogate.Gate(os.path.join(self.daemon.dir, "missing.sock"))
        self.assertEqual(cm.exception.status, 16)
        self.assertIn("is iogated running", cm.exception.message)
        with self.daemon.gate() as g:
            self.assertFalse(g.closed)
        self.assertTrue(g.closed)
        with self.assertRaises(iogate.UnreachableError):
            g.read(RAW)

    def test_error_classes_cover_section_7(self) -> None:
        for status in range(1, 19):
            e = iogate.IOGateError.from_status(status, "m")
            self.assertIsInstance(e, iogate.IOGateError)
            self.assertIsNot(type(e), iogate.IOGateError, status)
            self.assertEqual(e.status, status)
        self.assertEqual(iogate.status_name(5), "outside-allowlist")
        self.assertEqual(iogate.status_name(99), "status-99")
        self.assertIs(type(iogate.IOGateError.from_status(99, "new")), iogate.IOGateError)

    def test_parse_int(self) -> None:
        self.assertEqual([iogate.parse_int(t) for t in ("0x1F", "0b101", "0o17", "1_000", "42")], [31, 5, 15, 1000, 42])
        for bad in ("", "0x", "-1", "+1", "abc"):
            with self.assertRaises(iogate.MalformedError, msg=bad):
                iogate.parse_int(bad)


class BusFaultTests(unittest.TestCase):
    """A device file that shrinks after the daemon mapped it: accesses past its end fault (status 18);
    in a batch the operations before the fault took effect and the rest did not run (§6.6 item 4)."""

    def test_bus_fault(self) -> None:
        def make_memory(directory: str) -> None:
            with open(os.path.join(directory, "mem"), "wb") as f:
                f.truncate(0x2000)
            os.chmod(os.path.join(directory, "mem"), 0o600)

        d = Daemon(None, ['IoBase = [0x0]\nIoLen = [0x2000]\naccess = "rw"'], device="@DIR@/mem", before_start=make_memory)
        self.addCleanup(d.stop)
        os.truncate(os.path.join(d.dir, "mem"), 0x1000)
        with d.gate() as g:
            g.write(0x10, 5)
            self.assertEqual(g.read(0x10), 5)
            with self.assertRaises(iogate.BusFaultError) as cm:
                g.read(0x1000)
            self.assertEqual((cm.exception.status, cm.exception.status_name), (18, "bus-fault"))
            self.assertIn("0x1000", cm.exception.message)
            b = g.batch()
            b.write(0x20, 7)
            b.read(0x1000)
            b.write(0x24, 9)
            with self.assertRaises(iogate.BusFaultError):
                b.run()
            self.assertIsNone(b.results)
            self.assertEqual(g.read_block(0x20, 2), [7, 0])


if __name__ == "__main__":
    unittest.main()
