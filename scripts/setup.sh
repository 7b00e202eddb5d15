#!/usr/bin/env bash
# Installs the system packages IOGate builds and tests with, on Debian 12 / Ubuntu 22.04 or later.
# The Swift 6 toolchain itself comes from swift.org (or your distribution) and must be on PATH.
set -euo pipefail

packages=(
    util-linux        # setpriv: the tests act as a second, unprivileged uid
    pkg-config        # finds the C libraries below
    libgpiod-dev      # libgpiod v1 (1.6): GPIO chip and line information
    libseccomp-dev    # seccomp filter for the daemon after it drops privileges
    systemd           # systemd-analyze: the tests verify systemd/iogated.{socket,service}
    binutils          # objdump: a test disassembles the register-access shim
    udev              # udevadm: the tests parse udev/90-iogate.rules (udev 252 has no 'verify')
    python3           # the socket-activation test passes a listening socket as fd 3, as systemd does
    pigpio-tools      # pigs: the pigpio frontend's end-to-end tests drive it with the real clients
    python3-pigpio    # ... the Python pigpio module
    python3-gpiozero  # ... and gpiozero's PiGPIOFactory (run with /usr/bin/python3)
    libpigpiod-if2-1  # ... and a C program linked against libpigpiod_if2
)

if [ "$(id -u)" = 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null; then
    SUDO=(sudo)
else
    echo "setup: run as root (or install sudo) to install: ${packages[*]}" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

if ! command -v swift >/dev/null; then
    echo "setup: no 'swift' on PATH; install the Swift 6 toolchain from https://www.swift.org/install/linux/" >&2
    exit 1
fi
echo "setup: ready ($(swift --version 2>/dev/null | head -1))"
