#!/usr/bin/env bash
# IOGate real-kernel harness: boots Debian's cloud kernel under QEMU (TCG) with QEMU's edu device and
# a 128 MiB ivshmem-plain device backed by a host file, runs the real static iogated and iogate inside,
# and turns what the guest reports into PASS/FAIL lines and an exit status.
#
# Usage: Tests/Integration/qemu/run.sh [--standin]
#   --standin   harness development only: busybox devmem replaces iogated/iogate (always fails).
# Environment:
#   IOGATE_QEMU_SCRATCH       build and cache directory (default <repo>/.build-qemu, git-ignored)
#   IOGATE_QEMU_BIN_DIR       use prebuilt static iogated/iogate from here instead of building
#   IOGATE_QEMU_TIMEOUT       seconds for the whole run (default 1800; the first Swift build is most of it)
#   IOGATE_QEMU_BOOT_TIMEOUT  seconds for one boot (default 300; a boot takes 15-50 s)
#   IOGATE_QEMU_BOOTS         which boots to run (default "seabios qboot")
#
# Prints `PASS: ...` / `FAIL: ...` per check and ends with `N passed, M failed`; exits 1 if anything
# failed or a prerequisite is missing. It never skips.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
SCRATCH=${IOGATE_QEMU_SCRATCH:-$REPO/.build-qemu}
WORK=$SCRATCH/qemu-harness
COUNTS=$WORK/counts
TOTAL_TIMEOUT=${IOGATE_QEMU_TIMEOUT:-1800}
BOOT_TIMEOUT=${IOGATE_QEMU_BOOT_TIMEOUT:-300}
BOOTS=${IOGATE_QEMU_BOOTS:-seabios qboot}
QBOOT_ROM=/usr/share/qemu/qboot.rom
KERNEL_META=linux-image-cloud-amd64
SHM_SIZE=$((128 << 20))

# ---- everything runs under one timeout ------------------------------------------------------------
# The inner timeouts below use --foreground so that QEMU, apt and swift stay in this timeout's process
# group, which it kills as a whole when the run overstays.
if [ -z "${IOGATE_QEMU_UNDER_TIMEOUT:-}" ]; then
    mkdir -p "$WORK"
    echo "0 0" > "$COUNTS"
    IOGATE_QEMU_UNDER_TIMEOUT=1 timeout --kill-after=20 "$TOTAL_TIMEOUT" bash "${BASH_SOURCE[0]}" "$@"
    status=$?
    if [ $status = 124 ] || [ $status = 137 ]; then
        read -r passed failed < "$COUNTS"
        echo "FAIL: the harness did not finish within ${TOTAL_TIMEOUT}s (IOGATE_QEMU_TIMEOUT)"
        echo "$passed passed, $((failed + 1)) failed"
        exit 1
    fi
    exit $status
fi

STANDIN=0
for arg in "$@"; do
    case "$arg" in
        --standin) STANDIN=1 ;;
        -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
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
# command -> Debian package that provides it
declare -A PROVIDER=(
    [qemu-system-x86_64]=qemu-system-x86
    [cpio]=cpio
    [gcc]=gcc
    [readelf]=binutils
    [strip]=binutils
    [dpkg-deb]=dpkg
    [apt-get]=apt
    [timeout]=coreutils
    [od]=coreutils
)
BUSYBOX=/bin/busybox

