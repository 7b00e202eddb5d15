#!/usr/bin/env bash
# IOGate emulated-Raspberry-Pi harness: boots Debian 13's arm64 kernel on QEMU's raspi3b machine (TCG)
# with the kernel package's bcm2837-rpi-3-b.dtb, runs the arm64 iogated and iogate inside on the real
# BCM2835 GPIO block through /dev/mem, and turns what the guest reports into PASS/FAIL lines.
#
# Usage: Tests/Integration/qemu-arm64/run.sh [--standin]
#   --standin   harness development only: a static C stand-in daemon and busybox devmem replace
#               iogated/iogate (always fails, so it can never pass)
# Environment:
#   IOGATE_ARM64_SCRATCH       build and cache directory (default <repo>/.build-qemu-arm64, git-ignored)
#   IOGATE_ARM64_BIN_DIR       aarch64 iogated/iogate to test (default: run scripts/build-arm64.sh and
#                              take <repo>/.build-arm64/bin)
#   IOGATE_ARM64_DEB           an iogate_*_arm64.deb to install in the guest (its postinst runs there)
#   IOGATE_ARM64_TIMEOUT       seconds for the whole run (default 3600; a cold cross build is most of it)
#   IOGATE_ARM64_BOOT_TIMEOUT  seconds for one boot (default 900; a boot takes 1-5 min under TCG)
#   IOGATE_ARM64_BOOTS         which boots to run (default "relaxed strict")
#   IOGATE_ARM64_SUITE         Debian suite for the guest's packages (default trixie)
#
# Prints `PASS: ...` / `FAIL: ...` per check and ends with `N passed, M failed`; exits 1 if anything
# failed or a prerequisite is missing. It never skips.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
SCRATCH=${IOGATE_ARM64_SCRATCH:-$REPO/.build-qemu-arm64}
WORK=$SCRATCH/harness
COUNTS=$WORK/counts
TOTAL_TIMEOUT=${IOGATE_ARM64_TIMEOUT:-3600}
BOOT_TIMEOUT=${IOGATE_ARM64_BOOT_TIMEOUT:-900}
BOOTS=${IOGATE_ARM64_BOOTS:-relaxed strict}
SUITE=${IOGATE_ARM64_SUITE:-trixie}
KERNEL_META=linux-image-arm64
DTB_NAME=bcm2837-rpi-3-b.dtb
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# The guest's packages. gpiod gives gpioinfo/gpioset/gpiomon (libgpiod v2); the libraries are what
# the dynamically linked (glibc) aarch64 binaries need; busybox-static is the guest's userland.
GUEST_PACKAGES="busybox-static libc6 libgcc-s1 libstdc++6 libseccomp2 libgpiod3 gpiod"

# ---- everything runs under one timeout ------------------------------------------------------------
# The inner timeouts use --foreground so that QEMU, apt and the build stay in this timeout's process
# group, which it kills as a whole when the run overstays.
if [ -z "${IOGATE_ARM64_UNDER_TIMEOUT:-}" ]; then
    mkdir -p "$WORK"
    echo "0 0" > "$COUNTS"
    IOGATE_ARM64_UNDER_TIMEOUT=1 timeout --kill-after=20 "$TOTAL_TIMEOUT" bash "${BASH_SOURCE[0]}" "$@"
    status=$?
    if [ $status = 124 ] || [ $status = 137 ]; then
        read -r passed failed < "$COUNTS"
        echo "FAIL: the harness did not finish within ${TOTAL_TIMEOUT}s (IOGATE_ARM64_TIMEOUT)"
        echo "$passed passed, $((failed + 1)) failed"
        exit 1
    fi
    exit $status
fi

STANDIN=0
for arg in "$@"; do
    case "$arg" in
        --standin) STANDIN=1 ;;
        -h | --help) sed -n '2,21p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "run.sh: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
    esac
done

