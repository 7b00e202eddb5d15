#!/bin/sh
# Tests of the Python client (clients/python) against real iogated daemons on the mock boards.
#
# Called by .ci/run on Debian 12 as root, after `swift build` made .build/debug/iogated (or set
# IOGATED). As root it installs what it needs with apt-get (set IOGATE_PY_SKIP_APT=1 to skip that);
# otherwise those packages must already be there. Exits non-zero on any failure.
#
#   1. every test in clients/python/tests with Debian's /usr/bin/python3 and python3-gpiozero (1.6 on
#      Debian 12): client, GPIO models, CLI, gpiozero factory, and an offline pip install into a venv;
#   2. with network access: `pip install ./clients/python` (build isolation, from PyPI's setuptools)
#      plus gpiozero 2.x into a clean venv, and the gpiozero tests again against that install.
#      Without network this part is reported as SKIPPED, not failed (IOGATE_PY_REQUIRE_GPIOZERO2=1
#      makes it fail).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
IOGATED=${IOGATED:-$repo/.build/debug/iogated}
export IOGATED
PY=/usr/bin/python3
GPIOZERO2=${IOGATE_PY_GPIOZERO2:-gpiozero==2.0.1}

say() { printf '\n==> %s\n' "$*"; }

if [ ! -x "$IOGATED" ]; then
    echo "clients/python/test.sh: no iogated at $IOGATED; run 'swift build' first (or set IOGATED)" >&2
    exit 1
fi

if [ "$(id -u)" = 0 ] && [ "${IOGATE_PY_SKIP_APT:-0}" != 1 ]; then
    say "apt-get install python3 python3-gpiozero python3-venv python3-pip python3-setuptools python3-wheel python3-pkg-resources"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3 python3-gpiozero python3-venv python3-pip \
        python3-setuptools python3-wheel python3-pkg-resources >/dev/null
fi
"$PY" -c 'import gpiozero, venv, ensurepip, setuptools, wheel' || {
    echo "clients/python/test.sh: $PY lacks gpiozero/venv/setuptools/wheel; install python3-gpiozero python3-venv python3-setuptools python3-wheel" >&2
    exit 1
}

tmp=$(mktemp -d /tmp/iogpy-ci-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

say "$PY $("$PY" -c 'import sys; print(sys.version.split()[0])'), gpiozero $("$PY" -c 'import importlib.metadata as m; print(m.version("gpiozero"))'), iogated $IOGATED"
say "$PY -m unittest discover -s clients/python/tests -v"
cd "$here"
IOGATE_REQUIRE_GPIOZERO=1 PYTHONDONTWRITEBYTECODE=1 "$PY" -m unittest discover -s tests -v

say "gpiozero 2.x: pip install ./clients/python $GPIOZERO2 into a clean venv"
"$PY" -m venv "$tmp/gz2"
cp -r "$here" "$tmp/pkg" && rm -rf "$tmp/pkg/tests" "$tmp/pkg/build" "$tmp/pkg"/src/*.egg-info
if "$tmp/gz2/bin/pip" install -q --disable-pip-version-check "$tmp/pkg" "$GPIOZERO2" >"$tmp/pip.log" 2>&1; then
    say "$tmp/gz2/bin/python -m unittest discover -s clients/python/tests -p test_gpiozero.py -v (gpiozero $("$tmp/gz2/bin/python" -c 'import importlib.metadata as m; print(m.version("gpiozero"))'), installed iogate)"
    IOGATE_PY_TEST_INSTALLED=1 IOGATE_REQUIRE_GPIOZERO=1 PYTHONDONTWRITEBYTECODE=1 \
        "$tmp/gz2/bin/python" -m unittest discover -s tests -p 'test_gpiozero.py' -v
else
    tail -5 "$tmp/pip.log"
    if [ "${IOGATE_PY_REQUIRE_GPIOZERO2:-0}" = 1 ]; then
        echo "clients/python/test.sh: could not install $GPIOZERO2 (see above)" >&2
        exit 1
    fi
    say "SKIPPED: gpiozero 2.x tests (pip could not install $GPIOZERO2: no network?)"
fi

say "clients/python: all tests passed"
