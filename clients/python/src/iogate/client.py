"""The connection to iogated: framing, handshake, register operations and batches.

Everything on the wire follows docs/PROTOCOL.md (versions 1 to 3); sections are cited as §N.
"""

import os
import socket as _socket
import struct
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Type, Union

from .errors import (
    BadStateError,
    BadWidthError,
    IOGateError,
    LimitExceededError,
    MalformedError,
    NotFoundError,
    OutsideAllowlistError,
    Status,
    UnknownOperationError,
    UnreachableError,
    split_error_body,
    UnsupportedVersionError,
)

if TYPE_CHECKING:  # pragma: no cover
    from .gpio import Pin

DEFAULT_SOCKET = "/run/iogate/iogate.sock"
MAGIC = 0x54474F49  # "IOGT"
MIN_VERSION = 1
MAX_VERSION = 3
HANDSHAKE_LIMIT = 4096

OP_HELLO = 0x01
OP_WINDOWS = 0x02
OP_GRANTS = 0x03
OP_READ = 0x10
OP_WRITE = 0x11
OP_MODIFY = 0x12
OP_WAIT = 0x13
OP_BATCH = 0x20
OP_COMPACT_BATCH = 0x21

FLAG_WINDOW_RELATIVE = 0x02  # §5.10, version 3

KIND_READ = 1
KIND_WRITE = 2
KIND_MODIFY = 3

U64 = (1 << 64) - 1

Address = Union[int, str]


def parse_int(text: str) -> int:
    """Parses ``0x1F``, ``0b101``, ``0o17`` or ``31`` (``_`` separators allowed; no sign)."""
    t = text.strip().replace("_", "").lower()
    if not t or "+" in t or "-" in t:
        raise MalformedError(Status.MALFORMED, "'%s' is not a number (hex 0x.., binary 0b.., octal 0o.. or decimal)" % text)
    try:
        if t.startswith("0x"):
            return int(t[2:], 16)
        if t.startswith("0b"):
            return int(t[2:], 2)
        if t.startswith("0o"):
            return int(t[2:], 8)
        return int(t, 10)
    except ValueError:
        raise MalformedError(
            Status.MALFORMED, "'%s' is not a number (hex 0x.., binary 0b.., octal 0o.. or decimal)" % text
        ) from None


def parse_address(text: str) -> Tuple[Optional[str], int]:
    """Splits ``0xFE20001C`` into ``(None, 0xFE20001C)`` and ``gpio+0x1c`` into ``("gpio", 0x1c)``."""
    t = text.strip()
    try:
        return None, parse_int(t)
    except MalformedError:
        pass
    name, plus, offset_text = t.partition("+")
    if not name or not name[0].isalpha() or not all(c.isalnum() or c in "_-" for c in name):
        raise MalformedError(Status.MALFORMED, "address '%s' is not a number (0xFE20001C) or WINDOW+OFFSET (gpio+0x1c)" % text)
    if not plus:
        return name, 0
    try:
        return name, parse_int(offset_text)
    except MalformedError:
        raise MalformedError(
            Status.MALFORMED, "offset '%s' in '%s' is not a number; expected e.g. gpio+0x1c" % (offset_text, text)
        ) from None


def width_bytes(width: int) -> int:
    """Bits (8, 16, 32, 64) to the wire's byte count. Another multiple of 8 is passed on for the
    daemon to refuse (status 8, bad-width); anything else cannot be put on the wire."""
    if isinstance(width, bool) or not isinstance(width, int):
        raise BadWidthError(Status.BAD_WIDTH, "width must be an int number of bits (8, 16, 32 or 64); got %r" % (width,))
    if width <= 0 or width % 8 != 0 or width // 8 > 255:
        raise BadWidthError(Status.BAD_WIDTH, "width of %d bits is not supported; use 8, 16, 32 or 64" % width)
    return width // 8


