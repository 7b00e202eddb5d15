"""Test support: a private iogated on a mock board, and the package under test.

The daemon binary is $IOGATED, else <repository>/.build/debug/iogated (what `swift build` makes);
board files come from <repository>/boards. Each daemon gets a temporary directory with its config
(mode 0600) and socket, and grants to the uid running the tests. The package is imported from
clients/python/src unless $IOGATE_PY_TEST_INSTALLED=1 (then the installed one is used).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Callable, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)  # clients/python
SRC = os.path.join(PACKAGE_ROOT, "src")
REPO = os.path.dirname(os.path.dirname(PACKAGE_ROOT))

if os.environ.get("IOGATE_PY_TEST_INSTALLED") != "1" and SRC not in sys.path:
    sys.path.insert(0, SRC)

import iogate  # noqa: E402


def iogated_path() -> str:
    path = os.environ.get("IOGATED") or os.path.join(REPO, ".build", "debug", "iogated")
    if not os.access(path, os.X_OK):
        raise RuntimeError(
            "iogated not found at %s: run `swift build --product iogated` in %s, or set IOGATED" % (path, REPO))
    return path


class Daemon:
    """A running iogated on a mock board. ``grants`` are TOML [[grant]] bodies without the uid line."""

    def __init__(self, board: Optional[str], grants: List[str], limits: Optional[str] = None,
                 device: str = "mock", before_start: Optional[Callable[[str], None]] = None) -> None:
        self.board = board
        self.dir = tempfile.mkdtemp(prefix="iogpy-")
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "s.sock")
        self.config = os.path.join(self.dir, "iogate.toml")
        self.log = os.path.join(self.dir, "iogated.log")
        text = ['device = "%s"' % device.replace("@DIR@", self.dir)] + (['board = "%s"' % board] if board else [])
        text += ['socket = "%s"' % self.socket, 'socket_mode = "0600"', 'audit = "none"', ""]
        if before_start is not None:
            before_start(self.dir)
        if limits:
            text += ["[limits]", limits, ""]
        for g in grants:
            text += ["[[grant]]", "uid = %d" % os.getuid(), g, ""]
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(text))
        self._log_file = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [iogated_path(), "--config", self.config, "--boards", os.path.join(REPO, "boards")],
            stdout=subprocess.DEVNULL, stderr=self._log_file)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if "iogated: ready" in self.log_text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("iogated (board %s) did not start: %s" % (board, self.log_text()))

    def log_text(self) -> str:
        with open(self.log, "r", errors="replace") as f:
            return f.read()

    def gate(self, **kwargs: object) -> "iogate.Gate":
        return iogate.Gate(self.socket, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()
        shutil.rmtree(self.dir, ignore_errors=True)


RPI4_GRANTS = [
    'windows = ["gpio"]\naccess = "rw"',
    'windows = ["uart0"]\naccess = "ro"',
    # A raw range inside spi0 (not a whole window, so it has no name): plain memory on the mock.
    'IoBase = [0xFE204000]\nIoLen = [0x100]\naccess = "rw"',
]
RPI4_LIMITS = "max_block = 4\nmax_batch = 8\nmax_wait_ms = 2000"
RAW = 0xFE204000  # the raw rw range of RPI4_GRANTS
GPIO4 = 0xFE200000
UART4 = 0xFE201000

RPI5_GRANTS = ['windows = ["gpio", "rio", "pads"]\naccess = "rw"']
RPI5_GPIO, RPI5_RIO, RPI5_PADS = 0x1F000D0000, 0x1F000E0000, 0x1F000F0000


def python_for_gpiozero() -> str:
    """/usr/bin/python3 sees Debian's dist-packages (python3-gpiozero); $IOGATE_TEST_PYTHON overrides."""
    return os.environ.get("IOGATE_TEST_PYTHON") or sys.executable
