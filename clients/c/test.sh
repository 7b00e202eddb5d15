#!/usr/bin/env bash
# CI for libiogate (clients/c): on a fresh Debian 12 machine as root, after `swift build` has built
# .build/debug/iogated (or with IOGATED=path). Installs the C toolchain, valgrind and pkg-config
# with apt-get when run as root, then:
#   1. builds the shared and static library with -Wall -Wextra -Werror (the Makefile's flags);
#   2. make check: the wire tests (scripted fake daemon) and the tests against real iogated daemons
#      on the mock Raspberry Pi 3, 4 and 5 and the BeagleBone Black;
#   3. the same under valgrind (memcheck, leaks), then built with ASan and UBSan;
#   4. make install DESTDIR=...: the test suite and examples/gpio17.c compiled against the INSTALLED
#      header and iogate.pc (pkg-config), linked shared and static, and run against the daemons.
# Prints a line per stage; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")"
here="$(pwd)"
export IOGATED="${IOGATED:-$(cd ../.. && pwd)/.build/debug/iogated}"
started=$SECONDS
stage() { echo; echo "== clients/c [$((SECONDS - started)) s] $*"; }

[ -x "$IOGATED" ] || { echo "test.sh: $IOGATED is missing; run 'swift build' first (or set IOGATED)" >&2; exit 2; }
if [ "$(id -u)" = 0 ]; then
    stage "apt-get: gcc, make, pkg-config, valgrind"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        gcc libc6-dev make pkg-config valgrind binutils >/dev/null
fi
for tool in cc make pkg-config valgrind readelf; do
    command -v "$tool" >/dev/null || { echo "test.sh: $tool is missing (apt-get install gcc make pkg-config valgrind binutils)" >&2; exit 2; }
done

stage "build: libiogate.so.0 and libiogate.a, -Wall -Wextra -Werror"
make -s clean
make -s all
soname="$(readelf -d build/libiogate.so.0.1.0 | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[ "$soname" = libiogate.so.0 ] || { echo "test.sh: soname is '$soname', expected libiogate.so.0" >&2; exit 1; }
exported="$(nm -D --defined-only build/libiogate.so.0.1.0 | awk '{print $3}' | grep -v '^iogate_' || true)"
[ -z "$exported" ] || { echo "test.sh: the shared library exports symbols outside iogate_*: $exported" >&2; exit 1; }
echo "soname $soname; $(nm -D --defined-only build/libiogate.so.0.1.0 | grep -c ' T iogate_') functions exported"

stage "make check: wire tests and real iogated on the mock Pi 3, 4, 5 and BeagleBone Black"
make -s check

stage "make check under valgrind (memcheck, leaks are errors)"
make -s check TEST_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --child-silent-after-fork=yes"

stage "make check built with AddressSanitizer and UndefinedBehaviorSanitizer"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
ASAN_OPTIONS=detect_leaks=1 make -s check B=build-san CFLAGS="-O1 -g $san" LDFLAGS="$san"
rm -rf build-san

stage "make install DESTDIR; programs built with the installed header and iogate.pc, shared and static"
dest="$(mktemp -d /tmp/iogate-cinstall.XXXXXX)"
trap 'rm -rf "$dest"' EXIT
make -s install PREFIX=/usr/local DESTDIR="$dest"
for f in include/iogate.h lib/libiogate.so.0.1.0 lib/libiogate.so.0 lib/libiogate.so lib/libiogate.a lib/pkgconfig/iogate.pc; do
    [ -e "$dest/usr/local/$f" ] || { echo "test.sh: make install did not install /usr/local/$f" >&2; exit 1; }
done
[ "$(readlink "$dest/usr/local/lib/libiogate.so.0")" = libiogate.so.0.1.0 ] || { echo "test.sh: libiogate.so.0 link wrong" >&2; exit 1; }
export PKG_CONFIG_PATH="$dest/usr/local/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_LIBDIR=/nonexistent
cflags="$(pkg-config --cflags iogate | sed "s/ *$//")"
libs="$(pkg-config --libs iogate | sed "s/ *$//")"
echo "pkg-config iogate $(pkg-config --modversion iogate): --cflags '$cflags' --libs '$libs'"
[ "$cflags" = "-I$dest/usr/local/include" ] || { echo "test.sh: unexpected cflags" >&2; exit 1; }
mkdir -p "$dest/bin"
# Plain cc in a directory of its own, so nothing but the installed files can be found.
(cd "$dest/bin" &&
    cc -std=c11 -Wall -Wextra -Werror -o test_shared "$here/tests/test_iogate.c" $cflags $libs &&
    cc -std=c11 -Wall -Wextra -Werror -o test_static "$here/tests/test_iogate.c" $cflags -Wl,-Bstatic $libs -Wl,-Bdynamic &&
    cc -std=c99 -Wall -Wextra -Werror -o gpio17_shared "$here/examples/gpio17.c" $cflags $libs &&
    cc -std=c99 -Wall -Wextra -Werror -o gpio17_static "$here/examples/gpio17.c" $cflags -Wl,-Bstatic $libs -Wl,-Bdynamic)
for p in test_static gpio17_static; do
    if readelf -d "$dest/bin/$p" | grep -q 'libiogate'; then echo "test.sh: $p needs libiogate.so; expected a static link" >&2; exit 1; fi
done
export LD_LIBRARY_PATH="$dest/usr/local/lib"
resolved="$(ldd "$dest/bin/test_shared" | awk '/libiogate/ {print $3}')"
[ "$resolved" = "$dest/usr/local/lib/libiogate.so.0" ] || { echo "test.sh: test_shared loads '$resolved', not the installed library" >&2; exit 1; }
echo "test_shared loads $resolved; test_static and gpio17_static have no libiogate dependency"
tests/run.sh "$dest/bin/test_shared"
tests/run.sh "$dest/bin/test_static"
tests/run.sh "$dest/bin/gpio17_shared"
tests/run.sh "$dest/bin/gpio17_static"

stage "clients/c: all passed"
