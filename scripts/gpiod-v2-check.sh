#!/usr/bin/env bash
# Proves that IOGateGPIO's C shim (Sources/CGPIOD) compiles, links and runs against libgpiod v2, on
# a machine whose own libgpiod is v1 (Debian 12). It downloads Debian 13's libgpiod-dev and
# libgpiod3 for this machine's architecture through a private apt state (the system's apt sources,
# lists and caches are not touched), unpacks them with dpkg-deb, and then:
#   1. compiles iogate_gpiod.c against the v2 gpiod.h with -Wall -Wextra -Werror -pedantic and
#      checks from its undefined symbols that the v2 block was compiled (not the v1 one);
#   2. links a small C program against the v2 libgpiod.so.3 and runs it: API major 2, library 2.x,
#      a missing chip and a non-GPIO device refused with errno, and every line of every
#      /dev/gpiochip* read (this says so loudly when the machine has none);
#   3. with --swift, also builds the `iogate` product with SwiftPM against the v2 tree (own scratch
#      directory), checks that it loads libgpiod.so.3 and imports v2 symbols, runs `iogate gpio
#      lines`, and runs the GPIODBindingTests suite against v2.
#
# Usage: scripts/gpiod-v2-check.sh [--swift] [--refresh]
#   --refresh  download the packages again even if they are cached
# Environment:
#   IOGATE_GPIOD_V2_DIR  work and cache directory (default /var/tmp/iogate-gpiod-v2)
#   DEBIAN_MIRROR        Debian archive URL (default: the first .../debian URL in this machine's
#                        apt sources, else http://deb.debian.org/debian)
#   DEBIAN_SUITE         the release that ships libgpiod v2 (default trixie)
#   SWIFT                the swift driver for --swift (default: swift on PATH, then /opt/swift/usr/bin/swift)
set -euo pipefail

fail() { echo "gpiod-v2-check: FAIL: $*" >&2; exit 1; }
info() { echo "gpiod-v2-check: $*"; }

WITH_SWIFT=0
REFRESH=0
for arg in "$@"; do
    case "$arg" in
        --swift) WITH_SWIFT=1 ;;
        --refresh) REFRESH=1 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) fail "unknown argument '$arg' (allowed: --swift, --refresh)" ;;
    esac
done

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHIM_DIR=$REPO/Sources/CGPIOD
[ -f "$SHIM_DIR/iogate_gpiod.c" ] && [ -f "$SHIM_DIR/include/iogate_gpiod.h" ] ||
    fail "no shim at $SHIM_DIR (iogate_gpiod.c, include/iogate_gpiod.h)"
for tool in apt-get dpkg-deb dpkg gcc nm ldd; do
    command -v "$tool" >/dev/null || fail "'$tool' not found; this script needs a Debian-like system with gcc and binutils"
done

WORK=${IOGATE_GPIOD_V2_DIR:-/var/tmp/iogate-gpiod-v2}
SUITE=${DEBIAN_SUITE:-trixie}
ARCH=$(dpkg --print-architecture)
MULTIARCH=$(gcc -print-multiarch)
[ -n "$MULTIARCH" ] || fail "gcc -print-multiarch printed nothing; cannot find the library directory"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -s "$KEYRING" ] || fail "$KEYRING missing (package debian-archive-keyring); needed to verify $SUITE's package lists"

