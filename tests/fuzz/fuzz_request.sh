#!/usr/bin/env bash
# Builds the bus request fuzz target with clang (libFuzzer + ASan, everything it links
# instrumented) in its own build directory, and runs it for N seconds over the seed corpus.
# Fails on a crash, a sanitizer report or a reply that breaks the protocol.
#   tests/fuzz/fuzz_request.sh BUILD_DIR [seconds=60] [extra libFuzzer args...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build=${1:?build dir}
secs=${2:-60}
shift 2 || true
CXX=${FUZZ_CXX:-$(command -v clang++ || command -v clang++-14 || true)}
CC=${FUZZ_CC:-$(command -v clang || command -v clang-14 || true)}
if [ -z "$CXX" ] || [ -z "$CC" ]; then
  echo "fuzz: clang not found (scripts/setup.sh installs clang)" >&2
  exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" -DSORTD_WERROR=OFF \
    -DSORTD_BUILD_BENCH=OFF -DSORTD_FUZZ=ON \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,fuzzer-no-link" -DCMAKE_C_FLAGS="-fsanitize=address"
fi
echo "fuzz: building fuzz_request with $CXX in $build"
cmake --build "$build" --target fuzz_request -j"${FUZZ_JOBS:-2}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp "$here/fuzz_request_corpus/"* "$work/corpus/"
echo "fuzz: running for ${secs}s over $(ls "$work/corpus" | wc -l) seeds"
cd "$work"
ASAN_OPTIONS=detect_leaks=0 "$build/tests/fuzz_request" -max_total_time="$secs" -max_len=4096 \
  -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 "$@" "$work/corpus"
echo "fuzz: no crash in ${secs}s"
