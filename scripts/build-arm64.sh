#!/usr/bin/env bash
# Builds release aarch64 `iogate` and `iogated` on a Debian 12 x86_64 machine with Debian 13 (trixie)'s
# packaged Swift 6.0.3 as the cross compiler, or (--native-amd64) builds the package for amd64 with that
# same compiler, so CI proves the code compiles with the Swift that Debian 13 and Raspberry Pi OS ship.
#
# Why this shape: the Swift 6.3 toolchain on this machine cannot target aarch64 Linux (it has no aarch64
# runtime, and Debian's aarch64 Foundation/Dispatch are binary modules built by 6.0.3, which 6.3 refuses
# to import). So the compiler is Debian 13's own `swiftlang` in a Debian 13 amd64 root filesystem
# (mmdebstrap), and the target is a sysroot unpacked with `dpkg-deb -x` from Debian 13 arm64 packages
# (C libraries plus the aarch64 Swift runtime from `swiftlang:arm64`), described to SwiftPM as a Swift SDK
# (scripts/arm64/*.json). The system's apt sources are never touched: the root filesystem comes from
# mmdebstrap's own apt, the arm64 packages from a private apt state under the cache directory.
#
# Usage: scripts/build-arm64.sh [--native-amd64 [--test]] [--package-path DIR] [--product NAME]...
#   (default)         release, --static-swift-stdlib, aarch64; stripped products in DIR/.build-arm64/bin/
#   --native-amd64    release build of every product for amd64 with the same compiler (README's on-board
#                     command), proving the code builds with the Swift that Debian 13 ships
#   --test            with --native-amd64: also build and run the tests with 6.0.3 (they do not compile
#                     with it yet: Swift Testing 6.0's #expect(throws:) returns no error to inspect)
#   --package-path D  the Swift package to build (default: this repository)
#   --product NAME    products to strip and report (repeatable; default: iogate iogated)
#   --prepare         only create (or check) the cached root filesystem and sysroot
# Environment:
#   IOGATE_ARM64_CACHE            cache directory (default /var/tmp/iogate-arm64); about 3.1 GB
#   IOGATE_ARM64_MIRROR           Debian archive URL (default: the first .../debian in /etc/apt/sources.list*)
#   IOGATE_ARM64_SECURITY_MIRROR  Debian security archive URL (default: likewise .../debian-security)
# Needs root (mmdebstrap, chroot, bind mounts). Runs without a terminal (CI). Build output lives under
# DIR/.build-arm64/ (git-ignored): aarch64/ and amd64/ are the SwiftPM scratch directories, bin/ holds
# the stripped aarch64 binaries.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATES=$REPO/scripts/arm64
CACHE=${IOGATE_ARM64_CACHE:-/var/tmp/iogate-arm64}
SUITE=trixie
SDK_ID=iogate-debian13-aarch64
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# Bump when the way a cache entry is made changes, so old entries are not reused.
LAYOUT=1

# The Debian 13 amd64 root filesystem: the compiler, and what the native build needs. libc6-dev is only a
# Recommends of gcc, but swiftc links Package.swift manifests (and amd64 programs) against it.
ROOTFS_PACKAGES=(
    swiftlang                  # Swift 6.0.3 (clang and lld come with it, in /usr/libexec/swift/bin)
    libc6-dev                  # crt1.o/crti.o for linking manifests and native programs
    libstdc++-14-dev           # native amd64 build: --static-swift-stdlib links -lstdc++
    git                        # SwiftPM clones dependencies
    pkg-config                 # the CGPIOD system library target is found through pkg-config
    libseccomp-dev             # native amd64 build: CIOGateSys links libseccomp
    libgpiod-dev               # native amd64 build: libgpiod (v2 in Debian 13)
    binutils-aarch64-linux-gnu # aarch64-linux-gnu-strip (the Swift package has no llvm-strip)
    file                       # reports what was built
    # --test: what the tests run (scripts/setup.sh installs the same on a board or workstation)
    python3                    # socket activation, peer identity, startup safety, pigpio client tests
    strace                     # window-relative test: checks the bytes the client sends
    pigpio-tools               # pigs: the pigpio frontend's end-to-end tests
    python3-pigpio             # ... the Python pigpio module
    python3-gpiozero           # ... and gpiozero's PiGPIOFactory
    libpigpiod-if2-1           # ... and a C program linked against libpigpiod_if2
    systemd                    # systemd-analyze verify: systemd/iogated.{socket,service}
    udev                       # udevadm test: udev/90-iogate.rules
)

