"""Exceptions carrying IOGate status codes (docs/PROTOCOL.md, section 7)."""

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Dict, List, Optional, Tuple, Type


class Status(IntEnum):
    """The shared status-code space of the daemon, the libraries and the CLI."""

    OK = 0
    MALFORMED = 1
    UNSUPPORTED_VERSION = 2
    UNKNOWN_OPERATION = 3
    LIMIT_EXCEEDED = 4
    OUTSIDE_ALLOWLIST = 5
    READ_ONLY = 6
    MISALIGNED = 7
    BAD_WIDTH = 8
    TIMEOUT = 9
    CONFIG = 10
    BOARD = 11
    MAPPING = 12
    SYSTEM = 13
    NOT_FOUND = 14
    BAD_STATE = 15
    UNREACHABLE = 16
    LINE_BUSY = 17
    BUS_FAULT = 18

    @property
    def wire_name(self) -> str:
        """The name PROTOCOL.md gives the code: ``outside-allowlist``, ``read-only``, ..."""
        return self.name.lower().replace("_", "-")


def status_name(status: int) -> str:
    """``outside-allowlist`` for 5; ``status-N`` for a code this client does not know."""
    try:
        return Status(status).wire_name
    except ValueError:
        return "status-%d" % status


@dataclass(frozen=True)
class ErrorDetails:
    """The typed facts of an error response on a version 3 connection (PROTOCOL.md section 7.1).

    Every field is None (``granted``: empty) when the daemon sent no such record, which is always
    the case on a version 1 or 2 connection and for errors raised by this client itself.
    ``granted`` holds ``(base, length, access)`` tuples, ``access`` being ``"rw"`` or ``"ro"``.
    """

    address: Optional[int] = None
    size: Optional[int] = None
    granted: List[Tuple[int, int, str]] = field(default_factory=list)
    pin: Optional[int] = None
    consumer: Optional[str] = None
    errno: Optional[int] = None
    call: Optional[str] = None
    operation: Optional[int] = None

    @property
    def empty(self) -> bool:
        return self == ErrorDetails()


# tag -> (field, exact length or None for any length 0..255)
_TAGS = {1: ("address", 8), 2: ("size", 8), 3: ("granted", 17), 4: ("pin", 4), 5: ("consumer", None),
         6: ("errno", 4), 7: ("call", None), 8: ("operation", 4)}


def split_error_body(body: bytes, version: int) -> Tuple[str, ErrorDetails]:
    """An error response's body as (message, details): on version 3 and later the message ends at
    the first zero byte and TLV records follow (section 7.1); before, the body is the message."""
    if version < 3:
        return body.decode("utf-8", "replace"), ErrorDetails()
    zero = body.find(b"\0")
    if zero < 0:
        return body.decode("utf-8", "replace"), ErrorDetails()
    message = body[:zero].decode("utf-8", "replace")
    values: Dict[str, object] = {}
    granted: List[Tuple[int, int, str]] = []
    pos = zero + 1
    while pos + 2 <= len(body):
        tag, length = body[pos], body[pos + 1]
        value = body[pos + 2:pos + 2 + length]
        if len(value) < length:
            break  # a record cut short ends the list
        pos += 2 + length
        known = _TAGS.get(tag)
        if known is None or (known[1] is not None and known[1] != length):
            continue  # unknown tag or unexpected length: skipped by its length
        name = known[0]
        if name == "granted":
            base, size, access = struct.unpack("<QQB", value)
            granted.append((base, size, "rw" if access == 1 else "ro"))
        elif name in ("consumer", "call"):
            values[name] = value.decode("utf-8", "replace")
        elif name == "errno":
            values[name] = struct.unpack("<i", value)[0]
        else:
            values[name] = int.from_bytes(value, "little")
    return message, ErrorDetails(granted=granted, **values)  # type: ignore[arg-type]


