#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/) with AddressSanitizer and runs each for a bounded time on a
# scratch copy of its seed corpus (Fuzz/corpus/<target>/; the committed corpus is never grown).
# Fails on any crash, leak, timeout or out-of-memory, printing the input that caused it.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    # default: 60 s each for protocol, config and board
#
# Reproduce a failure:  SWIFT_BACKTRACE=enable=no .build-fuzz/<triple>/release/fuzz-<target> <input>
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(protocol config board)

scratch=.build-fuzz
work=$scratch/run
# The fuzz targets exist in Package.swift only when IOGATE_FUZZ is set. Swift code gets coverage and
# ASan from -Xswiftc (one -sanitize list: swiftc keeps only the last -sanitize flag); --sanitize
# instruments the C targets as well and links libFuzzer, which provides main().
build=(env IOGATE_FUZZ=1 swift build -c release --scratch-path "$scratch"
       --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address)
# The Swift runtime's backtracer would take over crashes from libFuzzer's handler.
export SWIFT_BACKTRACE=enable=no
# Known leaks outside IOGate's code, if any (see the file); leaks in IOGate's code are reported.
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0"

for t in "${targets[@]}"; do
    echo "== build fuzz-$t"
    if ! "${build[@]}" --product "fuzz-$t" 2>&1 | { grep -v "Cannot export local symbol" || true; }; then
        echo "fuzz: build of fuzz-$t failed"
        exit 1
    fi
done
bin=$("${build[@]}" --show-bin-path)

rm -rf "$work"
passed=0
failed=0
for t in "${targets[@]}"; do
    corpus=$work/$t/corpus
    artifacts=$work/$t/artifacts
    mkdir -p "$corpus" "$artifacts"
    cp Fuzz/corpus/"$t"/* "$corpus"/
    echo "== fuzz-$t for ${seconds}s"
    "$bin/fuzz-$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -detect_leaks=1 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$work/$t/log" 2>&1
    status=$?
    grep -aE "^#[0-9]+\s+(INITED|DONE)|^Done [0-9]+ runs|^stat::number_of_executed_units|^stat::peak_rss" "$work/$t/log"
    found=$(find "$artifacts" -type f | sort)
    if [ "$status" -eq 0 ] && [ -z "$found" ]; then
        echo "fuzz-$t: passed"
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "fuzz-$t: FAILED (exit $status); last lines of $work/$t/log:"
        tail -n 60 "$work/$t/log"
        for f in $found; do
            echo "fuzz-$t: failing input: $f ($(wc -c <"$f") bytes), base64:"
            head -c 4096 "$f" | base64
        done
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
