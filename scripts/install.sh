#!/usr/bin/env bash
# Installs IOGate on a board: the release binaries, the systemd units, the udev rules, an example
# configuration and the board files, and creates the iogate user and the iogate and gpio groups.
#
#   scripts/install.sh [--bin-dir DIR] [--no-build]     install (builds `swift build -c release` first)
#   scripts/install.sh --uninstall                      remove what install put there
#
# Environment: PREFIX (default /usr/local) and DESTDIR (default empty: the running system).
# With DESTDIR set (packaging, tests) nothing outside DESTDIR is touched: accounts are not created
# and systemd/udev are not reloaded; the script prints what it would run instead.
#
# Layout (PREFIX=/usr/local; systemd and udev read both /usr/local/lib and /usr/lib):
#   $PREFIX/bin/iogate, $PREFIX/bin/iogated
#   $PREFIX/lib/systemd/system/iogated.socket, iogated.service   (ExecStart points at $PREFIX/bin)
#   $PREFIX/lib/udev/rules.d/90-iogate.rules
#   $PREFIX/share/iogate/boards/*.toml     (the daemon searches /usr/local/share and /usr/share)
#   $PREFIX/share/doc/iogate/README.md
#   /etc/iogate/iogate.toml.example        (/etc/iogate/iogate.toml itself is yours: never touched)
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"
mode=install
bin_dir=""
build=1

while [ $# -gt 0 ]; do
    case "$1" in
        --uninstall) mode=uninstall ;;
        --bin-dir) bin_dir="$2"; build=0; shift ;;
        --no-build) build=0 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

case "$PREFIX" in
    /*) ;;
    *) echo "install: PREFIX must be an absolute path, got '$PREFIX'" >&2; exit 2 ;;
esac

root="$DESTDIR"
bindir="$PREFIX/bin"
unitdir="$PREFIX/lib/systemd/system"
rulesdir="$PREFIX/lib/udev/rules.d"
boarddir="$PREFIX/share/iogate/boards"
docdir="$PREFIX/share/doc/iogate"
confdir="/etc/iogate"

# Runs a command that changes the running system, or only prints it when DESTDIR is set.
system() {
    if [ -n "$DESTDIR" ]; then
        echo "install: DESTDIR is set; would run: $*"
    else
        echo "+ $*"
        "$@"
    fi
}

have_systemd() { [ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
have_udevd() { [ -z "$DESTDIR" ] && command -v udevadm >/dev/null && udevadm control --ping >/dev/null 2>&1; }

installed_files() {
    echo "$bindir/iogate" "$bindir/iogated" \
        "$unitdir/iogated.socket" "$unitdir/iogated.service" \
        "$rulesdir/90-iogate.rules" \
        "$docdir/README.md" \
        "$confdir/iogate.toml.example"
    for b in "$here"/boards/*.toml; do echo "$boarddir/$(basename "$b")"; done
}

if [ "$mode" = uninstall ]; then
    if have_systemd; then
        system systemctl disable --now iogated.socket iogated.service || true
    fi
    for f in $(installed_files); do
        if [ -e "$root$f" ]; then rm -f "$root$f" && echo "removed $root$f"; fi
    done
    for d in "$boarddir" "$PREFIX/share/iogate" "$docdir" "$confdir"; do
        rmdir "$root$d" 2>/dev/null || true
    done
    if [ -e "$root$confdir/iogate.toml" ]; then
        echo "install: kept $root$confdir/iogate.toml (your configuration); remove it yourself if you mean to"
    fi
    if [ -n "$DESTDIR" ] || getent passwd iogate >/dev/null; then system userdel iogate; fi
    if [ -n "$DESTDIR" ] || getent group iogate >/dev/null; then system groupdel iogate; fi
    echo "install: kept group gpio (other GPIO software uses it too)"
    if have_systemd; then system systemctl daemon-reload; fi
    if have_udevd; then system udevadm control --reload; fi
    exit 0
fi

if [ "$build" = 1 ]; then
    (cd "$here" && swift build -c release --product iogate && swift build -c release --product iogated)
    bin_dir="$(cd "$here" && swift build -c release --show-bin-path)"
elif [ -z "$bin_dir" ]; then
    bin_dir="$(cd "$here" && swift build -c release --show-bin-path)"
fi
for exe in iogate iogated; do
    [ -x "$bin_dir/$exe" ] || { echo "install: $bin_dir/$exe is missing; build first (swift build -c release)" >&2; exit 1; }
done

install -d -m 0755 "$root$bindir" "$root$unitdir" "$root$rulesdir" "$root$boarddir" "$root$docdir" "$root$confdir"
install -m 0755 "$bin_dir/iogate" "$bin_dir/iogated" "$root$bindir/"
# The units name /usr/local; point them at this PREFIX.
for u in iogated.socket iogated.service; do
    sed "s|/usr/local/|$PREFIX/|g" "$here/systemd/$u" > "$root$unitdir/$u"
    chmod 0644 "$root$unitdir/$u"
done
install -m 0644 "$here/udev/90-iogate.rules" "$root$rulesdir/"
install -m 0644 "$here"/boards/*.toml "$root$boarddir/"
install -m 0644 "$here/README.md" "$root$docdir/"
install -m 0644 "$here/etc/iogate.toml.example" "$root$confdir/"
echo "install: installed under ${DESTDIR:-/} with PREFIX=$PREFIX"

# Accounts: the daemon's own (no login, no home) and the groups the socket and udev rules use.
getent group iogate >/dev/null 2>&1 && [ -z "$DESTDIR" ] || system groupadd --system iogate
getent group gpio >/dev/null 2>&1 && [ -z "$DESTDIR" ] || system groupadd --system gpio
getent passwd iogate >/dev/null 2>&1 && [ -z "$DESTDIR" ] ||
    system useradd --system --gid iogate --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin iogate

if have_systemd; then system systemctl daemon-reload; fi
if have_udevd; then system udevadm control --reload && system udevadm trigger --subsystem-match=gpio --action=add; fi

cat <<NEXT
install: next steps
  1. cp $confdir/iogate.toml.example $confdir/iogate.toml, edit the grants, keep it root-owned and not group/other-writable
  2. iogated --check --config $confdir/iogate.toml
  3. systemctl enable --now iogated.socket
  4. add users to group iogate (may connect) and gpio (granted the GPIO block; may read /dev/gpiochip*)
NEXT
