#!/usr/bin/env bash
# Tests an amd64 iogate .deb in a throwaway Debian 12 (bookworm) root: lintian, install with its
# dependencies from Debian's archive, files, accounts, configuration mode, the daemon's --check,
# a running daemon (mock board) reloading the installed configuration with SIGHUP after dropping to
# user iogate, the C library (installed, in ldconfig's cache, a program built against it with
# pkg-config, shared and static, run against that daemon), an upgrade to a rebuilt package with a
# bumped version, and purge.
#
#   scripts/test-deb.sh DEB
#
# Needs root (chroot, mounts), mmdebstrap and lintian (apt-get install mmdebstrap lintian), and
# network to deb.debian.org. The minbase root is cached as a tarball under /var/tmp/iogate-deb-test
# (delete it to refresh); each run unpacks a fresh copy and removes it at the end.
# Prints PASS/FAIL lines and "N passed, M failed"; exits 1 if anything failed.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -eq 1 ] || { echo "usage: scripts/test-deb.sh DEB" >&2; exit 2; }
deb="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[ -f "$deb" ] || { echo "test-deb: $1 does not exist" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "test-deb: must run as root (chroot and mounts)" >&2; exit 2; }
[ "$(dpkg-deb -f "$deb" Architecture)" = amd64 ] || { echo "test-deb: $deb is not an amd64 package" >&2; exit 2; }
for tool in mmdebstrap lintian; do
    command -v "$tool" >/dev/null || { echo "test-deb: $tool is missing (apt-get install $tool)" >&2; exit 2; }
done

