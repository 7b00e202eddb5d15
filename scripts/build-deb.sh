#!/usr/bin/env bash
# Builds the Debian package iogate_<version>_<arch>.deb from prebuilt release binaries.
#
#   scripts/build-deb.sh ARCH BINDIR [OUTDIR]
#
#   ARCH    amd64 or arm64 (must match the binaries' ELF machine)
#   BINDIR  holds iogate and iogated: for amd64 `swift build -c release --static-swift-stdlib`'s
#           bin path; for arm64 scripts/build-arm64.sh's .build-arm64/bin
#   OUTDIR  where the .deb goes (default: the current directory)
#
# The C client library (clients/c: libiogate.so.0, libiogate.a, iogate.h, iogate.pc) is compiled
# here for ARCH with gcc (amd64) or aarch64-linux-gnu-gcc (arm64) and shipped in the same package.
#
# Environment: IOGATE_DEB_VERSION_SUFFIX is appended to the Debian version (tests build an
# upgrade with "+test1"); IOGATE_DEB_COMPRESS is dpkg-deb's -Z (default xz, which takes minutes
# for these binaries on a busy machine; tests use gzip). Prints the package's path last on stdout.
#
# The version is VERSION (checked against the sources, the binaries and packaging/debian/changelog
# by scripts/check-version.sh) plus the Debian revision of the changelog's latest entry.
# Depends is computed from the binaries' dynamic section: with dpkg-shlibdeps when ARCH is this
# machine's architecture (the libraries are installed here), otherwise from the libraries' sonames
# and the highest symbol versions the binaries need (see foreign_depends below).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
pkgdir="$here/packaging/debian"

die() { echo "build-deb: $*" >&2; exit 1; }

[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: scripts/build-deb.sh ARCH BINDIR [OUTDIR]"
arch="$1"
bindir="$(cd "$2" 2>/dev/null && pwd)" || die "BINDIR '$2' is not a directory"
outdir="${3:-.}"
mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"

case "$arch" in
    amd64) elf_machine="Advanced Micro Devices X86-64"; strip_tool=x86_64-linux-gnu-strip; triplet=x86_64-linux-gnu ;;
    arm64) elf_machine="AArch64"; strip_tool=aarch64-linux-gnu-strip; triplet=aarch64-linux-gnu ;;
    *) die "ARCH is '$arch'; expected amd64 or arm64" ;;
esac
# On an amd64 host plain `strip` is the x86-64 one (binutils); the prefixed name may be missing.
if [ "$arch" = "$(dpkg --print-architecture)" ] && ! command -v "$strip_tool" >/dev/null; then strip_tool=strip; fi
# The C library's compiler: the native gcc for this machine's architecture, else the cross gcc.
if [ "$arch" = "$(dpkg --print-architecture)" ]; then c_cc=gcc; c_ar=ar; else c_cc="$triplet-gcc"; c_ar="$triplet-ar"; fi

for tool in dpkg-deb readelf chrpath make "$strip_tool" "$c_cc" "$c_ar"; do
    command -v "$tool" >/dev/null || die "'$tool' is not installed (apt-get install dpkg-dev binutils chrpath make gcc libc6-dev; for arm64 also binutils-aarch64-linux-gnu gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"
done

for exe in iogate iogated; do
    [ -x "$bindir/$exe" ] || die "$bindir/$exe is missing or not executable"
    machine="$(readelf -h "$bindir/$exe" | sed -n 's/^ *Machine: *//p')"
    [ "$machine" = "$elf_machine" ] || die "$bindir/$exe is for '$machine', not $arch ('$elf_machine')"
done

# --- Version --------------------------------------------------------------------------------
upstream="$("$here/scripts/check-version.sh" "$bindir" | tail -n 1)" || die "version check failed (see above)"
debian_version="$(sed -n '1s/^iogate (\([^)]*\)).*/\1/p' "$pkgdir/changelog")"
version="$debian_version${IOGATE_DEB_VERSION_SUFFIX:-}"
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "Debian version '$version' is not valid"
maintainer="$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$pkgdir/changelog" | head -n 1)"
[ -n "$maintainer" ] || die "packaging/debian/changelog has no ' -- NAME <EMAIL>  DATE' trailer"