PASSED=0
FAILED=0
save_counts() { echo "$PASSED $FAILED" > "$COUNTS"; }
pass() { PASSED=$((PASSED + 1)); save_counts; echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); save_counts; echo "FAIL: $*"; }
info() { echo "INFO: $*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
    exit $?
}

# A missing prerequisite ends the run at once, loudly.
fatal() {
    fail "$*"
    finish
}

RUN_START=$(now)
mkdir -p "$WORK"

# ---- prerequisites ---------------------------------------------------------------------------------
# command -> Debian 12 package that provides it
declare -A PROVIDER=(
    [qemu-system-aarch64]=qemu-system-arm
    [aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu
    [aarch64-linux-gnu-strip]=binutils-aarch64-linux-gnu
    [readelf]=binutils
    [cpio]=cpio
    [xz]=xz-utils
    [dpkg-deb]=dpkg
    [apt-get]=apt
    [timeout]=coreutils
)

missing_packages() {
    local cmd pkgs=()
    for cmd in "${!PROVIDER[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || pkgs+=("${PROVIDER[$cmd]}")
    done
    [ -e /usr/aarch64-linux-gnu/lib/libc.a ] || pkgs+=(libc6-dev-arm64-cross)
    [ -e "$KEYRING" ] || pkgs+=(debian-archive-keyring)
    printf '%s\n' "${pkgs[@]}" | sort -u | grep .
}

step_start=$(now)
need=$(missing_packages)
if [ -n "$need" ]; then
    info "missing Debian packages: $(echo $need)"
    if [ "$(id -u)" != 0 ]; then
        fatal "prerequisites missing and not root, cannot install: $(echo $need) (apt-get install $(echo $need))"
    fi
    timeout --foreground 300 apt-get update -qq || fatal "apt-get update failed"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive timeout --foreground 900 apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=600 $need > "$WORK/apt-install.log" 2>&1 ||
        { tail -20 "$WORK/apt-install.log"; fatal "apt-get install $(echo $need) failed"; }
    need=$(missing_packages)
    [ -z "$need" ] || fatal "still missing after apt-get install: $(echo $need)"
fi
[ "$(id -u)" = 0 ] || fatal "run.sh must run as root: the initramfs needs a /dev/console node and root-owned setuid-free files"
pass "prerequisites present: qemu-system-aarch64 ($(qemu-system-aarch64 --version | head -1 | awk '{print $4}')), aarch64-linux-gnu-gcc, cpio, xz, apt ($(elapsed "$step_start") s)"

# ---- a private apt state for Debian arm64 packages ----------------------------------------------------
# The system's apt sources and dpkg architectures are never touched: apt reads package lists for
# arm64 from this directory only, from the same mirror hosts the system uses.
APTDIR=$SCRATCH/apt-$SUITE-arm64
DEBS=$SCRATCH/debs
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$DEBS"
touch "$APTDIR/status"

# mirror_uri MATCH: the first URI of the system's apt sources whose path matches MATCH
mirror_uri() {
    local f
    {
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] && awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f"
        done
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] && awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f"
        done
    } | grep -E "$1" | head -1
}
MIRROR=$(mirror_uri '/debian/?$')
SECURITY=$(mirror_uri '/debian-security/?$')
[ -n "$MIRROR" ] || fatal "no Debian archive URI (…/debian) found in /etc/apt/sources.list or sources.list.d"
[ -n "$SECURITY" ] || SECURITY=${MIRROR%/debian*}/debian-security
cat > "$APTDIR/sources.list" <<EOF
deb [signed-by=$KEYRING] $MIRROR $SUITE main
deb [signed-by=$KEYRING] $MIRROR $SUITE-updates main
deb [signed-by=$KEYRING] $SECURITY $SUITE-security main
EOF
APT_OPTS=(
    -o "Dir::State=$APTDIR" -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::State::status=$APTDIR/status"
    -o "Dir::Cache=$APTDIR/cache" -o "Dir::Cache::archives=$APTDIR/cache/archives"
    -o "Dir::Etc::SourceList=$APTDIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
    -o APT::Architecture=arm64 -o APT::Architectures=arm64 -o Acquire::Languages=none
    -o APT::Sandbox::User=root
)
apt_private() { timeout --foreground 600 apt-get "${APT_OPTS[@]}" "$@"; }
apt_cache_private() { apt-cache "${APT_OPTS[@]}" "$@"; }