missing_packages() {
    local cmd pkgs=()
    for cmd in "${!PROVIDER[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || pkgs+=("${PROVIDER[$cmd]}")
    done
    # The guest needs a statically linked busybox: the busybox-static package.
    dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || pkgs+=(busybox-static)
    [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || pkgs+=(libc6-dev)
    [ -e "$QBOOT_ROM" ] || pkgs+=(qemu-system-data)
    printf '%s\n' "${pkgs[@]}" | sort -u | grep .
}

APT_UPDATED=0
apt_update() {
    [ $APT_UPDATED = 1 ] && return 0
    APT_UPDATED=1
    timeout --foreground 300 apt-get update -qq
}

step_start=$(now)
need=$(missing_packages)
if [ -n "$need" ]; then
    info "missing Debian packages: $(echo $need)"
    if [ "$(id -u)" != 0 ]; then
        fatal "prerequisites missing and not root, cannot install: $(echo $need) (apt-get install $(echo $need))"
    fi
    apt_update || fatal "apt-get update failed"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive timeout --foreground 600 apt-get install -y -qq --no-install-recommends $need \
        > "$WORK/apt-install.log" 2>&1 || { tail -20 "$WORK/apt-install.log"; fatal "apt-get install $(echo $need) failed"; }
    need=$(missing_packages)
    [ -z "$need" ] || fatal "still missing after apt-get install: $(echo $need)"
fi
command -v swift >/dev/null 2>&1 || [ -n "${IOGATE_QEMU_BIN_DIR:-}" ] || [ $STANDIN = 1 ] ||
    fatal "swift is not on PATH (needed to build the static iogated and iogate)"
if readelf -lW "$BUSYBOX" 2>/dev/null | grep -q 'program interpreter'; then
    fatal "$BUSYBOX is dynamically linked; install busybox-static"
fi
pass "prerequisites present: qemu-system-x86_64 ($(qemu-system-x86_64 --version | head -1 | awk '{print $4}')), static busybox, cpio, gcc, qboot.rom ($(elapsed "$step_start") s)"

# ---- kernel: Debian's cloud kernel, downloaded, not installed ---------------------------------------
step_start=$(now)
KCACHE=$SCRATCH/qemu-cache
mkdir -p "$KCACHE"
kernel_package() {
    apt-cache depends "$KERNEL_META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
KPKG=$(kernel_package)
if [ -z "$KPKG" ]; then
    apt_update || true
    KPKG=$(kernel_package)
fi
VMLINUZ=
if [ -n "$KPKG" ]; then
    VMLINUZ=$KCACHE/$KPKG/vmlinuz
    if [ ! -s "$VMLINUZ" ]; then
        rm -rf "$KCACHE/$KPKG.tmp" && mkdir -p "$KCACHE/$KPKG.tmp"
        download() { (cd "$KCACHE/$KPKG.tmp" && timeout --foreground 300 apt-get download -qq -o APT::Sandbox::User=root "$KPKG"); }
        if ! download; then
            APT_UPDATED=0
            apt_update || true
            download || fatal "apt-get download $KPKG failed"
        fi
        deb=$(ls "$KCACHE/$KPKG.tmp"/*.deb)
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$KCACHE/$KPKG.tmp" --wildcards './boot/vmlinuz-*' './boot/config-*' ||
            fatal "extracting boot/vmlinuz-* from $deb failed"
        mkdir -p "$KCACHE/$KPKG"
        mv "$KCACHE/$KPKG.tmp"/boot/vmlinuz-* "$KCACHE/$KPKG/vmlinuz"
        mv "$KCACHE/$KPKG.tmp"/boot/config-* "$KCACHE/$KPKG/config"
        rm -rf "$KCACHE/$KPKG.tmp"
    fi
else
    # No package lists and no way to get them: fall back to a cached kernel if there is one.
    VMLINUZ=$(ls -t "$KCACHE"/*/vmlinuz 2>/dev/null | head -1)
    [ -n "$VMLINUZ" ] || fatal "cannot resolve $KERNEL_META to a versioned kernel package (apt-cache depends) and none is cached"
    info "apt-cache could not resolve $KERNEL_META; using cached $VMLINUZ"
fi
[ -s "$VMLINUZ" ] || fatal "no kernel image at $VMLINUZ"
KCONFIG=$(dirname "$VMLINUZ")/config
for opt in CONFIG_DEVMEM=y CONFIG_STRICT_DEVMEM=y CONFIG_IO_STRICT_DEVMEM=y; do
    grep -qx "$opt" "$KCONFIG" 2>/dev/null || fatal "kernel $(basename "$(dirname "$VMLINUZ")") lacks $opt"
done
pass "kernel $(basename "$(dirname "$VMLINUZ")") has DEVMEM, STRICT_DEVMEM and IO_STRICT_DEVMEM ($(elapsed "$step_start") s)"

# ---- guest binaries ---------------------------------------------------------------------------------
step_start=$(now)
RUNAS=$WORK/runas
gcc -static -O2 -Wall -Wextra -Werror -o "$RUNAS" "$HERE/guest/runas.c" || fatal "building guest/runas.c with gcc -static failed"

is_static() { ! readelf -lW "$1" 2>/dev/null | grep -q 'program interpreter'; }

BIN_DIR=
if [ $STANDIN = 1 ]; then
    info "--standin: not building iogated/iogate; busybox devmem stands in (the run will FAIL)"
elif [ -n "${IOGATE_QEMU_BIN_DIR:-}" ]; then
    BIN_DIR=$IOGATE_QEMU_BIN_DIR
    info "using prebuilt binaries from $BIN_DIR"
else
    build_log=$WORK/swift-build.log
    : > "$build_log"
    for product in iogated iogate; do
        # shellcheck disable=SC2086
        if ! (cd "$REPO" && swift build -c release -Xswiftc -static-executable --scratch-path "$SCRATCH" \
            --product "$product") >> "$build_log" 2>&1; then
            tail -40 "$build_log"
            fatal "swift build -c release -Xswiftc -static-executable --product $product failed (log: $build_log)"
        fi
    done
    BIN_DIR=$(cd "$REPO" && swift build -c release -Xswiftc -static-executable --scratch-path "$SCRATCH" --show-bin-path 2>/dev/null)
fi
if [ $STANDIN = 0 ]; then
    for b in iogated iogate; do
        [ -x "$BIN_DIR/$b" ] || fatal "no executable $BIN_DIR/$b"
        is_static "$BIN_DIR/$b" || fatal "$BIN_DIR/$b is not statically linked"
    done
    pass "static iogated ($(du -m "$BIN_DIR/iogated" | cut -f1) MB) and iogate ($(du -m "$BIN_DIR/iogate" | cut -f1) MB) built ($(elapsed "$step_start") s)"
fi

# ---- initramfs --------------------------------------------------------------------------------------
step_start=$(now)
ROOT=$WORK/initramfs
INITRD=$WORK/initramfs.cpio
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,etc}
cp "$BUSYBOX" "$ROOT/bin/busybox"
install -m 0755 "$HERE/guest/init" "$ROOT/init"
install -m 0755 "$RUNAS" "$ROOT/bin/runas"
if [ $STANDIN = 0 ]; then
    # Stripped copies: symbols are a quarter of a static Swift binary, and every MB costs boot time.
    strip -o "$ROOT/bin/iogated" "$BIN_DIR/iogated" && strip -o "$ROOT/bin/iogate" "$BIN_DIR/iogate" ||
        fatal "strip of iogated/iogate failed"
    chmod 0755 "$ROOT/bin/iogated" "$ROOT/bin/iogate"
fi
chmod 0755 "$ROOT/etc"
# The kernel opens /dev/console before /init runs; devtmpfs is mounted only later.
if [ "$(id -u)" = 0 ]; then mknod -m 0600 "$ROOT/dev/console" c 5 1; fi
# Uncompressed: decompressing tens of MB under TCG costs more than loading them.
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$INITRD" ||
    fatal "cpio failed to build the initramfs"
pass "initramfs built: $(du -m "$INITRD" | cut -f1) MB ($(elapsed "$step_start") s)"

# ---- one boot ---------------------------------------------------------------------------------------
# Must match value_for in guest/init.
value_for() { # TAG WIDTH SIDE K
    local low=$((($1 << 4) | ($3 << 3) | $4))
    case $2 in
        8) echo $((0x80 | low)) ;;
        16) echo $((0xb000 | low)) ;;
        32) echo $((0xc0de0000 | low)) ;;
        64) echo $((0x0123456789ab0000 | low)) ;;
    esac
}

