"""python3 -m iogate: output formats and exit codes (0 ok, 1 refused/failed, 2 usage, 3 unreachable)."""

import json
import os
import subprocess
import sys
import unittest
from typing import Tuple

from support import GPIO4, RAW, RPI4_GRANTS, SRC, Daemon


class CLITests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon("rpi4", RPI4_GRANTS)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.stop()

    def run_cli(self, *args: str, socket: bool = True) -> Tuple[int, str, str]:
        env = dict(os.environ)
        env.pop("IOGATE_SOCKET", None)
        if os.environ.get("IOGATE_PY_TEST_INSTALLED") != "1":
            env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
        argv = [sys.executable, "-m", "iogate"] + (["--socket", self.daemon.socket] if socket else []) + list(args)
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args: str) -> str:
        code, out, err = self.run_cli(*args)
        self.assertEqual(code, 0, "%s: %s" % (args, err))
        return out

    def test_registers(self) -> None:
        self.assertEqual(self.ok("write", "0x%X" % RAW, "0xC3F0"), "")
        self.assertEqual(self.ok("read", "0x%X" % RAW), "0x0000C3F0\n")
        self.assertEqual(self.ok("read", "0x%X" % RAW, "--width", "8", "--count", "2"), "0xF0\n0xC3\n")
        self.assertEqual(json.loads(self.ok("read", "0x%X" % RAW, "--width", "16", "--json")),
                         {"address": "0x%X" % RAW, "width": 16, "values": ["0xC3F0"]})
        self.assertEqual(self.ok("modify", "0x%X" % RAW, "--mask", "0xFF", "--value", "0x0F"), "0x0000C3F0\n")
        self.assertEqual(self.ok("read", "0x%X" % RAW, "--width", "64"), "0x000000000000C30F\n")
        self.assertEqual(self.ok("wait", "0x%X" % RAW, "--mask", "0xFF", "--value", "0x0F", "--timeout-ms", "0"), "0x0000C30F\n")

    def test_windows(self) -> None:
        lines = self.ok("windows").splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "BASE", "LENGTH", "ACCESS"])
        self.assertEqual(lines[1].split(), ["gpio", "0xFE200000", "0x100", "rw"])
        self.assertEqual(lines[3].split(), ["-", "0xFE204000", "0x100", "rw"])
        ws = json.loads(self.ok("windows", "--json"))
        self.assertEqual(ws[1], {"name": "uart0", "base": "0xFE201000", "length": "0x200", "access": "ro", "model": "", "pins": 0})

    def test_gpio(self) -> None:
        self.assertEqual(self.ok("gpio", "17", "mode", "out"), "")
        self.assertEqual(self.ok("gpio", "17", "set", "1"), "")
        self.assertEqual(self.ok("gpio", "17", "get"), "1\n")
        self.assertEqual(self.ok("read", "gpio+0x34"), "0x00020000\n")
        self.assertEqual(self.ok("read", "gpio+0x04"), "0x00200000\n")
        self.assertEqual(self.ok("gpio", "17", "info"), "gpio:17 (bcm2711): function out, level 1, pull none\n")
        self.assertEqual(self.ok("gpio", "17", "toggle"), "0\n")
        self.assertEqual(self.ok("read", "gpio+0x34"), "0x00000000\n")
        self.assertEqual(self.ok("gpio", "17", "mode", "in"), "")
        self.assertEqual(self.ok("gpio", "17", "pull", "up"), "")
        self.assertEqual(self.ok("read", "gpio+0xe8"), "0x00000004\n")  # REG1 bits 2..3 = 01 (up)
        self.assertEqual(self.ok("gpio", "17", "get"), "1\n")
        self.assertEqual(self.ok("gpio", "17", "pull", "none"), "")

    def test_exit_codes(self) -> None:
        code, out, err = self.run_cli("read", "0xFE300000")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("outside the allowlist", err)
        code, _, err = self.run_cli("write", "uart0", "1")
        self.assertEqual(code, 1)
        self.assertIn("only read access", err)
        code, _, err = self.run_cli("read", "gpio+0x36")
        self.assertEqual(code, 1)
        self.assertIn("not aligned", err)
        code, _, err = self.run_cli("read", "nope+0x34")
        self.assertEqual(code, 1)
        self.assertIn("no window named 'nope'", err)
        code, _, err = self.run_cli("wait", "gpio+0x34", "--mask", "1", "--value", "1", "--timeout-ms", "10")
        self.assertEqual(code, 1)
        self.assertIn("did not become", err)
        code, _, err = self.run_cli("gpio", "17", "mode", "alt7")
        self.assertEqual(code, 1)
        self.assertIn("allowed: in, out", err)
        for usage in (("read", "gpio+zz"), ("read",), ("frobnicate",), ("read", "gpio", "--width", "24"),
                      ("write", "gpio", "0x1FF", "--width", "8"), ("write", "gpio", "lots"), ("gpio", "17", "set", "2"),
                      ("gpio", "17", "mode"), ("gpio", "17", "get", "1"), ("gpio", "17", "pull", "left"),
                      ("read", "gpio", "--count", "0")):
            code, out, err = self.run_cli(*usage)
            self.assertEqual((code, out), (2, ""), usage)
            self.assertTrue(err, usage)
        code, _, err = self.run_cli("--socket", os.path.join(self.daemon.dir, "none.sock"), "read", "gpio", socket=False)
        self.assertEqual(code, 3)
        self.assertIn("cannot connect", err)
        self.assertEqual(self.ok("read", "0x%X" % (GPIO4 + 0x34)), "0x00000000\n")


if __name__ == "__main__":
    unittest.main()
