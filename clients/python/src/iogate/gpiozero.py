"""A gpiozero pin factory that drives pins through iogated.

``GPIOZERO_PIN_FACTORY=iogate python3 app.py`` (the package registers ``iogate`` under the
``gpiozero_pin_factories`` entry point), or explicitly::

    from gpiozero import LED
    from iogate.gpiozero import IOGateFactory
    led = LED(17, pin_factory=IOGateFactory())

Works with gpiozero 1.6 (Debian 12) and 2.0 (Debian 13). Pins are those of the first granted GPIO
window with a Raspberry Pi register model (bcm2835, bcm2711, rp1); on a Pi 5 grant ``gpio``, ``rio``
and ``pads``. gpiozero's pin names (``GPIO17``, ``BCM17``, ``BOARD11``, ``J8:11``, 17) come from
its own board data, looked up by a revision code chosen from the register model (override with
``revision=`` or ``$IOGATE_PI_REVISION``). Edge events (Button's ``when_pressed``,
``wait_for_press``) are found by daemon-side waits on a second connection. PWM is not supported
(gpiozero raises ``PinPWMUnsupported``); SPI falls back to gpiozero's bit-banged software SPI
(with gpiozero 1.6 only when this factory is the default one).
"""

import os
import threading
from time import monotonic
from typing import Any, Dict, Optional

from gpiozero.exc import (
    PinFixedPull,
    PinInvalidEdges,
    PinInvalidFunction,
    PinInvalidPull,
    PinSetInput,
    SPIError,
)
from gpiozero.pins.pi import PiFactory, PiPin

from .client import Gate
from .errors import IOGateError, NotFoundError, Status, WaitTimeoutError
from .gpio import Layout, Pin, gpio_windows

# Revision codes whose board data gpiozero uses for pin names (all have the 40-pin J8 header).
_REVISIONS = {
    "bcm2711": 0xC03111,  # Raspberry Pi 4 Model B 4GB
    "rp1": 0xC04170,  # Raspberry Pi 5 4GB (gpiozero 1.6 calls it "???" but knows the header)
}
_BCM2835_REVISIONS = {
    0x20200000: 0x900093,  # BCM2835 at 0x20000000: Pi Zero / Pi 1
    0x3F200000: 0xA02082,  # BCM2836/7 at 0x3F000000: Pi 3 Model B
}

_TO_GPIOZERO = {"in": "input", "out": "output", "none": "none"}
_FROM_GPIOZERO = {"input": "in", "output": "out"}
_PULL_TO_GPIOZERO = {"up": "up", "down": "down", "none": "floating"}
_PULL_FROM_GPIOZERO = {"up": "up", "down": "down", "floating": "none"}
_EDGES = ("both", "rising", "falling", "none")


class IOGateFactory(PiFactory):  # type: ignore[misc]
    """gpiozero pin factory over iogated (``socket``: default ``$IOGATE_SOCKET``, then
    ``/run/iogate/iogate.sock``)."""

    def __init__(self, socket: Optional[str] = None, revision: Optional[int] = None) -> None:
        super().__init__()
        self.pin_class = IOGatePin
        self.gate = Gate(socket)
        self.socket_path = self.gate.socket_path
        banks = [(w, layout) for w, layout in gpio_windows(self.gate) if layout.model in ("bcm2835", "bcm2711", "rp1")]
        if not banks:
            have = ", ".join("%s (%s)" % (w.name, w.model) for w in self.gate.windows() if w.model) or "none"
            self.gate.close()
            raise NotFoundError(Status.NOT_FOUND, "the iogate pin factory needs a granted Raspberry Pi GPIO window (model bcm2835, bcm2711 or rp1); your GPIO windows: %s" % have)
        self.window, self.layout = banks[0]
        env = os.environ.get("IOGATE_PI_REVISION")
        if revision is None and env:
            revision = int(env, 16)
        if revision is None:
            if self.layout.model == "bcm2835":
                revision = _BCM2835_REVISIONS.get(self.window.base, 0xA02082)
            else:
                revision = _REVISIONS[self.layout.model]
        self._revision = revision
        self._lock = threading.Lock()

    def _get_revision(self) -> int:
        return self._revision

    def close(self) -> None:
        super().close()
        self.gate.close()

    def iogate_pin(self, number: int) -> Pin:
        """The ``iogate.Pin`` behind GPIO ``number``."""
        return Pin(self.gate, self.window, self.layout, number)

    @staticmethod
    def ticks() -> float:
        return monotonic()

    @staticmethod
    def ticks_diff(later: float, earlier: float) -> float:
        return max(0.0, later - earlier)

    def _get_spi_class(self, shared: bool, hardware: bool) -> Any:
        if hardware:
            raise SPIError("iogate offers no hardware SPI; using software SPI over the GPIO pins")
        from gpiozero.pins.local import LocalPiSoftwareSPI, LocalPiSoftwareSPIShared
        return LocalPiSoftwareSPIShared if shared else LocalPiSoftwareSPI