# file_value FILE OFFSET BYTES -> little-endian value as lower-case hex, zero-padded
file_value() {
    od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -s ' \n' ' ' | awk '{ s = ""; for (i = NF; i >= 1; i--) s = s $i; print s }'
}

# check_backing_file LABEL FILE TAG: every value the guest wrote around each 32 MB boundary is in FILE
check_backing_file() {
    local label=$1 file=$2 tag=$3 k side w b off v want got ok=0 bad=0
    for k in 0 1 2 3 4; do
        b=$((k * 0x2000000))
        for side in 0 1; do
            [ $side = 0 ] && [ $b = 0 ] && continue
            [ $side = 1 ] && [ $b = $SHM_SIZE ] && continue
            for w in 8 16 32 64; do
                if [ $side = 0 ]; then
                    case $w in 64) off=$((b - 8)) ;; 32) off=$((b - 12)) ;; 16) off=$((b - 14)) ;; 8) off=$((b - 15)) ;; esac
                else
                    case $w in 8) off=$b ;; 16) off=$((b + 2)) ;; 32) off=$((b + 4)) ;; 64) off=$((b + 8)) ;; esac
                fi
                v=$(value_for "$tag" $w $side $k)
                want=$(printf "%0$((w / 4))x" "$v")
                got=$(file_value "$file" $off $((w / 8)))
                if [ "$got" = "$want" ]; then
                    ok=$((ok + 1))
                else
                    bad=$((bad + 1))
                    fail "[$label] backing file at BAR2+0x$(printf %x $off) ($w-bit): expected 0x$want, found 0x$got"
                fi
            done
        done
    done
    if [ $bad = 0 ] && [ $ok = 32 ]; then
        pass "[$label] host sees all 32 guest writes around the 32 MB boundaries in the ivshmem backing file"
    fi
}

