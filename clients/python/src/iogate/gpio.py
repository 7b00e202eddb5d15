"""GPIO register models and pins.

A GPIO window in the daemon's windows list names its register model (``bcm2835``, ``bcm2711``,
``rp1``, ``omap``, ...). The models below say which register and bits control each pin; the
figures are those of the Linux drivers (pinctrl-bcm2835.c, pinctrl-rp1.c, gpio-omap.c), the same
that IOGate's own Swift library uses. Offsets are from the GPIO window's base; registers are 32
bits. On a Raspberry Pi 5 (rp1) a pin's registers span the board's ``gpio``, ``rio`` and ``pads``
windows (RIO at +0x10000, pads at +0x20000): all three must be granted.
"""

import time
from typing import TYPE_CHECKING, Callable, List, Optional, Tuple, TypedDict, Union

from .errors import MalformedError, NotFoundError, Status

if TYPE_CHECKING:  # pragma: no cover
    from .client import Gate, Window

# A step: ("modify", offset, mask, value), ("write", offset, value) or ("pause", microseconds, 0, 0).
Step = Tuple[str, int, int, int]

FUNCTIONS = ["in", "out"] + ["alt%d" % n for n in range(9)] + ["none"]
PULLS = ("up", "down", "none")

# BCM2835_FSEL_*: GPFSEL codes (alt4 is 0b011 and alt5 0b010).
_BCM_CODES = {"in": 0, "out": 1, "alt0": 4, "alt1": 5, "alt2": 6, "alt3": 7, "alt4": 3, "alt5": 2}
_BCM_NAMES = {v: k for k, v in _BCM_CODES.items()}

# BCM283x / BCM2711 register offsets.
_GPFSEL0, _GPSET0, _GPCLR0, _GPLEV0, _GPPUD, _GPPUDCLK0, _PUP_PDN0 = 0x00, 0x1C, 0x28, 0x34, 0x94, 0x98, 0xE4
# OMAP4 / AM335x.
_OMAP_OE, _OMAP_DATAIN, _OMAP_DATAOUT, _OMAP_CLEARDATAOUT, _OMAP_SETDATAOUT = 0x134, 0x138, 0x13C, 0x190, 0x194
# RP1.
_RP1_BANKS = ((0, 28, 0x0000), (28, 6, 0x4000), (34, 20, 0x8000))  # first pin, count, offset
_RP1_RIO, _RP1_PADS = 0x10000, 0x20000
_RIO_OUT, _RIO_OE, _RIO_IN = 0x0, 0x4, 0x8
_ALIAS_SET, _ALIAS_CLEAR = 0x2000, 0x3000
_FUNCSEL_MASK, _OUTOVER_MASK, _OEOVER_MASK = 0x1F, 0x3 << 12, 0x3 << 14
_FUNCSEL_RIO, _FUNCSEL_NONE, _FUNCSEL_COUNT = 5, 0x1F, 9
_PAD_PULL_SHIFT, _PAD_IE, _PAD_OD = 2, 1 << 6, 1 << 7

MAX_PINS = {"bcm2835": 54, "bcm2711": 58, "rp1": 54, "omap": 32}
SUPPORTED_MODELS = tuple(MAX_PINS)