# The same archive host this machine already uses, so the check needs no other network access.
mirror_from_sources() {
    local f urls
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        urls=$(grep -Eo '(https?|file)://[^ ]*/debian/?( |$)' "$f" || true)
        if [ -n "$urls" ]; then
            urls=${urls%%$'\n'*}
            echo "${urls// /}"
            return 0
        fi
    done
}
MIRROR=${DEBIAN_MIRROR:-$(mirror_from_sources)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MIRROR=${MIRROR%/}

APT_DIR=$WORK/apt
DEB_DIR=$WORK/debs
ROOT=$WORK/root
LIBDIR=$ROOT/usr/lib/$MULTIARCH
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$DEB_DIR"

# ---- 1. packages ------------------------------------------------------------------------------------
if [ "$REFRESH" = 1 ] || ! ls "$DEB_DIR"/libgpiod-dev_*.deb "$DEB_DIR"/libgpiod3_*.deb >/dev/null 2>&1; then
    echo "deb [arch=$ARCH signed-by=$KEYRING] $MIRROR $SUITE main" >"$APT_DIR/sources.list"
    # Every path apt writes is under $APT_DIR; the sandbox user is root because $DEB_DIR is root's.
    APT_OPTS=(
        -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Etc::SourceList=$APT_DIR/sources.list"
        -o "Dir::Etc::SourceParts=/dev/null" -o "Dir::Cache=$APT_DIR/cache"
        -o "Dir::Cache::archives=$APT_DIR/cache/archives" -o "APT::Sandbox::User=root"
        -o "APT::Architecture=$ARCH"
    )
    info "downloading $SUITE's libgpiod-dev and libgpiod3 ($ARCH) from $MIRROR"
    apt-get "${APT_OPTS[@]}" -qq update || fail "apt-get update of $SUITE from $MIRROR failed"
    rm -f "$DEB_DIR"/*.deb
    (cd "$DEB_DIR" && apt-get "${APT_OPTS[@]}" -qq download libgpiod-dev libgpiod3) ||
        fail "apt-get download libgpiod-dev libgpiod3 from $SUITE failed"
fi
rm -rf "$ROOT"
mkdir -p "$ROOT"
for deb in "$DEB_DIR"/libgpiod-dev_*.deb "$DEB_DIR"/libgpiod3_*.deb; do
    dpkg-deb -x "$deb" "$ROOT" || fail "dpkg-deb -x $deb failed"
done
VERSION=$(dpkg-deb -f "$(ls "$DEB_DIR"/libgpiod-dev_*.deb)" Version)
HEADER=$ROOT/usr/include/gpiod.h
[ -f "$HEADER" ] || fail "libgpiod-dev $VERSION has no usr/include/gpiod.h"
[ -e "$LIBDIR/libgpiod.so.3" ] || fail "libgpiod3 $VERSION has no $MULTIARCH/libgpiod.so.3"
grep -q 'gpiod_chip_get_line_info' "$HEADER" || fail "$HEADER ($VERSION) does not declare gpiod_chip_get_line_info: not libgpiod v2"
if grep -q 'GPIOD_LINE_BULK_MAX_LINES' "$HEADER"; then
    fail "$HEADER ($VERSION) defines GPIOD_LINE_BULK_MAX_LINES, the shim's v1 marker; the shim would take its v1 block"
fi
info "libgpiod-dev $VERSION unpacked in $ROOT"

# ---- 2. compile the shim against v2 -------------------------------------------------------------------
BUILD=$WORK/c
rm -rf "$BUILD"
mkdir -p "$BUILD"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -I"$ROOT/usr/include" -I"$SHIM_DIR/include")
gcc "${CFLAGS[@]}" -c "$SHIM_DIR/iogate_gpiod.c" -o "$BUILD/iogate_gpiod.o" ||
    fail "the shim does not compile against libgpiod $VERSION"
nm -u "$BUILD/iogate_gpiod.o" >"$BUILD/undefined.txt"
for sym in gpiod_chip_get_info gpiod_chip_get_line_info gpiod_line_info_free gpiod_api_version; do
    grep -qw "$sym" "$BUILD/undefined.txt" || fail "the compiled shim does not call $sym: its v2 block was not compiled"
done
if grep -qw gpiod_line_update "$BUILD/undefined.txt"; then
    fail "the compiled shim calls v1's gpiod_line_update"
fi
info "shim compiled warning-free against v2 (calls $(grep -c gpiod_ "$BUILD/undefined.txt") libgpiod functions)"

# ---- 3. link and run a program against v2 -------------------------------------------------------------
cat >"$BUILD/check.c" <<'EOF'
// Exercises every iogate_gpiod_* function the v2 block implements.
#define _POSIX_C_SOURCE 200809L
#include "iogate_gpiod.h"
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); failures++; } } while (0)

int main(void) {
    const char *version = iogate_gpiod_library_version();
    printf("api %d, library %s\n", iogate_gpiod_api_major(), version);
    CHECK(iogate_gpiod_api_major() == 2, "compiled API is %d, not 2", iogate_gpiod_api_major());
    CHECK(version != NULL && strncmp(version, "2.", 2) == 0, "loaded library is %s, not 2.x", version ? version : "(null)");

    errno = 0;
    CHECK(iogate_gpiod_chip_open("/dev/gpiochip987") == NULL && errno == ENOENT,
          "missing chip: expected NULL with ENOENT, errno %d (%s)", errno, strerror(errno));
    errno = 0;
    iogate_gpiod_chip *null_chip = iogate_gpiod_chip_open("/dev/null");
    CHECK(null_chip == NULL && errno != 0, "/dev/null accepted as a GPIO chip (errno %d)", errno);
    if (null_chip == NULL) printf("/dev/null refused: %s\n", strerror(errno));
    iogate_gpiod_chip_close(NULL);
    iogate_gpiod_line_free(NULL);

    glob_t g;
    int found = glob("/dev/gpiochip[0-9]*", 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
    if (found == 0) printf("NOTE: no /dev/gpiochip* on this machine: chip and line reads not exercised here\n");
    for (int i = 0; i < found; i++) {
        iogate_gpiod_chip *chip = iogate_gpiod_chip_open(g.gl_pathv[i]);
        CHECK(chip != NULL, "cannot open %s: %s", g.gl_pathv[i], strerror(errno));
        if (chip == NULL) continue;
        size_t n = iogate_gpiod_chip_num_lines(chip);
        printf("%s: %s [%s], %zu lines\n", g.gl_pathv[i], iogate_gpiod_chip_name(chip), iogate_gpiod_chip_label(chip), n);
        CHECK(n > 0, "%s has no lines", g.gl_pathv[i]);
        for (size_t o = 0; o < n; o++) {
            iogate_gpiod_line *line = iogate_gpiod_line_get(chip, (unsigned)o);
            CHECK(line != NULL, "%s line %zu: %s", g.gl_pathv[i], o, strerror(errno));
            if (line == NULL) continue;
            const char *name = iogate_gpiod_line_name(line), *consumer = iogate_gpiod_line_consumer(line);
            printf("  %3zu %-16s %-5s%s %s%s\n", o, name ? name : "-", iogate_gpiod_line_is_output(line) ? "out" : "in",
                   iogate_gpiod_line_is_active_low(line) ? " active-low" : "",
                   iogate_gpiod_line_is_used(line) ? "used by " : "", iogate_gpiod_line_is_used(line) ? (consumer ? consumer : "(no name)") : "");
            iogate_gpiod_line_free(line);
        }
        errno = 0;
        CHECK(iogate_gpiod_line_get(chip, (unsigned)n) == NULL && errno != 0, "%s: line %zu past the end was read", g.gl_pathv[i], n);
        iogate_gpiod_chip_close(chip);
    }
    if (found > 0) globfree(&g);
    return failures == 0 ? 0 : 1;
}
EOF
gcc "${CFLAGS[@]}" "$BUILD/check.c" "$BUILD/iogate_gpiod.o" -o "$BUILD/check" \
    -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lgpiod || fail "cannot link the shim against $LIBDIR/libgpiod.so"
LOADED=$(ldd "$BUILD/check" | awk '/libgpiod/ { print $1 " => " $3 }')
[[ "$LOADED" == "libgpiod.so.3 => $LIBDIR/"* ]] || fail "the check program loads '$LOADED', not $LIBDIR/libgpiod.so.3"
info "linked: $LOADED"
"$BUILD/check" || fail "the shim misbehaves against libgpiod $VERSION (see above)"
info "C shim against libgpiod $VERSION: OK"

# ---- 4. optional: the Swift package against v2 ----------------------------------------------------------
if [ "$WITH_SWIFT" = 1 ]; then
    SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
    [ -x "$SWIFT" ] || fail "no swift driver (set SWIFT=/path/to/swift)"
    # Own scratch directory: a v1 build in .build is neither reused nor overwritten.
    SWIFT_FLAGS=(
        --package-path "$REPO" --scratch-path "$WORK/swift-build"
        -Xcc -I"$ROOT/usr/include" -Xlinker -L"$LIBDIR" -Xlinker -rpath -Xlinker "$LIBDIR"
    )
    info "building iogate against libgpiod $VERSION with $SWIFT"
    "$SWIFT" build "${SWIFT_FLAGS[@]}" --product iogate || fail "swift build against libgpiod $VERSION failed"
    BIN=$("$SWIFT" build "${SWIFT_FLAGS[@]}" --show-bin-path)
    LOADED=$(ldd "$BIN/iogate" | awk '/libgpiod/ { print $1 " => " $3 }')
    [[ "$LOADED" == "libgpiod.so.3 => $LIBDIR/"* ]] || fail "iogate loads '$LOADED', not $LIBDIR/libgpiod.so.3"
    # Captured first: grep -q exiting early would kill nm with SIGPIPE and fail the pipeline.
    IMPORTS=$(nm -D --undefined-only "$BIN/iogate")
    grep -qw gpiod_chip_get_line_info <<<"$IMPORTS" ||
        fail "iogate does not import gpiod_chip_get_line_info: not built against v2"
    "$BIN/iogate" gpio lines || fail "'iogate gpio lines' failed against libgpiod $VERSION"
    info "running GPIODBindingTests against libgpiod $VERSION"
    "$SWIFT" test "${SWIFT_FLAGS[@]}" --filter GPIODBindingTests || fail "GPIODBindingTests failed against libgpiod $VERSION"
    info "Swift package against libgpiod $VERSION: OK"
fi
info "PASS (libgpiod $VERSION, $ARCH)"