# boot LABEL TAG [QEMU ARGS...]
boot() {
    local label=$1 tag=$2
    shift 2
    local dir=$WORK/boot-$label
    rm -rf "$dir" && mkdir -p "$dir"
    local shm=$dir/ivshmem.bin console=$dir/console.log results=$dir/results.log
    truncate -s $SHM_SIZE "$shm"
    # The guest reads this back through iogate: host -> device -> /dev/mem -> iogated -> iogate.
    printf 'IOGATEHOSTMARKER' | dd of="$shm" bs=1 seek=$((0x1000)) conv=notrunc status=none
    local append="console=ttyS0 panic=-1 quiet iogate.boot=$label iogate.tag=$tag"
    [ $STANDIN = 1 ] && append="$append iogate.standin=1"
    local start
    start=$(now)
    timeout --foreground --kill-after=5 "$BOOT_TIMEOUT" qemu-system-x86_64 \
        -accel tcg -cpu max -smp 1 -m 1024 \
        -nodefaults -display none -monitor none -no-reboot \
        -serial "file:$console" -serial "file:$results" \
        -kernel "$VMLINUZ" -initrd "$INITRD" -append "$append" \
        -device edu \
        -object "memory-backend-file,id=shm,mem-path=$shm,size=$SHM_SIZE,share=on" \
        -device ivshmem-plain,memdev=shm \
        "$@" > "$dir/qemu.out" 2>&1
    local status=$? seconds
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
    done < "$results"

    if [ $status = 0 ] && grep -q '^GUEST-DONE' "$results"; then
        pass "[$label] QEMU booted, ran the guest checks and exited by itself in $seconds s"
    else
        fail "[$label] QEMU exit status $status after $seconds s, guest finished: $(grep -q '^GUEST-DONE' "$results" && echo yes || echo no)"
        echo "---- last lines of the $label console ($console) ----"
        tail -30 "$console"
        cat "$dir/qemu.out"
        echo "----"
    fi

    # Where BAR2 landed; with qboot it must be above 4 GiB.
    local bar2 base
    bar2=$(grep -m1 '^BAR2 ' "$results" | tr -d '\r')
    base=$(echo "$bar2" | awk '{ print $2 }')
    if [ "$label" = qboot ]; then
        if [ -n "$base" ] && [ $((base)) -ge $((1 << 32)) ]; then
            pass "[$label] ivshmem BAR2 at $base is above 4 GiB"
        else
            fail "[$label] ivshmem BAR2 at '${base}' is not above 4 GiB"
        fi
    fi

    if grep -q '^IVSHMEM-WRITES-DONE' "$results"; then
        check_backing_file "$label" "$shm" "$tag"
    else
        fail "[$label] the guest never reached the ivshmem writes; backing file not checked"
    fi
    info "[$label] boot took $seconds s; $guest_pass guest checks passed, $guest_fail failed; logs in $dir"
}

: > "$WORK/timings"
tag=0
for b in $BOOTS; do
    tag=$((tag + 1))
    case $b in
        seabios) boot seabios $tag ;;
        qboot) boot qboot $tag -bios "$QBOOT_ROM" ;;
        *) fatal "unknown boot '$b' in IOGATE_QEMU_BOOTS (seabios, qboot)" ;;
    esac
done

info "timings: $(awk '{ printf "%s %s s; ", $1, $2 }' "$WORK/timings")whole run $(elapsed "$RUN_START") s"
finish