step_start=$(now)
# Lists older than a day are refreshed (security updates replace the kernel package); a failed
# refresh with lists present is only a warning, so a cached run works offline.
if [ -z "$(find "$APTDIR/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
    if ! apt_private update -qq > "$WORK/apt-update.log" 2>&1; then
        if ls "$APTDIR/lists"/*_Packages* >/dev/null 2>&1; then
            info "apt-get update of the private $SUITE arm64 lists failed; using the old lists ($(tail -1 "$WORK/apt-update.log"))"
        else
            tail -5 "$WORK/apt-update.log"
            fatal "apt-get update of the private $SUITE arm64 lists from $MIRROR failed"
        fi
    fi
fi
KPKG=$(apt_cache_private depends "$KERNEL_META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$KPKG" ] || fatal "cannot resolve $KERNEL_META to a versioned kernel package in $SUITE arm64 (apt-cache depends)"

# fetch_deb PACKAGE -> path of its candidate .deb in $DEBS, downloaded once per version
fetch_deb() {
    local pkg=$1 ver file
    ver=${CANDIDATE[$pkg]:-}
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "no $SUITE arm64 candidate for $pkg" >&2; return 1; }
    file=$DEBS/${pkg}_${ver//:/%3a}_arm64.deb
    if [ ! -s "$file" ]; then
        (cd "$DEBS" && apt_private download -qq "$pkg=$ver") >> "$WORK/apt-download.log" 2>&1 ||
            { tail -3 "$WORK/apt-download.log" >&2; return 1; }
        [ -s "$file" ] || { echo "apt-get download $pkg=$ver gave no $file" >&2; return 1; }
    fi
    echo "$file"
}

# One apt-cache call for every candidate version: each call loads the lists (seconds under load).
declare -A CANDIDATE
# shellcheck disable=SC2086
while read -r pkg ver; do CANDIDATE[$pkg]=$ver; done < <(apt_cache_private policy $KPKG $GUEST_PACKAGES 2>/dev/null |
    awk '/^[^ ].*:$/ { p = substr($1, 1, length($1) - 1) } /Candidate:/ { print p, $2 }')
declare -A DEB
for pkg in $KPKG $GUEST_PACKAGES; do
    DEB[$pkg]=$(fetch_deb "$pkg") || fatal "downloading $pkg ($SUITE arm64) failed (log: $WORK/apt-download.log)"
done
pass "$SUITE arm64 packages at hand: $(for p in $KPKG $GUEST_PACKAGES; do basename "${DEB[$p]}" .deb; done | tr '\n' ' ')($(elapsed "$step_start") s)"

# unpack PACKAGE -> directory with the package's files (dpkg-deb -x), cached per .deb
unpack() {
    local deb=${DEB[$1]} dir
    dir=$SCRATCH/unpacked/$(basename "$deb" .deb)
    if [ ! -e "$dir/.done" ]; then
        rm -rf "$dir" && mkdir -p "$dir" && dpkg-deb -x "$deb" "$dir" && touch "$dir/.done" || return 1
    fi
    echo "$dir"
}

# ---- kernel, device tree, watchdog module ---------------------------------------------------------
step_start=$(now)
KDIR=$(unpack "$KPKG") || fatal "dpkg-deb -x ${DEB[$KPKG]} failed"
KVER=${KPKG#linux-image-}
VMLINUZ=$KDIR/boot/vmlinuz-$KVER
KCONFIG=$KDIR/boot/config-$KVER
DTB=$KDIR/usr/lib/linux-image-$KVER/broadcom/$DTB_NAME
WDT_KO_XZ=$KDIR/usr/lib/modules/$KVER/kernel/drivers/watchdog/bcm2835_wdt.ko.xz
for f in "$VMLINUZ" "$KCONFIG" "$DTB" "$WDT_KO_XZ"; do
    [ -s "$f" ] || fatal "kernel package $KPKG has no ${f#"$KDIR"}"
done
# DEVMEM/STRICT_DEVMEM/IO_STRICT_DEVMEM: the refusal the strict boot checks; PINCTRL_BCM2835 and
# GPIO_CDEV built in: the gpiochip exists without modules; SECCOMP: the daemon's filter;
# SERIAL_8250_BCM2835AUX: the mini UART (ttyS1) the results go to.
for opt in CONFIG_DEVMEM=y CONFIG_STRICT_DEVMEM=y CONFIG_IO_STRICT_DEVMEM=y CONFIG_PINCTRL_BCM2835=y CONFIG_GPIO_CDEV=y \
    CONFIG_SECCOMP=y CONFIG_SECCOMP_FILTER=y CONFIG_SERIAL_AMBA_PL011=y CONFIG_SERIAL_8250_BCM2835AUX=y; do
    grep -qx "$opt" "$KCONFIG" || fatal "kernel $KPKG lacks $opt"
done
pass "kernel $KPKG: DEVMEM, STRICT_DEVMEM, IO_STRICT_DEVMEM, PINCTRL_BCM2835, GPIO_CDEV, SECCOMP_FILTER built in; $DTB_NAME present ($(elapsed "$step_start") s)"

# ---- guest binaries -------------------------------------------------------------------------------
step_start=$(now)
cross_static() { # OUTPUT SOURCE
    aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -Werror -o "$1" "$2" && aarch64-linux-gnu-strip "$1"
}
is_aarch64() { readelf -hW "$1" 2>/dev/null | grep -q 'Machine:.*AArch64'; }
cross_static "$WORK/runas" "$REPO/Tests/Integration/qemu/guest/runas.c" ||
    fatal "cross-compiling Tests/Integration/qemu/guest/runas.c with aarch64-linux-gnu-gcc -static failed"
cross_static "$WORK/batchc" "$HERE/guest/batchc.c" || fatal "cross-compiling guest/batchc.c failed"
if [ $STANDIN = 1 ]; then
    cross_static "$WORK/standind" "$HERE/guest/standind.c" || fatal "cross-compiling guest/standind.c failed"
fi

BIN_DIR=
if [ $STANDIN = 1 ]; then
    info "--standin: not building iogated/iogate; guest/standind.c and busybox devmem stand in (the run will FAIL)"
elif [ -n "${IOGATE_ARM64_BIN_DIR:-}" ]; then
    BIN_DIR=$IOGATE_ARM64_BIN_DIR
    info "using prebuilt aarch64 binaries from $BIN_DIR"
else
    [ -x "$REPO/scripts/build-arm64.sh" ] ||
        fatal "scripts/build-arm64.sh is missing or not executable, and IOGATE_ARM64_BIN_DIR is not set: no aarch64 iogated/iogate to test"
    build_log=$WORK/build-arm64.log
    if ! (cd "$REPO" && timeout --foreground 2400 scripts/build-arm64.sh) > "$build_log" 2>&1; then
        tail -40 "$build_log"
        fatal "scripts/build-arm64.sh failed (log: $build_log)"
    fi
    BIN_DIR=$REPO/.build-arm64/bin
fi
if [ $STANDIN = 0 ]; then
    for b in iogated iogate; do
        [ -x "$BIN_DIR/$b" ] || fatal "no executable $BIN_DIR/$b"
        is_aarch64 "$BIN_DIR/$b" || fatal "$BIN_DIR/$b is not an AArch64 ELF executable ($(file -b "$BIN_DIR/$b" 2>/dev/null))"
    done
    pass "aarch64 iogated ($(du -m "$BIN_DIR/iogated" | cut -f1) MB) and iogate ($(du -m "$BIN_DIR/iogate" | cut -f1) MB) at hand ($(elapsed "$step_start") s)"
fi

if [ -n "${IOGATE_ARM64_DEB:-}" ]; then
    [ -s "$IOGATE_ARM64_DEB" ] || fatal "IOGATE_ARM64_DEB=$IOGATE_ARM64_DEB is not a file"
    [ "$(dpkg-deb -f "$IOGATE_ARM64_DEB" Architecture 2>/dev/null)" = arm64 ] ||
        fatal "IOGATE_ARM64_DEB=$IOGATE_ARM64_DEB is not an arm64 package (Architecture: $(dpkg-deb -f "$IOGATE_ARM64_DEB" Architecture 2>&1))"
fi

# ---- initramfs ------------------------------------------------------------------------------------
step_start=$(now)
ROOT=$WORK/initramfs
INITRD=$WORK/initramfs.cpio
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,usr/lib/aarch64-linux-gnu,dev,proc,sys,run,tmp,etc,var/lib}
# Debian's merged /usr: /lib/ld-linux-aarch64.so.1 (the ELF interpreter) resolves through /lib -> usr/lib.
ln -s usr/lib "$ROOT/lib"
BB=$(unpack busybox-static) || fatal "dpkg-deb -x busybox-static failed"
cp "$BB/usr/bin/busybox" "$ROOT/bin/busybox"
install -m 0755 "$HERE/guest/init" "$ROOT/init"
install -m 0755 "$WORK/runas" "$ROOT/bin/runas"
install -m 0755 "$WORK/batchc" "$ROOT/bin/batchc"
xz -dc "$WDT_KO_XZ" > "$ROOT/bcm2835_wdt.ko" || fatal "decompressing bcm2835_wdt.ko.xz failed"
GPIOD=$(unpack gpiod) || fatal "dpkg-deb -x gpiod failed"
for t in gpioinfo gpioset gpiomon gpioget gpiodetect; do
    install -m 0755 "$GPIOD/usr/bin/$t" "$ROOT/usr/bin/$t" || fatal "gpiod has no /usr/bin/$t"
done
if [ $STANDIN = 1 ]; then
    install -m 0755 "$WORK/standind" "$ROOT/bin/iogated-standin"
else
    aarch64-linux-gnu-strip -o "$ROOT/bin/iogated" "$BIN_DIR/iogated" && aarch64-linux-gnu-strip -o "$ROOT/bin/iogate" "$BIN_DIR/iogate" ||
        fatal "aarch64-linux-gnu-strip of iogated/iogate failed"
    chmod 0755 "$ROOT/bin/iogated" "$ROOT/bin/iogate"
fi
# The repository's board files, outside every default board path: the guest uses them (with a FAIL)
# only if the binaries do not know the Pi 3 by themselves.
mkdir -p "$ROOT/opt/iogate-test/boards"
cp "$REPO"/boards/*.toml "$ROOT/opt/iogate-test/boards/"
if [ -n "${IOGATE_ARM64_DEB:-}" ]; then
    # The package's files go to /deb-root and its maintainer scripts to /deb-control; the guest copies
    # the files into / and runs postinst itself (busybox's dpkg cannot run Debian's postinst).
    mkdir -p "$ROOT/deb-root" "$ROOT/deb-control"
    dpkg-deb -x "$IOGATE_ARM64_DEB" "$ROOT/deb-root" && dpkg-deb -e "$IOGATE_ARM64_DEB" "$ROOT/deb-control" ||
        fatal "unpacking IOGATE_ARM64_DEB=$IOGATE_ARM64_DEB failed"
    dpkg-deb -f "$IOGATE_ARM64_DEB" Package Version Depends > "$ROOT/deb-control/fields"
fi

# The shared libraries every dynamically linked aarch64 ELF in the image needs, resolved from the
# unpacked Debian packages by DT_NEEDED (the closure), so nothing is guessed and nothing is missing.
LIBDIRS=()
for pkg in libc6 libgcc-s1 libstdc++6 libseccomp2 libgpiod3; do
    d=$(unpack "$pkg") || fatal "dpkg-deb -x $pkg failed"
    LIBDIRS+=("$d/usr/lib/aarch64-linux-gnu")
done
find_lib() {
    local d
    for d in "${LIBDIRS[@]}"; do [ -e "$d/$1" ] && { echo "$d/$1"; return 0; }; done
    return 1
}
needed() { readelf -dW "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
declare -A HAVE=()
queue=()
while IFS= read -r f; do
    is_aarch64 "$f" && readelf -lW "$f" | grep -q 'program interpreter' && queue+=("$f")
done < <(find "$ROOT" -type f -perm -u+x)
[ ${#queue[@]} -gt 0 ] || fatal "no dynamically linked aarch64 program in the initramfs (gpioinfo should be one)"
interp=$(find_lib ld-linux-aarch64.so.1) || fatal "libc6 has no ld-linux-aarch64.so.1"
cp -L "$interp" "$ROOT/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1"
ln -s aarch64-linux-gnu/ld-linux-aarch64.so.1 "$ROOT/usr/lib/ld-linux-aarch64.so.1"
HAVE[ld-linux-aarch64.so.1]=1
while [ ${#queue[@]} -gt 0 ]; do
    f=${queue[0]}
    queue=("${queue[@]:1}")
    for lib in $(needed "$f"); do
        [ -n "${HAVE[$lib]:-}" ] && continue
        src=$(find_lib "$lib") || fatal "$(basename "$f") needs $lib, which none of libc6 libgcc-s1 libstdc++6 libseccomp2 libgpiod3 ($SUITE arm64) provides"
        cp -L "$src" "$ROOT/usr/lib/aarch64-linux-gnu/$lib"
        HAVE[$lib]=1
        queue+=("$ROOT/usr/lib/aarch64-linux-gnu/$lib")
    done
done
info "guest libraries: $(ls "$ROOT/usr/lib/aarch64-linux-gnu" | tr '\n' ' ')"

# Accounts: the daemon drops to 65534 (nobody, group nogroup); clients 1000-1002; group gpio owns
# /dev/gpiochip* in the guest as udev/90-iogate.rules makes it on a board.
cat > "$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
alice:x:1000:1000::/tmp:/bin/sh
bob:x:1001:1001::/tmp:/bin/sh
carol:x:1002:1002::/tmp:/bin/sh
EOF
cat > "$ROOT/etc/group" <<'EOF'
root:x:0:
gpio:x:997:alice
nogroup:x:65534:
alice:x:1000:
bob:x:1001:
carol:x:1002:
EOF
printf 'passwd: files\ngroup: files\nshadow: files\n' > "$ROOT/etc/nsswitch.conf"
chmod 0755 "$ROOT/etc"
mknod -m 0600 "$ROOT/dev/console" c 5 1
# Uncompressed: decompressing tens of MB under TCG costs more than loading them.
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$INITRD" ||
    fatal "cpio failed to build the initramfs"
pass "initramfs built: $(du -m "$INITRD" | cut -f1) MB ($(elapsed "$step_start") s)"

# ---- one boot ---------------------------------------------------------------------------------------
# boot LABEL APPEND-EXTRA
boot() {
    local label=$1 extra=$2
    local dir=$WORK/boot-$label
    rm -rf "$dir" && mkdir -p "$dir"
    local console=$dir/console.log results=$dir/results.log
    : > "$results"
    local append="console=ttyAMA0 panic=-1 iogate.boot=$label $extra"
    [ $STANDIN = 1 ] && append="$append iogate.standin=1"
    [ -n "${IOGATE_ARM64_DEB:-}" ] && [ "$label" = relaxed ] && append="$append iogate.deb=1"
    local start status=0 waited=0 done_at=
    start=$(now)
    # raspi3b: the first -serial is the PL011 (uart0, the kernel console ttyAMA0), the second the
    # mini UART (uart1, ttyS1 in the guest), where the guest writes its verdicts, apart from kernel
    # messages. The guest ends by restarting through the BCM2835 watchdog (bcm2835_wdt), which
    # -no-reboot turns into QEMU exiting.
    qemu-system-aarch64 -M raspi3b -accel tcg -m 1G \
        -nodefaults -display none -monitor none -no-reboot \
        -serial "file:$console" -serial "file:$results" \
        -kernel "$VMLINUZ" -dtb "$DTB" -initrd "$INITRD" -append "$append" \
        > "$dir/qemu.out" 2>&1 &
    local qpid=$!
    # Wait for QEMU; if the guest said it is done but QEMU is still there 60 s later, the restart
    # did not happen: kill it and say so.
    while kill -0 $qpid 2>/dev/null; do
        sleep 1
        waited=$((waited + 1))
        if [ -z "$done_at" ] && grep -q '^GUEST-DONE' "$results" 2>/dev/null; then done_at=$waited; fi
        if [ -n "$done_at" ] && [ $((waited - done_at)) -gt 60 ]; then
            kill $qpid; status=killed-after-done; break
        fi
        if [ $waited -ge "$BOOT_TIMEOUT" ]; then
            kill $qpid; status=timeout; break
        fi
    done
    if [ "$status" = 0 ]; then wait $qpid; status=$?; else wait $qpid 2>/dev/null; fi
    local seconds
    seconds=$(elapsed "$start")
    echo "$label $seconds" >> "$WORK/timings"

    # Replay the guest's verdicts.
    local line guest_pass=0 guest_fail=0
    while IFS= read -r line; do
        line=${line%$'\r'}
        case "$line" in
            PASS:*) pass "${line#PASS: }"; guest_pass=$((guest_pass + 1)) ;;
            FAIL:*) fail "${line#FAIL: }"; guest_fail=$((guest_fail + 1)) ;;
            INFO:*) echo "$line" ;;
        esac
    done < <(tr -d '\000' < "$results")

    if [ "$status" = 0 ] && grep -q '^GUEST-DONE' "$results"; then
        pass "[$label] QEMU booted, ran the guest checks and exited by itself in $seconds s"
    else
        fail "[$label] QEMU exit status $status after $seconds s, guest finished: $(grep -q '^GUEST-DONE' "$results" && echo yes || echo no)"
        echo "---- last lines of the $label console ($console) ----"
        tail -30 "$console"
        cat "$dir/qemu.out"
        echo "----"
    fi
    if [ $((guest_pass + guest_fail)) = 0 ]; then
        fail "[$label] the guest reported no checks at all"
    fi
    local kernel_to_init
    kernel_to_init=$(grep -m1 'Run /init as init process' "$console" | sed 's/^\[ *\([0-9.]*\)\].*/\1/')
    info "[$label] boot took $seconds s (kernel to /init: ${kernel_to_init:-?} s guest time); $guest_pass guest checks passed, $guest_fail failed; logs in $dir"
}

: > "$WORK/timings"
for b in $BOOTS; do
    case $b in
        relaxed) boot relaxed "iomem=relaxed" ;;
        strict) boot strict "" ;;
        *) fatal "unknown boot '$b' in IOGATE_ARM64_BOOTS (relaxed, strict)" ;;
    esac
done

info "timings: $(awk '{ printf "%s %s s; ", $1, $2 }' "$WORK/timings")whole run $(elapsed "$RUN_START") s"
finish
