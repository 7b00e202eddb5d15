#!/usr/bin/env bash
# Runs a libiogate test program against real iogated daemons on the mock Raspberry Pi 3 (bcm2835),
# Pi 4 (bcm2711, small max_block and max_batch), Pi 5 (rp1) and BeagleBone Black (omap), each with its own temporary
# configuration and socket; no root and no hardware needed.
#
#   tests/run.sh TEST_PROGRAM
#
# The program gets BOARD SOCKET MAX_BLOCK MAX_BATCH as arguments and $IOGATE_SOCKET set to SOCKET.
# Environment: IOGATED (the daemon; default ../../.build/debug/iogated from clients/c),
# TEST_WRAPPER (e.g. "valgrind --error-exitcode=99 --leak-check=full"), LD_LIBRARY_PATH is set to
# the program's directory so a program linked against build/libiogate.so finds it.
# Exits non-zero if a daemon does not start or any test fails.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -eq 1 ] || { echo "usage: tests/run.sh TEST_PROGRAM" >&2; exit 2; }
prog="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
iogated="${IOGATED:-$here/../../.build/debug/iogated}"
[ -x "$iogated" ] || { echo "run.sh: iogated not found at $iogated (build it with 'swift build --product iogated' or set IOGATED)" >&2; exit 2; }
[ -x "$prog" ] || { echo "run.sh: $prog is not an executable" >&2; exit 2; }

dir="$(mktemp -d /tmp/iogate-ctest.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT

# start BOARD LIMITS GRANTS_RW: writes $dir/BOARD.toml and starts a daemon on $dir/BOARD.sock.
start() {
    local board="$1" limits="$2" rw="$3" cfg="$dir/$1.toml"
    cat > "$cfg" <<CONF
# libiogate tests: the mock $board, only this user; its GPIO windows and spi0 read-write,
# uart0 read-only, everything else (i2c1 among it) outside the allowlist.
device = "mock"
board = "$board"
socket = "$dir/$board.sock"
socket_mode = "0600"
audit = "none"
protect_kernel_lines = false

[limits]
$limits

[[grant]]
uid = $(id -u)
windows = [$rw]
access = "rw"

[[grant]]
uid = $(id -u)
windows = ["uart0"]
access = "ro"
CONF
    launch "$board"
}

# launch NAME: starts iogated with $dir/NAME.toml, logging to $dir/NAME.log, and waits until it is ready.
launch() {
    local name="$1" cfg="$dir/$1.toml"
    chmod 0600 "$cfg"
    : > "$dir/$name.log"
    "$iogated" --config "$cfg" > "$dir/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 200); do
        grep -q 'ready on' "$dir/$name.log" && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || break
        sleep 0.05
    done
    echo "run.sh: iogated for $name did not become ready:" >&2
    cat "$dir/$name.log" >&2
    exit 1
}

# rpi4-pins: the mock Pi 4 granting only GPIO 17 and 27 (rw) and the bits 0xFF of a raw range inside
# spi0 (ro): per-pin and per-bit grants, shown by the grants list (PROTOCOL.md 5.9).
cat > "$dir/rpi4-pins.toml" <<CONF
device = "mock"
board = "rpi4"
socket = "$dir/rpi4-pins.sock"
socket_mode = "0600"
audit = "none"
protect_kernel_lines = false

[[grant]]
uid = $(id -u)
pins = [17, 27]
access = "rw"

[[grant]]
uid = $(id -u)
IoBase = [0xFE204000]
IoLen = [0x100]
bits = [0xFF]
access = "ro"
CONF

start rpi3 "" '"gpio", "spi0"'
start rpi4 $'max_block = 64\nmax_batch = 16' '"gpio", "spi0"'
start rpi5 "" '"gpio", "rio", "pads", "spi0"'
start beaglebone-black "" '"gpio0", "gpio1", "gpio2", "gpio3", "spi0"'
launch rpi4-pins

status=0
export LD_LIBRARY_PATH="$(dirname "$prog")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
run() { IOGATE_SOCKET="$2" ${TEST_WRAPPER:-} "$prog" "$@" || status=1; }
run rpi3 "$dir/rpi3.sock" 65536 4096
run rpi4 "$dir/rpi4.sock" 64 16
run rpi5 "$dir/rpi5.sock" 65536 4096
run beaglebone-black "$dir/beaglebone-black.sock" 65536 4096
run rpi4-pins "$dir/rpi4-pins.sock" 65536 4096
if [ "$status" != 0 ]; then
    for b in rpi3 rpi4 rpi5 beaglebone-black rpi4-pins; do echo "--- iogated $b log:"; tail -n 20 "$dir/$b.log"; done
fi
exit "$status"