# --- Stage the file system ------------------------------------------------------------------
umask 022
stage="$(mktemp -d "${TMPDIR:-/tmp}/iogate-deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
doc="$root/usr/share/doc/iogate"
install -d "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib/systemd/system" "$root/usr/lib/udev/rules.d" \
    "$root/usr/share/iogate/boards" "$doc/examples" "$doc/docs" "$root/etc/iogate" "$root/DEBIAN"

# iogate is a user command; iogated is a daemon an administrator also runs (--check), so sbin.
install -m 0755 "$bindir/iogate" "$root/usr/bin/iogate"
install -m 0755 "$bindir/iogated" "$root/usr/sbin/iogated"
for exe in "$root/usr/bin/iogate" "$root/usr/sbin/iogated"; do
    # SwiftPM links with RUNPATH $ORIGIN; with --static-swift-stdlib nothing is loaded from there,
    # and a package must not search its binaries' own directory (lintian custom-library-search-path).
    if readelf -d "$exe" | grep -qE 'R(UN)?PATH'; then chrpath -d "$exe" >/dev/null; fi
    # Strip debug symbols and the compiler's .comment notes as dh_strip would; keep Swift's metadata
    # sections (--strip-unneeded removes only symbols nothing needs for relocation).
    "$strip_tool" --strip-unneeded --remove-section=.comment "$exe"
done

# The units name /usr/local/bin (scripts/install.sh's default PREFIX); the package installs to /usr.
for unit in iogated.socket iogated.service; do
    sed 's|/usr/local/bin/iogated|/usr/sbin/iogated|g' "$here/systemd/$unit" > "$root/usr/lib/systemd/system/$unit"
    chmod 0644 "$root/usr/lib/systemd/system/$unit"
    if grep -q '/usr/local' "$root/usr/lib/systemd/system/$unit"; then die "systemd/$unit still names /usr/local after rewriting"; fi
done
grep -qx 'ExecStart=/usr/sbin/iogated --config /etc/iogate/iogate.toml' "$root/usr/lib/systemd/system/iogated.service" ||
    die "iogated.service's ExecStart does not run /usr/sbin/iogated --config /etc/iogate/iogate.toml"
install -m 0644 "$here/udev/90-iogate.rules" "$root/usr/lib/udev/rules.d/90-iogate.rules"

# The C client library, built for ARCH with Debian's hardening flags, stripped as dh_strip would.
libdir="/usr/lib/$triplet"
make -s -C "$here/clients/c" B="$stage/libiogate" CC="$c_cc" AR="$c_ar" \
    CFLAGS="-O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2" LDFLAGS="-Wl,-z,relro -Wl,-z,now" \
    PREFIX=/usr LIBDIR="$libdir" DESTDIR="$root" install >&2 || die "building the C library (clients/c) failed"
shlib="$(cd "$root$libdir" && ls libiogate.so.*.*.*)"
machine="$(readelf -h "$root$libdir/$shlib" | sed -n 's/^ *Machine: *//p')"
[ "$machine" = "$elf_machine" ] || die "$shlib is for '$machine', not $arch ('$elf_machine')"
"$strip_tool" --strip-unneeded --remove-section=.comment --remove-section=.note "$root$libdir/$shlib"
"$strip_tool" --strip-debug --remove-section=.comment --remove-section=.note --enable-deterministic-archives \
    "$root$libdir/libiogate.a"