def _check_u64(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int; got %r" % (what, value))
    if value < 0 or value > U64:
        raise BadWidthError(Status.BAD_WIDTH, "%s %d is outside 0...2^64-1" % (what, value))
    return value


def _fits(value: int, nbytes: int, what: str) -> int:
    _check_u64(value, what)
    if value >> (8 * nbytes):
        raise BadWidthError(Status.BAD_WIDTH, "%s 0x%X does not fit in %d bits" % (what, value, 8 * nbytes))
    return value


class Window:
    """One entry of the caller's allowlist (§5.2)."""

    __slots__ = ("name", "base", "length", "access", "model", "pins")

    def __init__(self, name: str, base: int, length: int, access: str, model: str, pins: int) -> None:
        self.name = name
        self.base = base
        self.length = length
        self.access = access
        self.model = model
        self.pins = pins

    @property
    def writable(self) -> bool:
        return self.access == "rw"

    @property
    def end(self) -> int:
        """One past the last byte."""
        return self.base + self.length

    def __contains__(self, address: int) -> bool:
        return self.base <= address < self.end

    def __repr__(self) -> str:
        return "Window(name=%r, base=0x%X, length=0x%X, access=%r, model=%r, pins=%d)" % (
            self.name, self.base, self.length, self.access, self.model, self.pins)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Window) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __hash__(self) -> int:
        return hash((self.name, self.base, self.length))


class Grant:
    """One entry of the grants list (§5.9, version 3): a ``Window`` and what of it is granted.

    ``scope`` is ``"whole"`` (the whole range), ``"pins"`` (``pins_granted`` lists the GPIO lines,
    numbered across the board's GPIO windows) or ``"bits"`` (``bits`` is the mask granted in every
    32-bit register of the range)."""

    __slots__ = ("window", "scope", "pins_granted", "bits")

    def __init__(self, window: Window, scope: str, pins_granted: Sequence[int] = (), bits: Optional[int] = None) -> None:
        self.window = window
        self.scope = scope
        self.pins_granted = list(pins_granted)
        self.bits = bits

    @property
    def name(self) -> str:
        return self.window.name

    @property
    def base(self) -> int:
        return self.window.base

    @property
    def length(self) -> int:
        return self.window.length

    @property
    def access(self) -> str:
        return self.window.access

    def __repr__(self) -> str:
        extra = ""
        if self.scope == "pins":
            extra = ", pins=%r" % (self.pins_granted,)
        elif self.scope == "bits":
            extra = ", bits=0x%08X" % (self.bits or 0)
        return "Grant(%r, scope=%r%s)" % (self.window, self.scope, extra)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Grant) and (self.window, self.scope, self.pins_granted, self.bits) == (
            other.window, other.scope, other.pins_granted, other.bits)

    def __hash__(self) -> int:
        return hash((self.window, self.scope))


class BatchResult:
    """The result of one batch operation; ``value`` is available once the batch has run."""

    __slots__ = ("kind", "address", "width", "_value", "_set")

    def __init__(self, kind: int, address: int, width: int) -> None:
        self.kind = kind
        self.address = address
        self.width = width
        self._value = 0
        self._set = False

    @property
    def value(self) -> int:
        """The value read (read), the old value (modify), 0 (write)."""
        if not self._set:
            raise BadStateError(Status.BAD_STATE, "the batch has not run yet; results are available after the with block")
        return self._value

    def __repr__(self) -> str:
        kind = {KIND_READ: "read", KIND_WRITE: "write", KIND_MODIFY: "modify"}[self.kind]
        v = ("0x%X" % self._value) if self._set else "pending"
        return "BatchResult(%s 0x%X: %s)" % (kind, self.address, v)


