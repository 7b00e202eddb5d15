#!/usr/bin/env python3
"""Writes the protocol seed corpus (Fuzz/corpus/protocol/) from docs/PROTOCOL.md's layouts.

Each seed is a stream of whole frames (4-byte little-endian length prefix, then the payload),
as a session reads them; the fuzzer also decodes each input as a bare payload.
Run: python3 Fuzz/make_protocol_seeds.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "protocol")
MAGIC = 0x54474F49  # "IOGT"


def frame(opcode, body=b"", flags=0, status=0, ident=7):
    payload = struct.pack("<BBHI", opcode, flags, status, ident) + body
    return struct.pack("<I", len(payload)) + payload


def batch_op(kind, width, address, mask=0, value=0):
    return struct.pack("<BB6xQQQ", kind, width, address, mask, value)


def compact_op(kind, width, offset, mask=0, value=0):
    head = struct.pack("<BBxxI", kind, width, offset)
    return head + (struct.pack("<Q", value) if kind == 2 else struct.pack("<QQ", mask, value) if kind == 3 else b"")


def window(base, length, rw, name, model=b"", pins=0):
    return struct.pack("<QQBB", base, length, rw, len(name)) + name + struct.pack("<B", len(model)) + model + struct.pack("<H", pins)


SEEDS = {
    "hello": frame(0x01, struct.pack("<IHH", MAGIC, 1, 1)),
    "windows": frame(0x02),
    "read-word": frame(0x10, struct.pack("<QB3xI", 0xFE200000, 4, 1)),
    "read-block": frame(0x10, struct.pack("<QB3xI", 0x1000, 1, 16)),
    "write-bytes": frame(0x11, struct.pack("<QB3xI", 0x1000, 1, 3) + b"\x01\x02\x03"),
    "write-double": frame(0x11, struct.pack("<QB3xI", 0x1008, 8, 1) + struct.pack("<Q", 0x1122334455667788)),
    "modify": frame(0x12, struct.pack("<QB7xQQ", 0xFE200004, 4, 0x38, 0x08)),
    "wait": frame(0x13, struct.pack("<QB3xIQQ", 0xFE200034, 4, 100, 1 << 17, 1 << 17)),
    "batch": frame(0x20, struct.pack("<I4x", 3)
                   + batch_op(1, 4, 0xFE200000)
                   + batch_op(2, 2, 0xFE200010, value=0xBEEF)
                   + batch_op(3, 1, 0xFE200020, mask=0xF0, value=0x30)),
    # Compact batch (0x21, protocol version 2): base, then 8/16/24-byte operations.
    "compact-batch": frame(0x21, struct.pack("<I4xQ", 3, 0xFE200000)
                           + compact_op(1, 4, 0x34)
                           + compact_op(2, 2, 0x10, value=0xBEEF)
                           + compact_op(3, 1, 0x20, mask=0xF0, value=0x30)),
    "compact-wrap": frame(0x21, struct.pack("<I4xQ", 2, 0xFFFFFFFFFFFFFF00) + compact_op(1, 8, 0xF8) + compact_op(1, 1, 0x100)),
    "session-v2": frame(0x01, struct.pack("<IHH", MAGIC, 1, 2), ident=1)
    + frame(0x21, struct.pack("<I4xQ", 1, 0x2000) + compact_op(1, 8, 0), ident=2),
    # A session: hello, windows, a read, a batch of one.
    "session": frame(0x01, struct.pack("<IHH", MAGIC, 1, 1), ident=1)
    + frame(0x02, ident=2)
    + frame(0x10, struct.pack("<QB3xI", 0xFE200000, 4, 2), ident=3)
    + frame(0x20, struct.pack("<I4x", 1) + batch_op(1, 8, 0x2000), ident=4),
    # Responses, as a client decodes them.
    "resp-hello": frame(0x01, struct.pack("<HHIII", 1, 0, 1 << 20, 4096, 65536), flags=1),
    "resp-windows": frame(0x02, struct.pack("<I", 2)
                          + window(0xFE200000, 0x1000, 1, b"gpio", b"bcm2711", 58)
                          + window(0xFE20C000, 0x100, 0, b"pwm"), flags=1),
    "resp-error": frame(0x10, b"address 0x0 is outside the allowlist", flags=1, status=3),
    # Bad inputs the decoder must refuse cleanly.
    "bad-length": struct.pack("<I", 0xFFFFFFFF) + b"\x01\x00\x00\x00",
    "bad-width": frame(0x10, struct.pack("<QB3xI", 0x1000, 3, 1)),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {OUT}")


if __name__ == "__main__":
    main()