# The arm64 sysroot, unpacked with dpkg-deb -x. swiftlang:arm64 is 2 GB unpacked; only its aarch64
# runtime (usr/libexec/swift/lib/{swift,swift_static,clang}) is kept, without the parts a cross build
# never reads (SWIFT_TRIM).
SYSROOT_PACKAGES=(
    libc6 libc6-dev libgcc-s1 libgcc-14-dev libstdc++6 libstdc++-14-dev linux-libc-dev
    libseccomp2 libseccomp-dev libgpiod3 libgpiod-dev
    libswiftlang # aarch64 shared Swift runtime (usr/libexec/swift/lib/swift/linux/*.so)
    swiftlang    # aarch64 Swift modules (lib/swift/linux) and static runtime (lib/swift_static/linux)
)
SWIFT_KEEP=(./usr/libexec/swift/lib/swift ./usr/libexec/swift/lib/swift_static ./usr/libexec/swift/lib/clang)
SWIFT_TRIM=(host embedded pm FrameworkABIBaseline migrator) # under usr/libexec/swift/lib/swift

die() {
    echo "build-arm64: $*" >&2
    exit 1
}
say() { echo "build-arm64: $*"; }
usage() {
    sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

MODE=aarch64
RUN_TESTS=0
PREPARE_ONLY=0
PACKAGE=$REPO
PRODUCTS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --native-amd64) MODE=amd64 ;;
        --test) RUN_TESTS=1 ;;
        --prepare) PREPARE_ONLY=1 ;;
        --package-path)
            [ $# -ge 2 ] || die "--package-path needs a directory"
            PACKAGE=$(cd "$2" && pwd) || die "--package-path: no directory '$2'"
            shift
            ;;
        --product)
            [ $# -ge 2 ] || die "--product needs a name"
            PRODUCTS+=("$2")
            shift
            ;;
        -h | --help) usage 0 ;;
        *) echo "build-arm64: unknown argument '$1'" >&2; usage 2 >&2 ;;
    esac
    shift
