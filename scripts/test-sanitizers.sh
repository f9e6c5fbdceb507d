#!/usr/bin/env bash
# The sanitizer half of the test suite (scripts/test.sh runs it after the normal suite): one clang
# build in build-san with AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer
# (-DSORTD_FUZZ=ON, docs/fuzzing.md), in which every parser's fuzz target runs for a bounded
# time, printing its execution count (tests/fuzz/run-all.sh), and replays its corpus of seeds
# and regression inputs.
#   scripts/test-sanitizers.sh [SECONDS_PER_TARGET]   (default SORTD_FUZZ_SECONDS or 20)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-${SORTD_FUZZ_SECONDS:-20}}
BUILD=build-san
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSORTD_FUZZ=ON -DSORTD_BUILD_BENCH=OFF -DSORTD_WERROR=ON > "$BUILD.configure.log" ||
    { cat "$BUILD.configure.log"; exit 1; }
fi
start=$(date +%s)
cmake --build "$BUILD" --target fuzz -j "$(nproc)"
echo "sanitizers: clang ASan+UBSan build of the fuzz targets: $(( $(date +%s) - start )) s"
(cd "$BUILD" && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure --timeout 600 -L fuzz -j2)
tests/fuzz/run-all.sh "$BUILD" "$SECS"