class IOGatePin(PiPin):  # type: ignore[misc]
    """A gpiozero pin driven through iogated."""

    def __init__(self, factory: IOGateFactory, spec: Any) -> None:
        # gpiozero 1.6 passes the GPIO number; 2.x a PinInfo whose name is "GPIOn".
        super().__init__(factory, spec)
        number = spec if isinstance(spec, int) else int(spec.name[4:])
        self._gpio = number
        self._io = factory.iogate_pin(number)
        self._bounce: Optional[float] = None
        self._edges = "both"
        self._pull_cache = "floating"
        self._watcher: Optional[_Watcher] = None
        self._board_pull = self._physical_pull()
        self.function = "input"
        self.pull = self._board_pull or "floating"

    def _physical_pull(self) -> str:
        info = getattr(self, "_info", None)  # gpiozero 2.x
        if info is not None:
            return getattr(info, "pull", "") or ""
        try:
            return "up" if self._factory.pi_info.pulled_up(repr(self)) else ""
        except Exception:
            return ""

    def close(self) -> None:
        self.when_changed = None
        self.function = "input"
        self.pull = self._board_pull or "floating"

    def _get_function(self) -> str:
        f = self._io.mode()
        return _TO_GPIOZERO.get(f, f)

    def _set_function(self, value: str) -> None:
        name = _FROM_GPIOZERO.get(value, value)
        if name not in self._io.layout.functions:
            raise PinInvalidFunction('invalid function "%s" for pin %r' % (value, self))
        self._io.mode(name)

    def _get_state(self) -> bool:
        return bool(self._io.get())

    def _set_state(self, value: Any) -> None:
        if self._io.mode() == "in":
            raise PinSetInput("cannot set state of pin %r" % self)
        self._io.set(1 if value else 0)

    def output_with_state(self, state: Any) -> None:
        # Latch the level first, then switch to output: the pin never shows the old level.
        self._io.set(1 if state else 0)
        self._io.mode("out")

    def _get_pull(self) -> str:
        p = self._io.pull()
        return self._pull_cache if p is None else _PULL_TO_GPIOZERO[p]

    def _set_pull(self, value: str) -> None:
        if value not in _PULL_FROM_GPIOZERO:
            raise PinInvalidPull('invalid pull "%s" for pin %r' % (value, self))
        if self._io.mode() != "in":
            raise PinFixedPull("cannot set pull on non-input pin %r" % self)
        if self._board_pull and value != self._board_pull:
            raise PinFixedPull("%r has a physical pull-%s resistor" % (self, self._board_pull))
        self._io.pull(_PULL_FROM_GPIOZERO[value])
        self._pull_cache = value

    def _get_bounce(self) -> Optional[float]:
        return self._bounce

    def _set_bounce(self, value: Optional[float]) -> None:
        if value is not None and value < 0:
            raise ValueError("bounce must be 0 or greater")
        self._bounce = None if value is None else float(value)

    def _get_edges(self) -> str:
        return self._edges

    def _set_edges(self, value: str) -> None:
        if value not in _EDGES:
            raise PinInvalidEdges('invalid edge specification "%s" for pin %r' % (value, self))
        self._edges = value

    def _enable_event_detect(self) -> None:
        if self._watcher is None:
            self._watcher = _Watcher(self)
            self._watcher.start()

    def _disable_event_detect(self) -> None:
        w, self._watcher = self._watcher, None
        if w is not None:
            w.stop()

    def _call_when_changed(self, ticks: Optional[float] = None, state: Optional[bool] = None) -> None:
        super()._call_when_changed(self._factory.ticks() if ticks is None else ticks,
                                   self.state if state is None else state)


class _Watcher(threading.Thread):
    """Finds level changes of one pin with daemon-side waits (each at most ``slice_ms``, so stop()
    returns promptly) on a connection of its own, and calls the pin's when_changed handler."""

    slice_ms = 100

    def __init__(self, pin: IOGatePin) -> None:
        super().__init__(name="iogate-watch-%s" % pin, daemon=True)
        self._pin = pin
        self._stopping = threading.Event()
        factory = pin._factory
        self._gate = Gate(factory.socket_path)
        offset, self._mask = pin._io.layout.level_bit(pin._gpio)
        self._address = pin._io.window.base + offset
        self._level = self._gate.read(self._address) & self._mask
        self._last_event: Optional[float] = None

    def stop(self) -> None:
        self._stopping.set()
        if threading.current_thread() is not self:
            self.join(2.0)

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    value = self._gate.wait(self._address, self._mask, self._level ^ self._mask, self.slice_ms)
                except WaitTimeoutError:
                    continue
                self._level = value & self._mask
                high = bool(self._level)
                edges = self._pin._edges
                if edges == "none" or (edges == "rising" and not high) or (edges == "falling" and high):
                    continue
                now = monotonic()
                bounce = self._pin._bounce
                if bounce and self._last_event is not None and now - self._last_event < bounce:
                    continue
                self._last_event = now
                if not self._stopping.is_set():
                    self._pin._call_when_changed(now, high)
        except IOGateError:
            pass  # the daemon went away or the grant was revoked: no more events
        finally:
            self._gate.close()


__all__ = ["IOGateFactory", "IOGatePin"]
