#!/usr/bin/env bash
# ThreadSanitizer stage of the test suite (scripts/test.sh runs it last): a clang build with
# -DSORTD_SANITIZE=thread in build-tsan of the tests labelled `threads` (tests/CMakeLists.txt:
# the daemon with its loop, drivers and bus; drivers with in-process simulators; the HMI
# gateway), and those tests. Any data race or lock-order report fails its test.
#   scripts/test-tsan.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build-tsan
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSORTD_SANITIZE=thread -DSORTD_BUILD_BENCH=OFF -DSORTD_WERROR=ON > "$BUILD.configure.log" ||
    { cat "$BUILD.configure.log"; exit 1; }
fi
# The tests' names are their targets' names; building them builds what they run (sortd,
# sort-sim, sortctl are their dependencies).
mapfile -t targets < <(cd "$BUILD" && ctest -N -L threads | sed -n 's/^ *Test *#[0-9]*: //p')
start=$(date +%s)
cmake --build "$BUILD" -j "$(nproc)" --target "${targets[@]}"
echo "test-tsan: clang TSan build of ${#targets[@]} tests: $(( $(date +%s) - start )) s"
(cd "$BUILD" && ctest --output-on-failure --timeout 900 -j2 -L threads "$@")
