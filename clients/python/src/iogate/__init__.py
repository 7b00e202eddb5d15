"""IOGate client for Python: register access through iogated's Unix socket.

>>> import iogate
>>> with iogate.Gate() as gate:                 # $IOGATE_SOCKET or /run/iogate/iogate.sock
...     led = gate.gpio(17)
...     led.mode("out"); led.set(1)
...     gate.read("gpio+0x34")
"""

from .client import (
    DEFAULT_SOCKET,
    Batch,
    BatchResult,
    Gate,
    Grant,
    Window,
    parse_address,
    parse_int,
)
from .errors import (
    BadStateError,
    BadWidthError,
    BoardError,
    BusFaultError,
    ConfigError,
    ErrorDetails,
    IOGateError,
    LimitExceededError,
    LineBusyError,
    MalformedError,
    MappingError,
    MisalignedError,
    NotFoundError,
    OutsideAllowlistError,
    ReadOnlyError,
    Status,
    SystemCallError,
    UnknownOperationError,
    UnreachableError,
    UnsupportedVersionError,
    WaitTimeoutError,
    status_name,
)
from .gpio import SUPPORTED_MODELS, Layout, Pin

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_SOCKET", "Batch", "BatchResult", "Gate", "Grant", "Window", "parse_address", "parse_int",
    "BadStateError", "BadWidthError", "BoardError", "BusFaultError", "ConfigError", "ErrorDetails", "IOGateError",
    "LimitExceededError", "LineBusyError", "MalformedError", "MappingError", "MisalignedError",
    "NotFoundError", "OutsideAllowlistError", "ReadOnlyError", "Status", "SystemCallError",
    "UnknownOperationError", "UnreachableError", "UnsupportedVersionError", "WaitTimeoutError",
    "status_name", "SUPPORTED_MODELS", "Layout", "Pin", "__version__",
]