done
[ ${#PRODUCTS[@]} -gt 0 ] || PRODUCTS=(iogate iogated)
[ "$RUN_TESTS" = 0 ] || [ "$MODE" = amd64 ] || die "--test only goes with --native-amd64 (aarch64 tests cannot run here)"
[ -f "$PACKAGE/Package.swift" ] || die "no Package.swift in $PACKAGE"
[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap, chroot and bind mounts need it)"
[ "$(uname -m)" = x86_64 ] || die "this script cross-compiles from x86_64; this machine is $(uname -m)"
for f in info.json swift-sdk.json toolset.json SDKSettings.json; do
    [ -f "$TEMPLATES/$f" ] || die "missing $TEMPLATES/$f"
done

START=$SECONDS
phase_start=$SECONDS
phase() {
    say "$1: $((SECONDS - phase_start)) s"
    phase_start=$SECONDS
}

# ---- host prerequisites --------------------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
for tool in dpkg-deb flock unshare chroot sha256sum; do
    command -v "$tool" >/dev/null || die "'$tool' is missing (dpkg, util-linux and coreutils provide them)"
done
if ! command -v mmdebstrap >/dev/null; then
    say "installing mmdebstrap from the system's own apt sources"
    apt-get -o DPkg::Lock::Timeout=600 update -q
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends mmdebstrap
fi
[ -s "$KEYRING" ] || die "$KEYRING is missing (package debian-archive-keyring); it verifies Debian 13's archive"

# The same mirror hosts the system uses (a machine may only reach its configured mirror).
sources_urls() {
    local files=()
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -gt 0 ] || return 0
    grep -hv '^[[:space:]]*#' "${files[@]}" | grep -oE '(https?|ftp)://[^][ "]+' | sed 's:/*$::' || true
}
MIRROR=${IOGATE_ARM64_MIRROR:-$(sources_urls | grep -E '/debian$' | head -1 || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${IOGATE_ARM64_SECURITY_MIRROR:-$(sources_urls | grep -E '/debian-security$' | head -1 || true)}
SECURITY=${SECURITY:-${MIRROR%/debian}/debian-security}
SOURCES=(
    "deb [signed-by=$KEYRING] $MIRROR $SUITE main"
    "deb [signed-by=$KEYRING] $MIRROR $SUITE-updates main"
    "deb [signed-by=$KEYRING] $SECURITY $SUITE-security main"
)

# ---- cache keys ----------------------------------------------------------------------------------
key_of() { printf '%s\n' "$LAYOUT" "$SUITE" "$@" | sha256sum | cut -c1-16; }
ROOTFS_KEY=$(key_of rootfs "${ROOTFS_PACKAGES[@]}")
SYSROOT_KEY=$(key_of sysroot "${SYSROOT_PACKAGES[@]}" "${SWIFT_KEEP[@]}" "${SWIFT_TRIM[@]}")
ROOTFS=$CACHE/rootfs-$ROOTFS_KEY
SDKS=$CACHE/sdks-$SYSROOT_KEY                   # what --swift-sdks-path points at
BUNDLE=$SDKS/$SDK_ID.artifactbundle
SYSROOT=$BUNDLE/aarch64/sysroot
mkdir -p "$CACHE"

# Cache entries are made under one lock, in a temporary directory renamed when complete, so a run
# that was killed half-way leaves nothing that looks usable and concurrent runs do not race.
exec 9>"$CACHE/lock"
flock 9

# Several checkouts (branches with different package lists) share the cache, so an entry is removed
# only when no run has used it for PRUNE_DAYS days, never just because it is not this run's.
PRUNE_DAYS=7
prune() {
    local d
    for d in "$CACHE"/rootfs-* "$CACHE"/sdks-*; do
        [ -d "$d" ] || continue
        [ "$d" = "$ROOTFS" ] || [ "$d" = "$SDKS" ] && continue
        if [ -z "$(find "$d/.iogate-used" -maxdepth 0 -mtime -"$PRUNE_DAYS" 2>/dev/null)" ] &&
            [ -z "$(find "$d" -maxdepth 0 -mtime -"$PRUNE_DAYS")" ]; then
            say "removing cache entry $d (unused for $PRUNE_DAYS days)"
            rm -rf --one-file-system "$d"
        fi
    done
}

made_cache=0
if [ ! -f "$ROOTFS/.iogate-complete" ]; then
    made_cache=1
    say "creating the Debian 13 amd64 root filesystem ($SUITE from $MIRROR) in $ROOTFS"
    rm -rf --one-file-system "$ROOTFS.tmp" "$ROOTFS"
    include=$(IFS=,; echo "${ROOTFS_PACKAGES[*]}")
    # In a private mount namespace, so the /proc, /sys and /dev mounts mmdebstrap makes in the new root
    # vanish even if the run is killed (a left-over mount would make the .tmp directory undeletable).
    unshare --mount --propagation private mmdebstrap --quiet --variant=apt --architectures=amd64 \
        --aptopt='APT::Install-Recommends "false"' --include="$include" \
        "$SUITE" "$ROOTFS.tmp" "${SOURCES[@]}"
    mkdir -p "$ROOTFS.tmp/src" "$ROOTFS.tmp/sdks"
    chroot "$ROOTFS.tmp" dpkg-query -W >"$ROOTFS.tmp/.iogate-manifest"
    touch "$ROOTFS.tmp/.iogate-complete"
    mv "$ROOTFS.tmp" "$ROOTFS"
    phase "root filesystem"
fi

if [ ! -f "$SDKS/.iogate-complete" ]; then
    made_cache=1
    say "creating the Debian 13 arm64 sysroot in $SDKS"
    rm -rf --one-file-system "$SDKS.tmp" "$SDKS"
    apt_dir=$CACHE/apt
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/empty" "$SDKS.tmp/debs"
    : >"$apt_dir/status"
    printf '%s\n' "${SOURCES[@]}" >"$apt_dir/sources.list"
    # Every path apt would read or write is redirected, so the system's sources, lists and dpkg state
    # are neither used nor changed; APT::Architecture makes plain package names mean :arm64.
    apt_opts=(
        -o Dir::State="$apt_dir" -o Dir::State::Lists="$apt_dir/lists" -o Dir::State::status="$apt_dir/status"
        -o Dir::Cache="$apt_dir" -o Dir::Cache::archives="$apt_dir/archives"
        -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts="$apt_dir/empty"
        -o Dir::Etc::Preferences="$apt_dir/empty/none" -o Dir::Etc::PreferencesParts="$apt_dir/empty"
        -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Acquire::Languages=none
        -o APT::Sandbox::User=root -q
    )
    apt-get "${apt_opts[@]}" update
    (cd "$SDKS.tmp/debs" && apt-get "${apt_opts[@]}" download "${SYSROOT_PACKAGES[@]}")
    mkdir -p "$SDKS.tmp/$SDK_ID.artifactbundle/aarch64/sysroot"
    sysroot_tmp=$SDKS.tmp/$SDK_ID.artifactbundle/aarch64/sysroot
    for deb in "$SDKS.tmp"/debs/*.deb; do
        name=$(dpkg-deb -f "$deb" Package)
        dpkg-deb -f "$deb" Package Version Architecture | paste -sd' ' >>"$SDKS.tmp/.iogate-manifest"
        if [ "$name" = swiftlang ]; then
            dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$sysroot_tmp" "${SWIFT_KEEP[@]}"
        else
            dpkg-deb -x "$deb" "$sysroot_tmp"
        fi
    done
    for d in "${SWIFT_TRIM[@]}"; do
        rm -rf "$sysroot_tmp/usr/libexec/swift/lib/swift/$d"
    done
    # Debian 13 is merged-/usr: the packages install under usr/, and base-files' /lib -> usr/lib links
    # (which the linker scripts and the dynamic loader path rely on) must be made by hand.
    for d in bin sbin lib; do
        [ -e "$sysroot_tmp/$d" ] || ln -s "usr/$d" "$sysroot_tmp/$d"
    done
    [ -f "$sysroot_tmp/usr/libexec/swift/lib/swift_static/linux/libswiftCore.a" ] ||
        die "the sysroot has no aarch64 static Swift runtime (swift_static/linux/libswiftCore.a)"
    [ -f "$sysroot_tmp/usr/lib/aarch64-linux-gnu/libc.so" ] || die "the sysroot has no aarch64 libc.so"
    rm -rf "$SDKS.tmp/debs"
    touch "$SDKS.tmp/.iogate-complete"
    mv "$SDKS.tmp" "$SDKS"
    phase "arm64 sysroot"
fi
touch "$ROOTFS/.iogate-used" "$SDKS/.iogate-used"
prune
flock -u 9

# The SDK description is small and copied every run, so editing scripts/arm64/*.json needs no rebuild
# of the sysroot.
cp "$TEMPLATES/info.json" "$BUNDLE/info.json"
cp "$TEMPLATES/swift-sdk.json" "$TEMPLATES/toolset.json" "$BUNDLE/aarch64/"
# swift-driver looks for an SDKSettings.json in every SDK and warns on each compile without one.
cp "$TEMPLATES/SDKSettings.json" "$SYSROOT/"

if [ "$made_cache" = 1 ]; then
    say "cache: $(du -sh --one-file-system "$ROOTFS" | cut -f1) root filesystem, $(du -sh "$SDKS" | cut -f1) sysroot"
fi
say "compiler: $(grep -E '^swiftlang\s' "$ROOTFS/.iogate-manifest" | tr '\t' ' ')"
if [ "$PREPARE_ONLY" = 1 ]; then
    say "prepared in $((SECONDS - START)) s"
    exit 0
fi

# ---- the build, inside the Debian 13 root ---------------------------------------------------------
OUT=$PACKAGE/.build-arm64
mkdir -p "$OUT/home" "$OUT/tmp" "$OUT/bin"

# Dependencies resolve the way they do on the host: git's url.*.insteadOf rewrites (system and root's
# global configuration) are copied into the root, and rewrites to local directories are bind-mounted
# at the same path; root's SwiftPM mirrors.json likewise.
git_rewrites=$(
    {
        git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true
        git config --global --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true
    } | sort -u
)
binds=()
{
    echo "[safe]"
    echo "    directory = *"
    while read -r name value; do
        [ -n "$name" ] || continue
        base=${name#url.}
        base=${base%.insteadof}
        printf '[url "%s"]\n    insteadOf = %s\n' "$base" "$value"
        local_dir=${base#file://}
        case "$local_dir" in /*) [ -d "$local_dir" ] && binds+=("${local_dir%/}") ;; esac
    done <<<"$git_rewrites"
} >"$ROOTFS/etc/gitconfig"
mapfile -t binds < <(printf '%s\n' "${binds[@]+"${binds[@]}"}" | sort -u | sed '/^$/d')
if [ -f /root/.swiftpm/configuration/mirrors.json ]; then
    mkdir -p "$OUT/home/.swiftpm/configuration"
    cp /root/.swiftpm/configuration/mirrors.json "$OUT/home/.swiftpm/configuration/"
fi

SYSROOT_IN=/sdks/$SDK_ID.artifactbundle/aarch64/sysroot
cat >"$OUT/tmp/step.sh" <<EOF
set -euo pipefail
cd /src
export HOME=/src/.build-arm64/home TMPDIR=/tmp
mode=$MODE
products=(${PRODUCTS[*]})
if [ "\$mode" = aarch64 ]; then
    # pkg-config must describe the arm64 libraries, with paths inside the sysroot.
    export PKG_CONFIG_SYSROOT_DIR=$SYSROOT_IN
    export PKG_CONFIG_LIBDIR=$SYSROOT_IN/usr/lib/aarch64-linux-gnu/pkgconfig:$SYSROOT_IN/usr/share/pkgconfig
    export PKG_CONFIG_PATH=
    swift build -c release --static-swift-stdlib --swift-sdks-path /sdks --swift-sdk $SDK_ID \\
        --scratch-path /src/.build-arm64/aarch64
    bin=\$(swift build -c release --swift-sdks-path /sdks --swift-sdk $SDK_ID \\
        --scratch-path /src/.build-arm64/aarch64 --show-bin-path)
    for p in "\${products[@]}"; do
        [ -f "\$bin/\$p" ] || { echo "build-arm64: no product '\$p' in \$bin" >&2; exit 1; }
        aarch64-linux-gnu-strip -o "/src/.build-arm64/bin/\$p" "\$bin/\$p"
        desc=\$(file -b "/src/.build-arm64/bin/\$p")
        case "\$desc" in
            *"ARM aarch64"*) ;;
            *) echo "build-arm64: \$p is not an aarch64 program: \$desc" >&2; exit 1 ;;
        esac
        echo "build-arm64: .build-arm64/bin/\$p: \$(stat -c %s "/src/.build-arm64/bin/\$p") bytes stripped (\$(stat -c %s "\$bin/\$p") unstripped); \$desc"
    done
else
    # The command README.md gives for building on a board with Debian 13's Swift, for amd64.
    swift build -c release --static-swift-stdlib --scratch-path /src/.build-arm64/amd64
    if [ "$RUN_TESTS" = 1 ]; then
        swift test --scratch-path /src/.build-arm64/amd64
    fi
fi
EOF

phase "prepare"
say "building $PACKAGE for $MODE with Debian 13's Swift"
mount_script='set -euo pipefail
rootfs=$1 package=$2 sdks=$3 tmp=$4; shift 4
mount -t proc proc "$rootfs/proc"
mount --bind "$package" "$rootfs/src"
mount --bind "$tmp" "$rootfs/tmp"
mount --bind -o ro "$sdks" "$rootfs/sdks"
for d in "$@"; do
    mkdir -p "$rootfs$d"
    mount --bind -o ro "$d" "$rootfs$d"
done
exec chroot "$rootfs" bash /tmp/step.sh'
# A private mount namespace: every mount vanishes with the build, even if it is killed.
unshare --mount --propagation private bash -c "$mount_script" mount-and-build \
    "$ROOTFS" "$PACKAGE" "$SDKS" "$OUT/tmp" "${binds[@]+"${binds[@]}"}"
phase "build ($MODE)"
say "done in $((SECONDS - START)) s"