class Layout:
    """The register model of one GPIO block of ``pins`` lines."""

    def __init__(self, model: str, pins: int) -> None:
        if model not in MAX_PINS:
            known = ", ".join(SUPPORTED_MODELS)
            what = "GPIO register model '%s'" % model if model else "a window without a GPIO register model"
            raise NotFoundError(Status.NOT_FOUND, "%s is not supported by this client; supported: %s" % (what, known))
        if not 1 <= pins <= MAX_PINS[model]:
            raise NotFoundError(Status.NOT_FOUND, "a %s block has 1...%d pins; the window says %d" % (model, MAX_PINS[model], pins))
        self.model = model
        self.pins = pins

    def __repr__(self) -> str:
        return "Layout(%r, %d)" % (self.model, self.pins)

    def check_pin(self, pin: int) -> None:
        if isinstance(pin, bool) or not isinstance(pin, int) or not 0 <= pin < self.pins:
            raise NotFoundError(Status.NOT_FOUND, "pin %r does not exist on this %s block; pins 0...%d" % (pin, self.model, self.pins - 1))

    # MARK: rp1 geometry

    @staticmethod
    def _rp1_bank(pin: int) -> Tuple[int, int, int]:
        """(bank index, bank offset, line within the bank)."""
        for i, (first, count, offset) in enumerate(_RP1_BANKS):
            if first <= pin < first + count:
                return i, offset, pin - first
        raise NotFoundError(Status.NOT_FOUND, "pin %d is not an RP1 pin" % pin)

    def _rp1_ctrl(self, pin: int) -> int:
        _, offset, line = self._rp1_bank(pin)
        return offset + 8 * line + 4

    def _rp1_pad(self, pin: int) -> int:
        _, offset, line = self._rp1_bank(pin)
        return _RP1_PADS + offset + 4 + 4 * line

    def _rp1_rio(self, pin: int, register: int, alias: int = 0) -> Tuple[int, int]:
        _, offset, line = self._rp1_bank(pin)
        return _RP1_RIO + offset + register + alias, 1 << line

    # MARK: per-pin bits

    def _bank_bit(self, pin: int, bcm: int, omap: int, rp1: Tuple[int, int]) -> Tuple[int, int]:
        self.check_pin(pin)
        if self.model == "omap":
            return omap, 1 << pin
        if self.model == "rp1":
            return self._rp1_rio(pin, rp1[0], rp1[1])
        return bcm + 4 * (pin // 32), 1 << (pin % 32)

    def set_bit(self, pin: int) -> Tuple[int, int]:
        """(offset, mask) of the register bit that drives the pin high when written as 1."""
        return self._bank_bit(pin, _GPSET0, _OMAP_SETDATAOUT, (_RIO_OUT, _ALIAS_SET))

    def clear_bit(self, pin: int) -> Tuple[int, int]:
        """(offset, mask) of the register bit that drives the pin low when written as 1."""
        return self._bank_bit(pin, _GPCLR0, _OMAP_CLEARDATAOUT, (_RIO_OUT, _ALIAS_CLEAR))

    def level_bit(self, pin: int) -> Tuple[int, int]:
        """(offset, mask) of the bit that shows the pin's level."""
        return self._bank_bit(pin, _GPLEV0, _OMAP_DATAIN, (_RIO_IN, 0))

    def latch_bit(self, pin: int) -> Optional[Tuple[int, int]]:
        """(offset, mask) of a readable output latch (omap DATAOUT, rp1 RIO OUT); None on bcm."""
        self.check_pin(pin)
        if self.model == "omap":
            return _OMAP_DATAOUT, 1 << pin
        if self.model == "rp1":
            return self._rp1_rio(pin, _RIO_OUT)
        return None

    def function_field(self, pin: int) -> Tuple[int, int, int]:
        """(offset, shift, width) of the field that selects the function."""
        self.check_pin(pin)
        if self.model == "omap":
            return _OMAP_OE, pin, 1
        if self.model == "rp1":
            return self._rp1_ctrl(pin), 0, 5
        return _GPFSEL0 + 4 * (pin // 10), 3 * (pin % 10), 3

    def pull_field(self, pin: int) -> Optional[Tuple[int, int, int]]:
        """(offset, shift, width) of a readable per-pin pull field (bcm2711, rp1); None otherwise."""
        self.check_pin(pin)
        if self.model == "rp1":
            return self._rp1_pad(pin), _PAD_PULL_SHIFT, 2
        if self.model == "bcm2711":
            return _PUP_PDN0 + 4 * (pin // 16), 2 * (pin % 16), 2
        return None

    # MARK: functions

    @property
    def functions(self) -> List[str]:
        """The function names this model can select."""
        if self.model == "omap":
            return ["in", "out"]
        if self.model == "rp1":
            return ["in", "out"] + ["alt%d" % n for n in (0, 1, 2, 3, 4, 6, 7, 8)] + ["none"]
        return ["in", "out"] + ["alt%d" % n for n in range(6)]

    def encode_function(self, function: str) -> int:
        if function in self.functions:
            if self.model == "omap":
                return 1 if function == "in" else 0  # OE bit set = output driver off
            if self.model == "rp1":
                if function in ("in", "out"):
                    return _FUNCSEL_RIO
                return _FUNCSEL_NONE if function == "none" else int(function[3:])
            return _BCM_CODES[function]
        why = " (RP1's a5 is the GPIO function: use in or out)" if self.model == "rp1" and function == "alt5" else ""
        raise NotFoundError(Status.NOT_FOUND, "function %r does not exist on a %s GPIO block%s; allowed: %s" % (function, self.model, why, ", ".join(self.functions)))

    def function_steps(self, function: str, pin: int) -> List[Step]:
        """The register accesses that select ``function``: one modify of the field (bcm, omap); on
        rp1 the RIO output enable (through its set/clear alias), the pad (input enabled, output not
        disabled) and CTRL (FUNCSEL, OUTOVER and OEOVER to normal), ordered so the pin never glitches."""
        offset, shift, width = self.function_field(pin)
        code = self.encode_function(function)
        if self.model != "rp1":
            return [("modify", offset, ((1 << width) - 1) << shift, code << shift)]
        ctrl: Step = ("modify", offset, _FUNCSEL_MASK | _OUTOVER_MASK | _OEOVER_MASK, code)
        pad: Step = ("modify", self._rp1_pad(pin), _PAD_IE | _PAD_OD, _PAD_IE)
        if function in ("in", "out"):
            oe_offset, oe_mask = self._rp1_rio(pin, _RIO_OE, _ALIAS_SET if function == "out" else _ALIAS_CLEAR)
            return [("write", oe_offset, oe_mask, 0), pad, ctrl]
        return [pad, ctrl]

    def function(self, pin: int, read: Callable[[int], int]) -> str:
        """The pin's function, from registers ``read(offset)`` returns."""
        offset, shift, width = self.function_field(pin)
        value = read(offset)
        if self.model == "omap":
            return "in" if (value >> shift) & 1 else "out"
        if self.model != "rp1":
            return _BCM_NAMES[(value >> shift) & 7]
        if value & _OEOVER_MASK:
            return "none"
        code = value & _FUNCSEL_MASK
        if code != _FUNCSEL_RIO:
            return "alt%d" % code if code < _FUNCSEL_COUNT else "none"
        oe_offset, oe_mask = self._rp1_rio(pin, _RIO_OE)
        return "out" if read(oe_offset) & oe_mask else "in"

    # MARK: pulls

    def encode_pull(self, pull: str) -> int:
        if pull not in PULLS:
            raise NotFoundError(Status.NOT_FOUND, "pull %r does not exist; use up, down or none" % (pull,))
        if self.model == "bcm2711":
            return {"none": 0, "up": 1, "down": 2}[pull]
        if self.model in ("bcm2835", "rp1"):
            return {"none": 0, "down": 1, "up": 2}[pull]
        raise NotFoundError(Status.NOT_FOUND, "a %s GPIO block has no pull registers; pulls are set in the SoC's pad control registers" % self.model)

    def pull_steps(self, pull: str, pin: int) -> List[Step]:
        """One modify of the pull field (bcm2711, rp1); on bcm2835 the GPPUD/GPPUDCLKn sequence
        (code to GPPUD, wait, clock the pin, wait, clear both)."""
        self.check_pin(pin)
        code = self.encode_pull(pull)
        field = self.pull_field(pin)
        if field is not None:
            offset, shift, width = field
            return [("modify", offset, ((1 << width) - 1) << shift, code << shift)]
        clock = _GPPUDCLK0 + 4 * (pin // 32)
        return [("write", _GPPUD, code, 0), ("pause", 2, 0, 0), ("write", clock, 1 << (pin % 32), 0),
                ("pause", 2, 0, 0), ("write", _GPPUD, 0, 0), ("write", clock, 0, 0)]

    def pull(self, pin: int, read: Callable[[int], int]) -> Optional[str]:
        """The pull from a readable pull field; None where it cannot be read (bcm2835, omap) or is
        the reserved code 3."""
        field = self.pull_field(pin)
        if field is None:
            return None
        offset, shift, _ = field
        code = (read(offset) >> shift) & 3
        for name in PULLS:
            if self.encode_pull(name) == code:
                return name
        return None


class PinInfo(TypedDict):
    """What ``Pin.info()`` returns."""

    window: str
    pin: int
    model: str
    function: str
    level: int
    pull: Optional[str]


class Pin:
    """One GPIO pin of a granted GPIO window, used through ``gate`` (``gate.gpio(17)``).

    Function and pull changes are daemon-side read-modify-writes (or, on rp1, one batch that the
    daemon checks whole); output changes use the set/clear registers, which touch only this pin.
    """

    def __init__(self, gate: "Gate", window: "Window", layout: Layout, pin: int) -> None:
        layout.check_pin(pin)
        self.gate = gate
        self.window = window
        self.layout = layout
        self.pin = pin

    def __repr__(self) -> str:
        return "Pin(%s:%d, %s)" % (self.window.name, self.pin, self.layout.model)

    def _read(self, offset: int) -> int:
        return self.gate.read(self.window.base + offset)

    def _run(self, steps: List[Step]) -> None:
        if len(steps) > 1 and all(s[0] != "pause" for s in steps):
            with self.gate.batch() as b:
                for kind, offset, a, c in steps:
                    if kind == "modify":
                        b.modify(self.window.base + offset, a, c)
                    else:
                        b.write(self.window.base + offset, a)
            return
        for kind, offset, a, c in steps:
            if kind == "modify":
                self.gate.modify(self.window.base + offset, a, c)
            elif kind == "write":
                self.gate.write(self.window.base + offset, a)
            else:
                time.sleep(offset / 1e6)

    def mode(self, function: Optional[str] = None) -> str:
        """With ``function`` (``in``, ``out``, ``alt0``..., ``none``) selects it; returns the pin's
        function (after the change)."""
        if function is not None:
            if not isinstance(function, str):
                raise MalformedError(Status.MALFORMED, "function must be a string (%s); got %r" % (", ".join(self.layout.functions), function))
            self._run(self.layout.function_steps(function, self.pin))
            return function
        return self.layout.function(self.pin, self._read)

    def get(self) -> int:
        """The level the pin reads: 0 or 1."""
        offset, mask = self.layout.level_bit(self.pin)
        return 1 if self._read(offset) & mask else 0

    def set(self, level: Union[int, bool]) -> None:
        """Drives the output latch high (1/True) or low (0/False) through the set or clear register."""
        if level not in (0, 1):
            raise MalformedError(Status.MALFORMED, "level must be 0 or 1 (or a bool); got %r" % (level,))
        offset, mask = self.layout.set_bit(self.pin) if level else self.layout.clear_bit(self.pin)
        self.gate.write(self.window.base + offset, mask)

    def toggle(self) -> int:
        """Inverts the output; returns the new level."""
        latch = self.layout.latch_bit(self.pin)
        if latch is not None:
            high = 0 if self._read(latch[0]) & latch[1] else 1
        else:
            high = 1 - self.get()  # bcm has no readable latch: an output's level is its latch
        self.set(high)
        return high

    def pull(self, pull: Optional[str] = None) -> Optional[str]:
        """With ``pull`` (``up``, ``down``, ``none``) selects it; returns the pull, or None when the
        block cannot read it back (bcm2835, omap)."""
        if pull is not None:
            self._run(self.layout.pull_steps(pull, self.pin))
            return pull
        return self.layout.pull(self.pin, self._read)

    def info(self) -> PinInfo:
        """``{"window", "pin", "model", "function", "level", "pull"}``."""
        return {"window": self.window.name, "pin": self.pin, "model": self.layout.model,
                "function": self.mode(), "level": self.get(), "pull": self.pull()}


def gpio_windows(gate: "Gate") -> List[Tuple["Window", Layout]]:
    """The granted GPIO windows with a supported register model, in order."""
    out = []
    for w in gate.windows():
        if w.model in MAX_PINS and 1 <= w.pins <= MAX_PINS[w.model]:
            out.append((w, Layout(w.model, w.pins)))
    return out


def pin_for(gate: "Gate", spec: Union[int, str]) -> Pin:
    """``17`` (counting across the GPIO windows in order) or ``"gpio1:17"``."""
    windows = gate.windows()
    banks = gpio_windows(gate)
    if not banks:
        unsupported = sorted({"%s (%s)" % (w.name, w.model) for w in windows if w.model})
        if unsupported:
            raise NotFoundError(Status.NOT_FOUND, "the GPIO windows granted to you have register models this client does not support: %s; supported: %s" % (", ".join(unsupported), ", ".join(SUPPORTED_MODELS)))
        raise NotFoundError(Status.NOT_FOUND, "no GPIO window with a supported register model (%s) is granted to you" % ", ".join(SUPPORTED_MODELS))
    if isinstance(spec, str) and ":" in spec:
        name, _, pin_text = spec.partition(":")
        try:
            pin = int(pin_text, 10)
        except ValueError:
            raise MalformedError(Status.MALFORMED, "pin '%s' in '%s' is not a number" % (pin_text, spec)) from None
        for w, layout in banks:
            if w.name == name:
                return Pin(gate, w, layout, pin)
        raise NotFoundError(Status.NOT_FOUND, "no GPIO window '%s' is granted to you; GPIO windows: %s" % (name, ", ".join(w.name for w, _ in banks)))
    if isinstance(spec, bool):
        raise MalformedError(Status.MALFORMED, "pin must be a number or BANK:PIN; got %r" % (spec,))
    if isinstance(spec, str):
        try:
            n = int(spec.strip(), 10)
        except ValueError:
            raise MalformedError(Status.MALFORMED, "pin '%s' is not a number or BANK:PIN (e.g. 17 or gpio1:17)" % spec) from None
    elif isinstance(spec, int):
        n = spec
    else:
        raise MalformedError(Status.MALFORMED, "pin must be a number or BANK:PIN; got %r" % (spec,))
    if n < 0:
        raise MalformedError(Status.MALFORMED, "pin %d is negative" % n)
    for w, layout in banks:
        if n < layout.pins:
            return Pin(gate, w, layout, n)
        n -= layout.pins
    total = sum(layout.pins for _, layout in banks)
    raise NotFoundError(Status.NOT_FOUND, "pin %s does not exist; the granted GPIO windows have pins 0...%d" % (spec, total - 1))