class IOGateError(Exception):
    """An operation failed.

    ``status`` is the numeric code (``Status``), ``status_name`` its protocol name, ``message`` the
    daemon's explanation (or this client's, when ``from_daemon`` is False: the request was never
    sent, e.g. an unknown window name or an unreachable socket). ``details`` holds the typed facts
    of a version 3 error response (``ErrorDetails``; all empty otherwise).
    """

    status: int
    status_name: str
    message: str
    from_daemon: bool
    details: ErrorDetails

    def __init__(self, status: int, message: str, from_daemon: bool = False,
                 details: Optional[ErrorDetails] = None) -> None:
        self.status = int(status)
        self.details = details if details is not None else ErrorDetails()
        self.status_name = status_name(self.status)
        self.message = message
        self.from_daemon = from_daemon
        super().__init__("%s (status %d): %s" % (self.status_name, self.status, message))

    @staticmethod
    def from_status(status: int, message: str, from_daemon: bool = False,
                    details: Optional[ErrorDetails] = None) -> "IOGateError":
        """The subclass for ``status`` (``IOGateError`` itself for an unknown code)."""
        cls = _BY_STATUS.get(int(status), IOGateError)
        return cls(int(status), message, from_daemon, details)


class MalformedError(IOGateError):
    """1: the request could not be decoded (or, locally, an address or value could not be parsed)."""


class UnsupportedVersionError(IOGateError):
    """2: no protocol version in common."""


class UnknownOperationError(IOGateError):
    """3: the opcode is not known (or needs a protocol version the connection did not choose)."""


class LimitExceededError(IOGateError):
    """4: a frame, count, batch or wait timeout is over a limit; too many clients."""


class OutsideAllowlistError(IOGateError):
    """5: the access is outside every range granted to the caller."""


class ReadOnlyError(IOGateError):
    """6: a write through a read-only grant."""


class MisalignedError(IOGateError):
    """7: the address is not a multiple of the access width."""


class BadWidthError(IOGateError):
    """8: the width is not 8/16/32/64 bits, or a mask/value does not fit in it."""


class WaitTimeoutError(IOGateError):
    """9: a wait did not see its value in time (the message ends with the last value read)."""


class ConfigError(IOGateError):
    """10: the configuration is invalid (daemon start-up)."""


class BoardError(IOGateError):
    """11: a board file is invalid or no board matched."""


class MappingError(IOGateError):
    """12: mapping the device failed."""


class SystemCallError(IOGateError):
    """13: a system call failed."""


class NotFoundError(IOGateError):
    """14: a named thing (window, pin, function) does not exist."""


class BadStateError(IOGateError):
    """15: the request was valid but the connection's state forbids it."""


class UnreachableError(IOGateError):
    """16: the daemon cannot be reached (or closed the connection)."""


class LineBusyError(IOGateError):
    """17: a GPIO line is owned by the kernel or another program."""


class BusFaultError(IOGateError):
    """18: a register access raised a bus fault."""


_BY_STATUS: Dict[int, Type[IOGateError]] = {
    Status.MALFORMED: MalformedError,
    Status.UNSUPPORTED_VERSION: UnsupportedVersionError,
    Status.UNKNOWN_OPERATION: UnknownOperationError,
    Status.LIMIT_EXCEEDED: LimitExceededError,
    Status.OUTSIDE_ALLOWLIST: OutsideAllowlistError,
    Status.READ_ONLY: ReadOnlyError,
    Status.MISALIGNED: MisalignedError,
    Status.BAD_WIDTH: BadWidthError,
    Status.TIMEOUT: WaitTimeoutError,
    Status.CONFIG: ConfigError,
    Status.BOARD: BoardError,
    Status.MAPPING: MappingError,
    Status.SYSTEM: SystemCallError,
    Status.NOT_FOUND: NotFoundError,
    Status.BAD_STATE: BadStateError,
    Status.UNREACHABLE: UnreachableError,
    Status.LINE_BUSY: LineBusyError,
    Status.BUS_FAULT: BusFaultError,
}