class Batch:
    """Operations collected in a ``with gate.batch() as b:`` block and sent as ONE request when the
    block ends (compact batch 0x21 on a version 2 connection, else 0x20). The daemon checks the whole
    batch before running any of it (§6.6): a refused operation runs nothing and raises here.
    If the block raises, nothing is sent."""

    def __init__(self, gate: "Gate", compact: Optional[bool] = None) -> None:
        self._gate = gate
        self._compact = compact
        self._ops: List[Tuple[int, int, int, int, int]] = []  # kind, width bytes, address, mask, value
        self._pending: List[BatchResult] = []
        self.results: Optional[List[int]] = None

    def _add(self, kind: int, address: Address, width: int, mask: int, value: int) -> BatchResult:
        if self.results is not None:
            raise BadStateError(Status.BAD_STATE, "this batch has already run; start a new gate.batch()")
        nbytes = width_bytes(width)
        addr = self._gate.resolve(address)
        _check_u64(mask, "mask")
        _check_u64(value, "value")
        self._ops.append((kind, nbytes, addr, mask, value))
        r = BatchResult(kind, addr, width)
        self._pending.append(r)
        return r

    def read(self, address: Address, width: int = 32) -> BatchResult:
        return self._add(KIND_READ, address, width, 0, 0)

    def write(self, address: Address, value: int, width: int = 32) -> BatchResult:
        return self._add(KIND_WRITE, address, width, 0, value)

    def modify(self, address: Address, mask: int, value: int, width: int = 32) -> BatchResult:
        return self._add(KIND_MODIFY, address, width, mask, value)

    def __len__(self) -> int:
        return len(self._ops)

    def run(self) -> List[int]:
        """Sends the batch (once) and returns one value per operation."""
        if self.results is not None:
            return self.results
        values = self._gate._run_batch(self._ops, self._compact) if self._ops else []
        for r, v in zip(self._pending, values):
            r._value, r._set = v, True
        self.results = values
        return values

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        if exc_type is None:
            self.run()


