"""``python3 -m iogate``: a command line for scripts, with the exit codes of the ``iogate`` CLI:
0 success, 1 refused by policy or failed operation, 2 usage error, 3 cannot reach the daemon."""

import argparse
import json
import sys
from typing import List, NoReturn, Optional

from .client import Gate, parse_address, parse_int
from .errors import IOGateError, MalformedError, Status

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def _hex(value: int, width: int) -> str:
    return "0x%0*X" % (width // 4, value)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        sys.stderr.write("%s: %s\n" % (self.prog, message))
        sys.exit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python3 -m iogate", description="Register access through iogated.")
    p.add_argument("--socket", help="the daemon's socket (default: $IOGATE_SOCKET, else /run/iogate/iogate.sock)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def width(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--width", type=int, default=32, choices=(8, 16, 32, 64), help="bits (default 32)")

    r = sub.add_parser("read", help="read registers; prints 0x + zero-padded hex, one per line")
    r.add_argument("addr", help="physical address or WINDOW+OFFSET")
    width(r)
    r.add_argument("--count", type=int, default=1)
    r.add_argument("--json", action="store_true")
    w = sub.add_parser("write", help="write one register")
    w.add_argument("addr")
    w.add_argument("value")
    width(w)
    m = sub.add_parser("modify", help="atomic read-modify-write; prints the old value")
    m.add_argument("addr")
    m.add_argument("--mask", required=True)
    m.add_argument("--value", required=True)
    width(m)
    wt = sub.add_parser("wait", help="wait in the daemon until (reg & MASK) == VALUE; prints the value")
    wt.add_argument("addr")
    wt.add_argument("--mask", required=True)
    wt.add_argument("--value", required=True)
    wt.add_argument("--timeout-ms", type=int, default=1000)
    width(wt)
    ws = sub.add_parser("windows", help="the windows you may use")
    ws.add_argument("--json", action="store_true")
    g = sub.add_parser("gpio", help="PIN mode in|out|alt0..alt8|none, pull up|down|none, get, set 0|1, toggle, info")
    g.add_argument("pin", help="17, or WINDOW:PIN")
    g.add_argument("action", choices=("mode", "pull", "get", "set", "toggle", "info"))
    g.add_argument("value", nargs="?")
    return p


def _number(parser: argparse.ArgumentParser, text: str, what: str) -> int:
    try:
        return parse_int(text)
    except MalformedError as e:
        parser.error("%s: %s" % (what, e.message))
        raise  # unreachable


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # Usage checks that need no daemon, as the Swift CLI does them before connecting.
    if getattr(args, "addr", None) is not None:
        try:
            parse_address(args.addr)
        except MalformedError as e:
            parser.error(e.message)
    if args.command == "read" and args.count < 1:
        parser.error("--count must be at least 1")
    if args.command == "gpio":
        if args.action in ("mode", "pull", "set") and args.value is None:
            parser.error("'gpio %s' needs a value" % args.action)
        if args.action in ("get", "toggle", "info") and args.value is not None:
            parser.error("'gpio %s' takes no value; got '%s'" % (args.action, args.value))
        if args.action == "set" and args.value not in ("0", "1"):
            parser.error("set needs 0 or 1")
        if args.action == "pull" and args.value not in ("up", "down", "none"):
            parser.error("pull needs one of: up, down, none")
    values = {}
    for key in ("value", "mask"):
        if args.command in ("write", "modify", "wait") and getattr(args, key, None) is not None:
            values[key] = _number(parser, getattr(args, key), key.upper())
    if args.command == "write" and values["value"] >> args.width:
        parser.error("VALUE %s does not fit in %d bits" % (args.value, args.width))
    try:
        with Gate(args.socket) as gate:
            if args.command == "read":
                base = gate.resolve(args.addr)
                vals = gate.read_block(base, args.count, args.width)
                texts = [_hex(v, args.width) for v in vals]
                if args.json:
                    print(json.dumps({"address": "0x%X" % base, "width": args.width, "values": texts}))
                else:
                    print("\n".join(texts))
            elif args.command == "write":
                gate.write(args.addr, values["value"], args.width)
            elif args.command == "modify":
                print(_hex(gate.modify(args.addr, values["mask"], values["value"], args.width), args.width))
            elif args.command == "wait":
                print(_hex(gate.wait(args.addr, values["mask"], values["value"], args.timeout_ms, args.width), args.width))
            elif args.command == "windows":
                ws = gate.windows()
                if args.json:
                    print(json.dumps([{"name": w.name, "base": "0x%X" % w.base, "length": "0x%X" % w.length,
                                       "access": w.access, "model": w.model, "pins": w.pins} for w in ws]))
                elif not ws:
                    print("no windows are granted to you")
                else:
                    print("%-12s%-20s%-12s%s" % ("NAME", "BASE", "LENGTH", "ACCESS"))
                    for w in ws:
                        print("%-12s%-20s%-12s%s" % (w.name or "-", "0x%X" % w.base, "0x%X" % w.length, w.access))
            else:
                pin = gate.gpio(args.pin)
                if args.action == "mode":
                    pin.mode(args.value)
                elif args.action == "pull":
                    pin.pull(args.value)
                elif args.action == "get":
                    print(pin.get())
                elif args.action == "set":
                    pin.set(int(args.value))
                elif args.action == "toggle":
                    print(pin.toggle())
                else:
                    i = pin.info()
                    pull = "" if i["pull"] is None else ", pull %s" % i["pull"]
                    print("%s:%d (%s): function %s, level %d%s" % (i["window"], pin.pin, i["model"], i["function"], i["level"], pull))
    except IOGateError as e:
        sys.stderr.write("iogate: %s\n" % e.message)
        return EXIT_UNREACHABLE if e.status == Status.UNREACHABLE else EXIT_FAILED
    except BrokenPipeError:
        return EXIT_FAILED
    return EXIT_OK
