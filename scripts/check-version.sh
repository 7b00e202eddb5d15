#!/usr/bin/env bash
# Checks that every place naming IOGate's version agrees with VERSION, the single source of truth:
#   - Sources/iogate/IOGateCommand.swift   (`iogate --version`)
#   - Sources/IOGateServer/DaemonMain.swift (`iogated --version`)
#   - packaging/debian/changelog           (upstream part of the Debian version)
#   - with binaries given: what they embed / print
#
#   scripts/check-version.sh [BINDIR]      prints the version on success, exits 1 naming each mismatch
#
# With BINDIR, `iogate --version` and `iogated --version` are run when the binaries are for this
# machine; otherwise (an arm64 build on x86) the version banner is looked for in the binary's bytes.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bindir="${1:-}"
[ -f "$here/VERSION" ] || { echo "check-version: $here/VERSION is missing" >&2; exit 1; }
version="$(tr -d '[:space:]' < "$here/VERSION")"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || {
    echo "check-version: VERSION holds '$version'; expected MAJOR.MINOR.PATCH" >&2; exit 1; }

failures=0
fail() { echo "check-version: $*" >&2; failures=$((failures + 1)); }

# The banner each program prints for --version: "<program> <version> (protocol N)".
check_source() {
    local file="$1" program="$2" found
    found="$(grep -o "\"$program [0-9][0-9.]* (protocol [0-9]*)\"" "$here/$file" || true)"
    if [ -z "$found" ]; then
        fail "$file: no \"$program X.Y.Z (protocol N)\" version banner found"
    elif [ "$(printf '%s\n' "$found" | wc -l)" -ne 1 ]; then
        fail "$file: more than one version banner: $found"
    else
        local v="${found#\"$program }"; v="${v%% *}"
        [ "$v" = "$version" ] || fail "$file says $program $v; VERSION says $version"
    fi
}
check_source Sources/iogate/IOGateCommand.swift iogate
check_source Sources/IOGateServer/DaemonMain.swift iogated

debian_version="$(sed -n '1s/^iogate (\([^)]*\)).*/\1/p' "$here/packaging/debian/changelog")"
[ -n "$debian_version" ] || fail "packaging/debian/changelog: first line is not 'iogate (VERSION-REVISION) ...'"
[ "${debian_version%-*}" = "$version" ] ||
    fail "packaging/debian/changelog's latest entry is $debian_version; its upstream part must be VERSION ($version)"

if [ -n "$bindir" ]; then
    host_machine="$(uname -m)"
    for program in iogate iogated; do
        exe="$bindir/$program"
        [ -x "$exe" ] || { fail "$exe is missing or not executable"; continue; }
        # "Advanced Micro Devices X86-64" or "AArch64" (readelf reads any architecture).
        machine="$(readelf -h "$exe" | sed -n 's/^ *Machine: *//p')"
        native=0
        case "$host_machine:$machine" in
            x86_64:*X86-64*|aarch64:AArch64) native=1 ;;
        esac
        if [ "$native" = 1 ]; then
            printed="$("$exe" --version)" || { fail "$exe --version failed"; continue; }
            [ "${printed#"$program $version "}" != "$printed" ] || fail "$exe --version prints '$printed'; VERSION says $version"
        else
            grep -aqF "$program $version (protocol" "$exe" ||
                fail "$exe ($machine) does not contain the banner '$program $version (protocol'"
        fi
    done
fi

if [ "$failures" -ne 0 ]; then
    echo "check-version: $failures mismatch(es); VERSION ($version) is the source of truth" >&2
    exit 1
fi
echo "$version"