class Gate:
    """A connection to iogated.

    ``Gate()`` connects to ``socket``, else ``$IOGATE_SOCKET``, else ``/run/iogate/iogate.sock``, and
    performs the hello (§4), offering versions 1..``max_version`` (3 by default; the daemon picks the
    highest both speak, so a version 2 daemon still answers with 2). On a version 3 connection an
    ``IOGateError`` carries typed ``details`` (§7.1), ``grants()`` is available (§5.9), and a
    ``"WINDOW+OFFSET"`` address of read/write/modify/wait is sent window-relative (§5.10), so the
    daemon resolves it; batches and older connections resolve it here through ``windows()``. Use one Gate per thread. Widths are in bits (8, 16, 32, 64); addresses are
    physical (int) or ``"WINDOW+OFFSET"`` strings resolved through ``windows()``.
    """

    def __init__(self, socket: Optional[str] = None, max_version: int = MAX_VERSION, timeout: Optional[float] = None) -> None:
        self.socket_path = socket or os.environ.get("IOGATE_SOCKET") or DEFAULT_SOCKET
        if isinstance(max_version, bool) or max_version not in (1, 2, 3):
            raise UnsupportedVersionError(Status.UNSUPPORTED_VERSION, "this client speaks protocol versions 1 to 3; max_version %r" % (max_version,))
        self._lock = threading.Lock()
        self._next_id = 1
        self._windows: Optional[List[Window]] = None
        self._sock: Optional[_socket.socket] = None
        self.version = 0
        self.max_frame = HANDSHAKE_LIMIT
        self.max_batch = 0
        self.max_block = 0
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.socket_path)
        except OSError as e:
            s.close()
            hint = ""
            if isinstance(e, FileNotFoundError):
                hint = " (is iogated running? pass socket= or set IOGATE_SOCKET)"
            elif isinstance(e, PermissionError):
                hint = " (no permission on the socket; are you in its group?)"
            raise UnreachableError(Status.UNREACHABLE, "cannot connect to %s: %s%s" % (self.socket_path, e.strerror or e, hint)) from None
        self._sock = s
        try:
            body = self.call(OP_HELLO, struct.pack("<IHH", MAGIC, MIN_VERSION, max_version))
            if len(body) != 16:
                raise MalformedError(Status.MALFORMED, "hello response of %d bytes; expected 16" % len(body))
            self.version, _, self.max_frame, self.max_batch, self.max_block = struct.unpack("<HHIII", body)
            if not MIN_VERSION <= self.version <= max_version:
                raise UnsupportedVersionError(Status.UNSUPPORTED_VERSION, "iogated chose protocol version %d; this client asked for 1...%d" % (self.version, max_version))
        except BaseException:
            self.close()
            raise

    # MARK: connection

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    @property
    def closed(self) -> bool:
        return self._sock is None

    def __enter__(self) -> "Gate":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _recv_exact(self, n: int) -> bytes:
        assert self._sock is not None
        chunks = []
        while n > 0:
            try:
                chunk = self._sock.recv(min(n, 1 << 20))
            except OSError as e:
                self.close()
                raise UnreachableError(Status.UNREACHABLE, "lost the connection to iogated while receiving: %s" % e) from None
            if not chunk:
                self.close()
                raise UnreachableError(Status.UNREACHABLE, "iogated closed the connection")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _pending_error(self) -> Optional[IOGateError]:
        """An error frame the daemon sent before closing, if one is waiting to be read."""
        sock = self._sock
        if sock is None:
            return None
        try:
            sock.settimeout(1.0)
            head = b""
            while len(head) < 12:
                chunk = sock.recv(12 - len(head))
                if not chunk:
                    return None
                head += chunk
            length, _, _, status, _ = struct.unpack("<IBBHI", head)
            if status == 0 or length < 8 or length > 8 + 8192:
                return None
            body = b""
            while len(body) < length - 8:
                chunk = sock.recv(length - 8 - len(body))
                if not chunk:
                    break
                body += chunk
            message, details = split_error_body(body, self.version)
            return IOGateError.from_status(status, message, from_daemon=True, details=details)
        except (OSError, struct.error):
            return None

    def call(self, opcode: int, body: bytes = b"", flags: int = 0) -> bytes:
        """Sends one request frame (§3) and returns the body of its successful response; a response
        with a non-zero status raises the matching ``IOGateError`` subclass with the daemon's message
        (and, on version 3, its ``details``). ``flags`` is the request's flags byte (0, or
        ``FLAG_WINDOW_RELATIVE`` with a window-relative body, §5.10)."""
        with self._lock:
            if self._sock is None:
                raise UnreachableError(Status.UNREACHABLE, "the connection to iogated is closed")
            rid = self._next_id
            self._next_id = (self._next_id % 0xFFFFFFFF) + 1
            frame = struct.pack("<IBBHI", 8 + len(body), opcode, flags, 0, rid) + body
            try:
                self._sock.sendall(frame)
            except OSError as e:
                # The daemon may have refused the frame from its length alone and closed (§8):
                # its error frame, if any, explains why better than EPIPE does.
                pending = self._pending_error()
                self.close()
                if pending is not None:
                    raise pending from None
                raise UnreachableError(Status.UNREACHABLE, "lost the connection to iogated while sending: %s" % e) from None
            (length,) = struct.unpack("<I", self._recv_exact(4))
            if length < 8:
                self.close()
                raise MalformedError(Status.MALFORMED, "iogated sent a frame length of %d (below 8)" % length)
            op, flags, status, got_id = struct.unpack("<BBHI", self._recv_exact(8))
            data = self._recv_exact(length - 8)
            if status != 0:
                message, details = split_error_body(data, self.version)
                if op == 0 and got_id == 0:  # a stream error: the daemon closes (§8)
                    self.close()
                raise IOGateError.from_status(status, message, from_daemon=True, details=details)
            if op != opcode or not flags & 1 or got_id != rid:
                self.close()
                raise MalformedError(Status.MALFORMED, "response (opcode 0x%02X, flags 0x%02X, id %d) does not match request (opcode 0x%02X, id %d)" % (op, flags, got_id, opcode, rid))
            return data

    # MARK: windows and addresses

    @staticmethod
    def _window_entry(data: bytes, pos: int) -> Tuple[Window, int]:
        """One windows entry (§5.2) at ``pos``; returns it and the position after it."""
        base, length, access, nlen = struct.unpack_from("<QQBB", data, pos)
        pos += 18
        if pos + nlen > len(data):
            raise IndexError(pos)
        name = data[pos:pos + nlen].decode("utf-8", "replace")
        pos += nlen
        mlen = data[pos]
        if pos + 1 + mlen > len(data):
            raise IndexError(pos)
        model = data[pos + 1:pos + 1 + mlen].decode("utf-8", "replace")
        pos += 1 + mlen
        (pins,) = struct.unpack_from("<H", data, pos)
        return Window(name, base, length, "rw" if access == 1 else "ro", model, pins), pos + 2

    def windows(self) -> List[Window]:
        """The ranges granted to the caller (§5.2); also refreshes the cache ``resolve`` uses."""
        data = self.call(OP_WINDOWS)
        try:
            (count,) = struct.unpack_from("<I", data, 0)
            pos, out = 4, []
            for _ in range(count):
                w, pos = self._window_entry(data, pos)
                out.append(w)
        except (struct.error, IndexError):
            raise MalformedError(Status.MALFORMED, "windows response of %d bytes is truncated" % len(data)) from None
        if pos != len(data):
            raise MalformedError(Status.MALFORMED, "windows response has %d bytes after its %d entries" % (len(data) - pos, count))
        self._windows = out
        return list(out)

    def grants(self) -> List[Grant]:
        """The windows list with what of each entry is granted (§5.9): whole, some pins, or a bit
        mask. Needs a version 3 connection; on an older one this raises ``UnknownOperationError``
        locally (status 3) without sending anything. Also refreshes the cache ``resolve`` uses."""
        if self.version < 3:
            raise UnknownOperationError(Status.UNKNOWN_OPERATION, "the grants list (opcode 0x03) needs protocol version 3; this connection speaks version %d" % self.version)
        data = self.call(OP_GRANTS)
        try:
            (count,) = struct.unpack_from("<I", data, 0)
            pos, out = 4, []
            for _ in range(count):
                w, pos = self._window_entry(data, pos)
                scope = data[pos]
                pos += 1
                if scope == 0:
                    out.append(Grant(w, "whole"))
                elif scope == 1:
                    (n,) = struct.unpack_from("<H", data, pos)
                    pins = struct.unpack_from("<%dH" % n, data, pos + 2)
                    pos += 2 + 2 * n
                    out.append(Grant(w, "pins", pins))
                elif scope == 2:
                    (bits,) = struct.unpack_from("<I", data, pos)
                    pos += 4
                    out.append(Grant(w, "bits", bits=bits))
                else:
                    raise MalformedError(Status.MALFORMED, "grants entry %d has scope %d; this client knows 0, 1 and 2" % (len(out), scope))
        except (struct.error, IndexError):
            raise MalformedError(Status.MALFORMED, "grants response of %d bytes is truncated" % len(data)) from None
        if pos != len(data):
            raise MalformedError(Status.MALFORMED, "grants response has %d bytes after its %d entries" % (len(data) - pos, count))
        self._windows = [g.window for g in out]
        return out

    def window(self, name: str) -> Window:
        """The granted window called ``name``."""
        ws = self._windows if self._windows is not None else self.windows()
        for w in ws:
            if w.name == name:
                return w
        names = [w.name for w in ws if w.name]
        raise NotFoundError(Status.NOT_FOUND, "no window named '%s' is granted to you; your windows: %s" % (name, ", ".join(names) if names else "none with names"))

    def resolve(self, address: Address) -> int:
        """A physical address from an int or ``"0xFE20001C"`` / ``"gpio+0x1c"``."""
        if isinstance(address, bool):
            raise TypeError("address must be an int or a string; got %r" % (address,))
        if isinstance(address, int):
            return _check_u64(address, "address")
        if not isinstance(address, str):
            raise TypeError("address must be an int or a string like 'gpio+0x34'; got %r" % (address,))
        name, offset = parse_address(address)
        if name is None:
            return _check_u64(offset, "address")
        w = self.window(name)
        if offset >= w.length:
            raise OutsideAllowlistError(Status.OUTSIDE_ALLOWLIST, "offset 0x%X is past the end of window '%s' (length 0x%X)" % (offset, name, w.length))
        return w.base + offset

    def _target(self, address: Address) -> Tuple[bytes, int, int]:
        """Where a request goes: ``(prefix, address, flags)``. On a version 3 connection a
        ``"WINDOW+OFFSET"`` string becomes a window-relative request (§5.10): the prefix names the
        window, ``address`` is the offset, and the daemon resolves it (no windows list needed).
        Otherwise the address is resolved here and the prefix is empty."""
        if self.version >= 3 and isinstance(address, str):
            name, offset = parse_address(address)
            if name is not None:
                encoded = name.encode("utf-8")
                if 1 <= len(encoded) <= 255:
                    return bytes([len(encoded)]) + encoded, _check_u64(offset, "offset"), FLAG_WINDOW_RELATIVE
        return b"", self.resolve(address), 0

    def _send(self, opcode: int, prefix: bytes, body: bytes, flags: int) -> bytes:
        return self.call(opcode, prefix + body, flags) if flags else self.call(opcode, body)

    # MARK: register operations

    def read(self, address: Address, width: int = 32) -> int:
        """Reads one register."""
        return self.read_block(address, 1, width)[0]

    def read_block(self, address: Address, count: int, width: int = 32) -> List[int]:
        """Reads ``count`` consecutive registers (block reads of at most ``max_block`` each)."""
        nbytes = width_bytes(width)
        prefix, addr, flags = self._target(address)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise LimitExceededError(Status.LIMIT_EXCEEDED, "count must be at least 1; got %r" % (count,))
        out: List[int] = []
        step = max(1, self.max_block)
        while len(out) < count:
            n = min(step, count - len(out))
            data = self._send(OP_READ, prefix, struct.pack("<QB3xI", (addr + len(out) * nbytes) & U64, nbytes, n), flags)
            if len(data) != n * nbytes:
                raise MalformedError(Status.MALFORMED, "read response of %d bytes; expected %d" % (len(data), n * nbytes))
            out.extend(int.from_bytes(data[i:i + nbytes], "little") for i in range(0, len(data), nbytes))
        return out

    def write(self, address: Address, value: int, width: int = 32) -> None:
        """Writes one register."""
        self.write_block(address, [value], width)

    def write_block(self, address: Address, values: Sequence[int], width: int = 32) -> None:
        """Writes consecutive registers (split to fit ``max_block`` and ``max_frame``)."""
        nbytes = width_bytes(width)
        prefix, addr, flags = self._target(address)
        if not values:
            raise LimitExceededError(Status.LIMIT_EXCEEDED, "write_block needs at least one value")
        encoded = b"".join(_fits(v, nbytes, "value").to_bytes(nbytes, "little") for v in values)
        per_frame = max(1, min(self.max_block or 1, (self.max_frame - 24 - len(prefix)) // nbytes))
        done = 0
        while done < len(values):
            n = min(per_frame, len(values) - done)
            body = struct.pack("<QB3xI", (addr + done * nbytes) & U64, nbytes, n) + encoded[done * nbytes:(done + n) * nbytes]
            self._send(OP_WRITE, prefix, body, flags)
            done += n

    def modify(self, address: Address, mask: int, value: int, width: int = 32) -> int:
        """Atomic read-modify-write in the daemon: ``new = old & ~mask | value & mask``; returns ``old``."""
        nbytes = width_bytes(width)
        prefix, addr, flags = self._target(address)
        body = struct.pack("<QB7xQQ", addr, nbytes, _check_u64(mask, "mask"), _check_u64(value, "value"))
        return int(struct.unpack("<Q", self._send(OP_MODIFY, prefix, body, flags))[0])

    def wait(self, address: Address, mask: int, value: int, timeout_ms: int = 1000, width: int = 32) -> int:
        """Waits in the daemon until ``(register & mask) == value``; returns the register's value.
        Raises ``WaitTimeoutError`` (status 9) when ``timeout_ms`` passes first."""
        nbytes = width_bytes(width)
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or not 0 <= timeout_ms <= 0xFFFFFFFF:
            raise LimitExceededError(Status.LIMIT_EXCEEDED, "timeout_ms must be an int in 0...4294967295 (the daemon's max_wait_ms applies); got %r" % (timeout_ms,))
        prefix, addr, flags = self._target(address)
        body = struct.pack("<QB3xIQQ", addr, nbytes, timeout_ms, _check_u64(mask, "mask"), _check_u64(value, "value"))
        return int(struct.unpack("<Q", self._send(OP_WAIT, prefix, body, flags))[0])

    # MARK: batches

    def batch(self, compact: Optional[bool] = None) -> Batch:
        """A batch to fill in a ``with`` block; it is sent as one request when the block ends.
        ``compact=None`` uses the compact encoding (0x21) when the connection speaks version 2 or 3 and
        the addresses fit its 32-bit offsets, else 0x20; True or False forces one."""
        return Batch(self, compact)

    def _run_batch(self, ops: List[Tuple[int, int, int, int, int]], compact: Optional[bool]) -> List[int]:
        base = min(o[2] for o in ops)
        fits = max(o[2] for o in ops) - base <= 0xFFFFFFFF
        use_compact = compact if compact is not None else (self.version >= 2 and fits)
        if use_compact:
            if not fits:
                raise LimitExceededError(Status.LIMIT_EXCEEDED, "a compact batch needs every address within 4 GiB of the lowest (0x%X)" % base)
            parts = [struct.pack("<I4xQ", len(ops), base)]
            for kind, nbytes, addr, mask, value in ops:
                parts.append(struct.pack("<BBxxI", kind, nbytes, addr - base))
                if kind == KIND_WRITE:
                    parts.append(struct.pack("<Q", value))
                elif kind == KIND_MODIFY:
                    parts.append(struct.pack("<QQ", mask, value))
            data = self.call(OP_COMPACT_BATCH, b"".join(parts))
            pos, out = 8, []
            for kind, nbytes, _, _, _ in ops:
                if kind == KIND_WRITE:
                    out.append(0)
                    continue
                out.append(int.from_bytes(data[pos:pos + nbytes], "little"))
                pos += nbytes
            if pos != len(data):
                raise MalformedError(Status.MALFORMED, "compact batch response of %d bytes; expected %d" % (len(data), pos))
            return out
        body = struct.pack("<I4x", len(ops)) + b"".join(struct.pack("<BB6xQQQ", k, w, a, m, v) for k, w, a, m, v in ops)
        data = self.call(OP_BATCH, body)
        if len(data) != 8 + 8 * len(ops):
            raise MalformedError(Status.MALFORMED, "batch response of %d bytes; expected %d" % (len(data), 8 + 8 * len(ops)))
        return list(struct.unpack_from("<%dQ" % len(ops), data, 8))

    # MARK: GPIO

    def gpio(self, spec: Union[int, str]) -> "Pin":
        """A GPIO pin: ``17`` counts across the granted GPIO windows in order; ``"gpio1:17"`` names
        the window. The register model comes from the window's ``model`` (see ``iogate.gpio``)."""
        from .gpio import pin_for
        return pin_for(self, spec)