chmod 0644 "$root$libdir/$shlib"
boards=("$here"/boards/*.toml)
[ -e "${boards[0]}" ] || die "no board files in $here/boards"
install -m 0644 "${boards[@]}" "$root/usr/share/iogate/boards/"

# The Python client (clients/python), laid out as Debian lays out Python modules: the package in
# dist-packages and a dist-info carrying its gpiozero entry point, so Debian's python3-gpiozero finds
# the `iogate` pin factory (GPIOZERO_PIN_FACTORY=iogate) with no pip. Standard library only.
pyversion="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/clients/python/pyproject.toml")"
[ -n "$pyversion" ] || die "no version in clients/python/pyproject.toml"
py="$root/usr/lib/python3/dist-packages"
install -d "$py/iogate" "$py/iogate-$pyversion.dist-info"
install -m 0644 "$here"/clients/python/src/iogate/*.py "$here/clients/python/src/iogate/py.typed" "$py/iogate/"
printf 'Metadata-Version: 2.1\nName: iogate\nVersion: %s\nSummary: Client for IOGate'"'"'s iogated: registers, GPIO pins and a gpiozero pin factory\nRequires-Python: >=3.9\n' \
    "$pyversion" > "$py/iogate-$pyversion.dist-info/METADATA"
printf '[gpiozero_pin_factories]\niogate = iogate.gpiozero:IOGateFactory\n' > "$py/iogate-$pyversion.dist-info/entry_points.txt"
printf 'iogate\n' > "$py/iogate-$pyversion.dist-info/top_level.txt"
printf 'dpkg\n' > "$py/iogate-$pyversion.dist-info/INSTALLER"
chmod 0644 "$py/iogate-$pyversion.dist-info"/*

# The shipped configuration (a conffile) and the example. It is packed 0644 root:root (lintian
# non-standard-file-perm otherwise; the group iogate does not exist before postinst), and postinst
# makes it root:iogate 0640 on every configure unless a dpkg-statoverride says otherwise.
install -m 0644 "$here/etc/iogate.toml.example" "$root/etc/iogate/iogate.toml"
install -m 0644 "$here/etc/iogate.toml.example" "$doc/examples/iogate.toml.example"
# README stays uncompressed: the units' Documentation= points at it, and its links to docs/ work.
install -m 0644 "$here/README.md" "$doc/README.md"
install -m 0644 "$here"/docs/*.md "$doc/docs/"
install -m 0644 "$pkgdir/copyright" "$doc/copyright"
gzip -9n < "$pkgdir/changelog" > "$doc/changelog.Debian.gz"
chmod 0644 "$doc/changelog.Debian.gz"
install -d "$root/usr/share/man/man1" "$root/usr/share/man/man8"
gzip -9n < "$here/packaging/man/iogate.1" > "$root/usr/share/man/man1/iogate.1.gz"
gzip -9n < "$here/packaging/man/iogated.8" > "$root/usr/share/man/man8/iogated.8.gz"
chmod 0644 "$root/usr/share/man/man1/iogate.1.gz" "$root/usr/share/man/man8/iogated.8.gz"
if [ -f "$pkgdir/lintian-overrides" ]; then
    install -d "$root/usr/share/lintian/overrides"
    install -m 0644 "$pkgdir/lintian-overrides" "$root/usr/share/lintian/overrides/iogate"
fi

# --- Depends ------------------------------------------------------------------------------
# The ELF files whose imports make Depends: only dynamically linked ones (a release iogate built
# with Swift 6.1 or later is a static executable, Package.swift, and imports nothing).
elves=()
for exe in "$root/usr/bin/iogate" "$root/usr/sbin/iogated" "$root$libdir/$shlib"; do
    if readelf -d "$exe" 2>/dev/null | grep -q '(NEEDED)'; then elves+=("$exe"); fi
done
[ "${#elves[@]}" -gt 0 ] || die "no binary is dynamically linked; expected iogated to be"

# Highest version tag with prefix $1 among the symbols the binaries import (readelf works for any
# architecture): e.g. GLIBC_2.38 -> 2.38.
highest_symbol_version() {
    for exe in "${elves[@]}"; do
        readelf --dyn-syms -W "$exe" | awk '$7 == "UND"' | grep -o "@$1[0-9.]*" | sed "s/^@$1//"
    done | sort -uV | tail -n 1
}

# For ARCH other than this machine's, whose libraries are not installed here. The soname tells the
# package; the floor comes from the symbol versions where the library versions its symbols:
#   libc/libm/ld.so  GLIBC_x.y      -> libc6 (>= x.y)
#   libstdc++        GLIBCXX_3.4.N  -> libstdc++6 (>= the GCC release that added 3.4.N)
#   libgcc_s         GCC_x.y        -> libgcc-s1 (>= x.y)
#   libseccomp, libgpiod: no symbol versions, so no floor (any package with that soname has the API)
# Target: Debian 13 (trixie), where Debian's Swift 6.0.3 builds the arm64 binaries.
foreign_depends() {
    local sonames deps=() glibc glibcxx gcc
    sonames="$(for exe in "${elves[@]}"; do
        readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u)"
    glibc="$(highest_symbol_version GLIBC_)"
    [ -n "$glibc" ] || die "the binaries import no GLIBC_ symbol versions; cannot compute libc6's floor"
    deps+=("libc6 (>= $glibc)")
    for so in $sonames; do
        case "$so" in
            libc.so.6|libm.so.6|ld-linux-aarch64.so.1|ld-linux-x86-64.so.2|libpthread.so.0|libdl.so.2) ;;
            libstdc++.so.6)
                glibcxx="$(highest_symbol_version GLIBCXX_)"
                case "$glibcxx" in
                    3.4.29) deps+=("libstdc++6 (>= 11)") ;;
                    3.4.30) deps+=("libstdc++6 (>= 12)") ;;
                    3.4.31) deps+=("libstdc++6 (>= 13)") ;;
                    3.4.32) deps+=("libstdc++6 (>= 13.2)") ;;
                    3.4.33) deps+=("libstdc++6 (>= 14)") ;;
                    *) die "libstdc++ symbol version GLIBCXX_$glibcxx is not in build-deb.sh's table; add the GCC release that introduced it" ;;
                esac ;;
            libgcc_s.so.1)
                gcc="$(highest_symbol_version GCC_)"
                deps+=("libgcc-s1${gcc:+ (>= $gcc)}") ;;
            libseccomp.so.2) deps+=("libseccomp2") ;;
            libgpiod.so.2) deps+=("libgpiod2") ;;
            libgpiod.so.3) deps+=("libgpiod3") ;;
            *) die "the binaries need $so, which build-deb.sh cannot map to a package; add it to foreign_depends" ;;
        esac
    done
    (IFS=,; echo "${deps[*]}" | sed 's/,/, /g')
}

# dpkg-shlibdeps reads the installed libraries' symbols files: exact floors per imported symbol.
native_depends() {
    local work out
    work="$stage/shlibdeps"
    mkdir -p "$work/debian"
    printf 'Source: iogate\n\nPackage: iogate\nArchitecture: any\n' > "$work/debian/control"
    out="$(cd "$work" && dpkg-shlibdeps -O "${elves[@]/#/-e}" 2>"$stage/shlibdeps.log")" ||
        { cat "$stage/shlibdeps.log" >&2; die "dpkg-shlibdeps failed"; }
    # Its only expected complaint: the binaries are not installed in a package build tree.
    if grep -v 'binaries to analyze should already be installed' "$stage/shlibdeps.log" | grep -q .; then
        cat "$stage/shlibdeps.log" >&2
        die "dpkg-shlibdeps warned (above)"
    fi
    echo "${out#shlibs:Depends=}"
}

if [ "$arch" = "$(dpkg --print-architecture)" ]; then
    libdeps="$(native_depends)"
    how="dpkg-shlibdeps"
else
    libdeps="$(foreign_depends)"
    how="sonames and symbol versions (foreign architecture)"
fi
# adduser: postinst creates the accounts with addgroup/adduser (Priority important, not Essential).
depends="adduser, $libdeps"
echo "build-deb: Depends ($how): $depends" >&2

# --- Control files --------------------------------------------------------------------------
installed_size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s|@INSTALLED_SIZE@|$installed_size|" -e "s|@DEPENDS@|$depends|" \
    "$pkgdir/control.in" > "$root/DEBIAN/control"
if grep -q '@[A-Z_]*@' "$root/DEBIAN/control"; then die "control.in has an unfilled placeholder"; fi
install -m 0644 "$pkgdir/conffiles" "$root/DEBIAN/conffiles"
# libiogate.so.0: the shlibs file tells dpkg-shlibdeps of programs linked against it which package
# provides it; the ldconfig trigger refreshes the linker cache when it is installed or removed.
echo "libiogate 0 iogate (>= ${version%%-*})" > "$root/DEBIAN/shlibs"
echo "activate-noawait ldconfig" > "$root/DEBIAN/triggers"
chmod 0644 "$root/DEBIAN/shlibs" "$root/DEBIAN/triggers"
for script in postinst prerm postrm; do install -m 0755 "$pkgdir/$script" "$root/DEBIAN/$script"; done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
    grep -v '^etc/' | xargs -d '\n' md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

deb="$outdir/iogate_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"${IOGATE_DEB_COMPRESS:-xz}" --build "$root" "$deb" >&2
echo "$deb"
