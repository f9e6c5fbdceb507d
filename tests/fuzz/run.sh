#!/usr/bin/env bash
# By hand: configures (once) a clang SORTD_FUZZ=ON build, builds the fuzz targets and runs them
# all with run-all.sh, N seconds each (docs/fuzzing.md).
#   tests/fuzz/run.sh [seconds per target=60] [build dir=build-fuzz] [TARGET...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
secs=${1:-60}
build=${2:-$root/build-fuzz}
shift 2 2>/dev/null || shift $#
CC=${FUZZ_CC:-$(command -v clang || command -v clang-14 || true)}
CXX=${FUZZ_CXX:-$(command -v clang++ || command -v clang++-14 || true)}
if [ -z "$CC" ] || [ -z "$CXX" ]; then
  echo "fuzz: clang not found (scripts/setup.sh installs clang)" >&2
  exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" -DSORTD_FUZZ=ON -DSORTD_BUILD_BENCH=OFF
fi
nice cmake --build "$build" --target fuzz -j"${FUZZ_JOBS:-2}"
exec "$root/tests/fuzz/run-all.sh" "$build" "$secs" "$@"
