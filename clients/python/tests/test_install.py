"""`pip install ./clients/python` into a fresh venv (with --system-site-packages, so Debian's
gpiozero is visible), then from outside the source tree: the module, py.typed, the command line,
the gpiozero entry point, and an unchanged gpiozero program run with GPIOZERO_PIN_FACTORY=iogate.

The install is offline (--no-build-isolation --no-index: setuptools and wheel come from the system,
python3-setuptools and python3-wheel on Debian), so the test needs no network."""

import os
import shutil
import subprocess
import tempfile
import textwrap
import unittest

from support import GPIO4, PACKAGE_ROOT, RPI4_GRANTS, Daemon, python_for_gpiozero

APP = textwrap.dedent("""\
    import sys
    from gpiozero import LED, Button, Device
    led = LED("GPIO17")
    led.on()
    button = Button("BCM27")
    print(type(Device.pin_factory).__module__, type(Device.pin_factory).__name__, button.is_pressed, flush=True)
    sys.stdin.readline()  # the test presses the button meanwhile
    print(button.is_pressed, flush=True)
    """)


class InstallTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.mkdtemp(prefix="iogpy-venv-")
        cls.venv = os.path.join(cls.tmp, "venv")
        cls.python = os.path.join(cls.venv, "bin", "python")
        cls.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "IOGATE_SOCKET", "PYTHONHOME")}
        cls.sh([python_for_gpiozero(), "-m", "venv", "--system-site-packages", cls.venv])
        # Copy the package so the build's egg-info/build directories never land in the checkout.
        src = os.path.join(cls.tmp, "pkg")
        shutil.copytree(PACKAGE_ROOT, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.egg-info", "build"))
        cls.pip_output = cls.sh([cls.python, "-m", "pip", "install", "--no-build-isolation", "--no-index", src])
        cls.daemon = Daemon("rpi4", RPI4_GRANTS)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def sh(cls, argv, env=None) -> str:
        p = subprocess.run(argv, env=env or cls.env, cwd=cls.tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=300)
        if p.returncode != 0:
            raise AssertionError("%s exited %d:\n%s" % (" ".join(argv), p.returncode, p.stdout))
        return p.stdout

    def test_installed_package(self) -> None:
        self.assertIn("Successfully installed iogate-0.1.0", self.pip_output)
        out = self.sh([self.python, "-c", "import iogate, os; d = os.path.dirname(iogate.__file__); "
                       "print(d); print(os.path.exists(os.path.join(d, 'py.typed')))"])
        where, typed = out.split()
        self.assertTrue(where.startswith(self.venv), where)
        self.assertEqual(typed, "True")

    def test_entry_point_registered(self) -> None:
        out = self.sh([self.python, "-c", textwrap.dedent("""\
            from importlib.metadata import entry_points
            eps = entry_points()
            group = eps.select(group="gpiozero_pin_factories") if hasattr(eps, "select") else eps.get("gpiozero_pin_factories", [])
            print([ep.value for ep in group if ep.name == "iogate"])
            """)])
        self.assertEqual(out.strip(), "['iogate.gpiozero:IOGateFactory']")

    def test_command_line(self) -> None:
        env = dict(self.env, IOGATE_SOCKET=self.daemon.socket)
        self.assertEqual(self.sh([self.python, "-m", "iogate", "gpio", "4", "mode", "out"], env), "")
        self.assertEqual(self.sh([os.path.join(self.venv, "bin", "iogate-py"), "read", "gpio+0x00"], env), "0x00001000\n")

    def test_gpiozero_program_with_factory_name(self) -> None:
        try:
            self.sh([self.python, "-c", "import gpiozero"])
        except AssertionError:
            if os.environ.get("IOGATE_REQUIRE_GPIOZERO") == "1":
                raise
            self.skipTest("gpiozero is not visible to %s" % python_for_gpiozero())
        with open(os.path.join(self.tmp, "app.py"), "w") as f:
            f.write(APP)
        env = dict(self.env, GPIOZERO_PIN_FACTORY="iogate", IOGATE_SOCKET=self.daemon.socket)
        app = subprocess.Popen([self.python, "app.py"], env=env, cwd=self.tmp, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        try:
            first = app.stdout.readline().strip()
            self.assertEqual(first, "iogate.gpiozero IOGateFactory False", app.stderr.read() if not first else "")
            with self.daemon.gate() as check:
                self.assertEqual((check.gpio(17).mode(), check.gpio(17).get()), ("out", 1))
                self.assertEqual(check.read(GPIO4 + 0x34) & (1 << 17), 1 << 17)  # GPLEV0
                self.assertEqual((check.gpio(27).mode(), check.gpio(27).pull()), ("in", "up"))
                check.gpio(27).pull("down")  # press
                app.stdin.write("\n")
                app.stdin.flush()
                self.assertEqual(app.stdout.readline().strip(), "True")
                self.assertEqual(app.wait(30), 0)
                # gpiozero's exit handler closed the devices: both pins inputs again.
                self.assertEqual((check.gpio(17).mode(), check.gpio(27).mode()), ("in", "in"))
                check.gpio(17).set(0)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
            app.stdout.close()
            app.stderr.close()
            app.stdin.close()

if __name__ == "__main__":
    unittest.main()