cache=/var/tmp/iogate-deb-test
tarball="$cache/bookworm-minbase-amd64.tar"
start=$SECONDS
passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
# check NAME COMMAND...: PASS if COMMAND succeeds.
check() { local name="$1"; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
elapsed() { echo "  ($(( SECONDS - start )) s so far)"; }

# --- Version sources -------------------------------------------------------------------------
check "VERSION, the Swift version banners and packaging/debian/changelog agree" "$here/scripts/check-version.sh"

# --- lintian --------------------------------------------------------------------------------
lint="$(lintian --pedantic --info "$deb" 2>&1 | grep -v '^running with root privileges' || true)"
errors="$(printf '%s\n' "$lint" | grep -c '^E:' || true)"
warnings="$(printf '%s\n' "$lint" | grep -c '^W:' || true)"
printf '%s\n' "$lint" | grep -E '^[EW]:' | sed 's/^/  lintian /' || true
check "lintian: no errors ($errors errors, $warnings warnings)" test "$errors" -eq 0

# --- The throwaway root -----------------------------------------------------------------------
mkdir -p "$cache"
if [ ! -f "$tarball" ]; then
    echo "test-deb: creating $tarball (mmdebstrap --variant=minbase bookworm)"
    mmdebstrap --variant=minbase --format=tar bookworm "$tarball.tmp" \
        "deb http://deb.debian.org/debian bookworm main" \
        "deb http://deb.debian.org/debian bookworm-updates main" \
        "deb http://deb.debian.org/debian-security bookworm-security main"
    mv "$tarball.tmp" "$tarball"
fi
root="$(mktemp -d "$cache/root.XXXXXX")"
daemon_pid=""
cleanup() {
    if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; fi
    for m in "$root/proc" "$root/dev/pts" "$root/dev"; do
        if mountpoint -q "$m"; then umount -l "$m"; fi
    done
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT
tar -C "$root" -xf "$tarball"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
echo "test-deb: root ready in $root"; elapsed

apt_quiet() { in_root apt-get -q -y -o Dpkg::Use-Pty=0 "$@" > "$root/tmp/apt.log" 2>&1 || { tail -n 30 "$root/tmp/apt.log"; return 1; }; }
check "apt-get update in the root" apt_quiet update

# --- Install --------------------------------------------------------------------------------
version="$(dpkg-deb -f "$deb" Version)"
cp "$deb" "$root/tmp/"
check "apt-get install ./$(basename "$deb") (with its Depends from Debian 12)" apt_quiet install "./tmp/$(basename "$deb")"
echo "  Depends: $(dpkg-deb -f "$deb" Depends)"
elapsed
check "dpkg reports iogate $version installed" \
    test "$(in_root dpkg-query -W -f='${Status} ${Version}' iogate)" = "install ok installed $version"

for f in /usr/bin/iogate /usr/sbin/iogated; do check "$f is executable" test -x "$root$f"; done
for f in /usr/lib/systemd/system/iogated.socket /usr/lib/systemd/system/iogated.service \
    /usr/lib/udev/rules.d/90-iogate.rules /usr/share/iogate/boards/rpi4.toml \
    /usr/share/doc/iogate/README.md /usr/share/doc/iogate/docs/SYSTEM.md \
    /usr/share/doc/iogate/examples/iogate.toml.example /usr/share/doc/iogate/copyright \
    /usr/share/doc/iogate/changelog.Debian.gz /etc/iogate/iogate.toml; do
    check "$f installed" test -f "$root$f"
done
libdir=/usr/lib/x86_64-linux-gnu
for f in /usr/include/iogate.h $libdir/libiogate.a $libdir/pkgconfig/iogate.pc; do check "$f installed" test -f "$root$f"; done
check "$libdir/libiogate.so.0 is the shared library (soname libiogate.so.0)" \
    bash -c "readelf -d '$root$libdir/libiogate.so.0' | grep -q 'SONAME.*\[libiogate.so.0\]'"
check "$libdir/libiogate.so links to it" test "$(readlink -f "$root$libdir/libiogate.so")" = "$(readlink -f "$root$libdir/libiogate.so.0")"
check "ldconfig's cache has libiogate.so.0 (trigger)" bash -c "chroot '$root' ldconfig -p | grep -q 'libiogate.so.0 '"
check "iogated.service runs /usr/sbin/iogated" \
    grep -qx 'ExecStart=/usr/sbin/iogated --config /etc/iogate/iogate.toml' "$root/usr/lib/systemd/system/iogated.service"
check "iogated.socket enabled (sockets.target.wants symlink)" \
    test -L "$root/etc/systemd/system/sockets.target.wants/iogated.socket"
check "/etc/iogate/iogate.toml is a conffile" \
    grep -q '/etc/iogate/iogate.toml' <(in_root dpkg-query -W -f='${Conffiles}' iogate)
upstream="$(cat "$here/VERSION")"
banner="$(in_root iogate --version)"
check "iogate --version ('$banner') names VERSION ($upstream)" test "${banner#"iogate $upstream "}" != "$banner"

# Accounts. Owner and group names are looked up inside the root (the host has no iogate group).
has_user() { in_root getent passwd "$1" >/dev/null; }
has_group() { in_root getent group "$1" >/dev/null; }
not() { ! "$@"; }
conf_mode() { in_root stat -c '%U:%G %a' /etc/iogate/iogate.toml; }
IFS=: read -r _ _ user_uid user_gid _ user_home user_shell < <(in_root getent passwd iogate || true)
check "system user iogate exists (uid ${user_uid:-none} < 1000)" test "${user_uid:-1000}" -lt 1000
check "user iogate's primary group is iogate" test "$(in_root getent group iogate | cut -d: -f3)" = "${user_gid:-none}"
check "user iogate has no home and no login ($user_home, $user_shell)" \
    test "$user_home:$user_shell" = /nonexistent:/usr/sbin/nologin
check "group gpio exists" has_group gpio
check "postinst recorded the accounts it created" \
    test "$(sort "$root/var/lib/iogate/created-accounts" | tr '\n' ' ')" = "group gpio group iogate user iogate "
check "config is root:iogate 0640" test "$(conf_mode)" = "root:iogate 640"

# --- The daemon -------------------------------------------------------------------------------
# The shipped configuration says board = "auto", which needs a device tree; this PC has none, so
# --check must fail saying exactly that (on a board with a device tree it must pass).
check_out="$(in_root iogated --check --config /etc/iogate/iogate.toml 2>&1)" && check_rc=0 || check_rc=$?
echo "  iogated --check: $check_out"
if [ -e /proc/device-tree/compatible ]; then
    check "iogated --check accepts the shipped configuration" test "$check_rc" = 0
else
    check "iogated --check on the shipped configuration: refused only for lacking a device tree" \
        grep -q 'board = "auto" but this machine has no /proc/device-tree/compatible' <<<"$check_out"
fi

# An administrator's edit: the Raspberry Pi 4 simulated (device = "mock"), written through the same
# inode so the file keeps root:iogate 0640. This also checks that upgrades keep local edits.
conf="$root/etc/iogate/iogate.toml"
sed -e 's/^board = "auto"/board = "rpi4"/' -e 's|^device = "/dev/mem"|device = "mock"|' "$conf" > "$root/tmp/edited.toml"
cat "$root/tmp/edited.toml" > "$conf"
check "edited config keeps root:iogate 0640" test "$(conf_mode)" = "root:iogate 640"
check "iogated --check accepts the edited configuration (board rpi4, mock device)" \
    in_root iogated --check --config /etc/iogate/iogate.toml

# Run it: it maps the mock windows, binds the socket, drops to user iogate. A client in groups
# iogate and gpio reads a register; SIGHUP must re-read the 0640 root:iogate file as user iogate.
in_root adduser --quiet --disabled-password --gecos "" tester >/dev/null
in_root adduser --quiet tester iogate >/dev/null
in_root adduser --quiet tester gpio >/dev/null
log="$root/tmp/iogated.log"
chroot "$root" /usr/sbin/iogated --config /etc/iogate/iogate.toml > "$log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 100); do grep -q 'ready on' "$log" && break; sleep 0.1; done
check "iogated starts and reports ready" grep -q 'ready on' "$log"
uid="$(awk '/^Uid:/ {print $2}' "/proc/$daemon_pid/status" 2>/dev/null || echo gone)"
check "iogated runs as user iogate after mapping (uid $uid)" test "$uid" = "$(in_root id -u iogate)"
read_out="$(in_root setpriv --reuid tester --regid tester --init-groups iogate read gpio+0x04 2>&1)" && read_rc=0 || read_rc=$?
echo "  tester: iogate read gpio+0x04 -> $read_out"
check "a member of iogate and gpio reads gpio+0x04 through the socket" test "$read_rc" = 0
# The C library: examples/gpio17.c built in the root with the installed header and iogate.pc,
# shared and static, run as tester: it makes GPIO17 an output, drives it high and reads it back.
check "apt-get install gcc libc6-dev pkg-config in the root" apt_quiet install --no-install-recommends gcc libc6-dev pkg-config
cp "$here/clients/c/examples/gpio17.c" "$root/tmp/gpio17.c"
check "a C program builds with pkg-config iogate (shared)" \
    in_root sh -c 'cc -Wall -Werror -o /tmp/gpio17 /tmp/gpio17.c $(pkg-config --cflags --libs iogate)'
check "a C program builds with pkg-config iogate (static)" \
    in_root sh -c 'cc -Wall -Werror -o /tmp/gpio17s /tmp/gpio17.c $(pkg-config --cflags iogate) -Wl,-Bstatic $(pkg-config --libs iogate) -Wl,-Bdynamic'
check "the shared one needs libiogate.so.0, the static one not" \
    bash -c "readelf -d '$root/tmp/gpio17' | grep -q 'NEEDED.*libiogate.so.0' && ! readelf -d '$root/tmp/gpio17s' | grep -q libiogate"
for prog in gpio17 gpio17s; do
    c_out="$(in_root setpriv --reuid tester --regid tester --init-groups /tmp/$prog 2>&1)" && c_rc=0 || c_rc=$?
    echo "  tester: /tmp/$prog -> $c_out"
    check "the C program ($prog) drives GPIO17 high through the socket" test "$c_rc:$c_out" = "0:GPIO17 (gpio line 17) is 1"
done
# The Python client from the package, with no pip: its command line reads what the CLI read, and
# Debian's python3-gpiozero finds the `iogate` pin factory through the package's dist-info.
check "apt-get install python3 python3-gpiozero in the root" \
    apt_quiet install --no-install-recommends python3 python3-gpiozero python3-pkg-resources
cli_out="$(in_root setpriv --reuid tester --regid tester --init-groups iogate read gpio+0x04 2>&1)"
py_out="$(in_root setpriv --reuid tester --regid tester --init-groups python3 -m iogate read gpio+0x04 2>&1)" && py_rc=0 || py_rc=$?
echo "  tester: python3 -m iogate read gpio+0x04 -> $py_out (iogate read: $cli_out)"
check "python3 -m iogate (from the package) reads what iogate reads" test "$py_rc:$py_out" = "0:$cli_out"
# The LED's level is read back through a second connection before the program ends (gpiozero
# returns its pins to inputs when it exits).
gz_out="$(in_root setpriv --reuid tester --regid tester --init-groups env GPIOZERO_PIN_FACTORY=iogate python3 -c \
    'import iogate; from gpiozero import LED; led = LED(27); led.on(); print(led.value, type(led.pin_factory).__name__, iogate.Gate().read("gpio+0x34") >> 27 & 1)' \
    2>"$root/tmp/gz.err")" && gz_rc=0 || gz_rc=$?
echo "  tester: gpiozero LED(27).on() with GPIOZERO_PIN_FACTORY=iogate -> value, factory, GPLEV0 bit 27: $gz_out"
[ "$gz_rc:$gz_out" = "0:1 IOGateFactory 1" ] || tail -n 5 "$root/tmp/gz.err"
check "gpiozero's LED through the packaged iogate pin factory drives GPIO27 high" test "$gz_rc:$gz_out" = "0:1 IOGateFactory 1"
reloads_before="$(grep -c 'policy reloaded' "$log" || true)"
kill -HUP "$daemon_pid"
for _ in $(seq 1 50); do [ "$(grep -c 'policy reloaded' "$log" || true)" -gt "$reloads_before" ] && break; sleep 0.1; done
check "SIGHUP after the privilege drop re-reads the root:iogate 0640 config" \
    test "$(grep -c 'policy reloaded' "$log" || true)" -gt "$reloads_before"
# Control: the same reload with root:root 0600 must be refused, or the check above proves nothing.
in_root chmod 0600 /etc/iogate/iogate.toml; in_root chgrp root /etc/iogate/iogate.toml
kill -HUP "$daemon_pid"
for _ in $(seq 1 50); do grep -q 'reload refused' "$log" && break; sleep 0.1; done
check "control: a root:root 0600 config is refused on SIGHUP (Permission denied)" \
    grep -q 'reload refused.*Permission denied' "$log"
in_root chgrp iogate /etc/iogate/iogate.toml; in_root chmod 0640 /etc/iogate/iogate.toml
kill -TERM "$daemon_pid"
stopped=1; for _ in $(seq 1 50); do kill -0 "$daemon_pid" 2>/dev/null || { stopped=0; break; }; sleep 0.1; done
check "iogated stops on SIGTERM" test "$stopped" = 0
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=""
sed 's/^/  iogated: /' "$log"
elapsed

# --- Upgrade --------------------------------------------------------------------------------
# The second package is built by scripts/build-deb.sh from the first package's own binaries, with
# the version bumped, so both differ only in version.
extract="$(mktemp -d)"
dpkg-deb -x "$deb" "$extract"
mkdir -p "$extract/bin"
cp "$extract/usr/bin/iogate" "$extract/usr/sbin/iogated" "$extract/bin/"
upgrade_deb="$(IOGATE_DEB_VERSION_SUFFIX=+test1 IOGATE_DEB_COMPRESS=gzip "$here/scripts/build-deb.sh" amd64 "$extract/bin" "$extract" | tail -n 1)"
new_version="$(dpkg-deb -f "$upgrade_deb" Version)"
check "upgrade package built: $new_version > $version" dpkg --compare-versions "$new_version" gt "$version"
cp "$upgrade_deb" "$root/tmp/"
check "apt-get install ./$(basename "$upgrade_deb") upgrades" apt_quiet install "./tmp/$(basename "$upgrade_deb")"
rm -rf "$extract"
check "dpkg reports iogate $new_version installed" \
    test "$(in_root dpkg-query -W -f='${Status} ${Version}' iogate)" = "install ok installed $new_version"
check "upgrade kept the administrator's configuration edit" grep -q '^board = "rpi4"' "$conf"
check "config still root:iogate 0640 after upgrade" test "$(conf_mode)" = "root:iogate 640"
check "user iogate survived the upgrade" has_user iogate
check "iogated --check still accepts the configuration" in_root iogated --check --config /etc/iogate/iogate.toml
elapsed

# --- Purge ----------------------------------------------------------------------------------
in_root deluser --quiet tester >/dev/null 2>&1
check "apt-get purge iogate" apt_quiet purge iogate
check "package gone" bash -c "! chroot '$root' dpkg-query -W -f='\${Status}' iogate 2>/dev/null | grep -q installed"
check "binaries gone" test ! -e "$root/usr/sbin/iogated" -a ! -e "$root/usr/bin/iogate"
check "C library gone" test ! -e "$root$libdir/libiogate.so.0" -a ! -e "$root/usr/include/iogate.h"
check "Python module gone" test ! -e "$root/usr/lib/python3/dist-packages/iogate/__init__.py"
check "user iogate removed" not has_user iogate
check "group iogate removed" not has_group iogate
check "group gpio removed (this package created it)" not has_group gpio
check "/etc/iogate removed" test ! -e "$root/etc/iogate"
check "/var/lib/iogate removed" test ! -e "$root/var/lib/iogate"
check "socket unit no longer enabled" test ! -e "$root/etc/systemd/system/sockets.target.wants/iogated.socket"

# A gpio group that existed before installation is the administrator's: purge must keep it.
in_root addgroup --system --quiet gpio
check "reinstall with a pre-existing group gpio" apt_quiet install "./tmp/$(basename "$upgrade_deb")"
check "postinst did not record gpio as its own" bash -c "! grep -q 'group gpio' '$root/var/lib/iogate/created-accounts'"
check "purge again" apt_quiet purge iogate
check "pre-existing group gpio kept" has_group gpio
check "user iogate removed again" not has_user iogate
elapsed

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
