#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run). It sets everything up (scripts/setup.sh), then:
#  1. builds everything once with clang, AddressSanitizer + UndefinedBehaviorSanitizer and
#     warnings as errors (build-san; -DSORTD_FUZZ=ON, so the same build holds the libFuzzer
#     targets), and runs the whole suite there with CTest: every unit and integration test, the
#     crash harness (200 SIGKILLs of sortd) and the fault harness, the browser tests, the fuzz
#     corpora. Any sanitizer report fails its test (tests/CMakeLists.txt);
#  2. runs every parser's fuzz target for a bounded time and prints its execution count
#     (tests/fuzz/run-all.sh);
#  3. builds the tests whose code runs several threads with ThreadSanitizer (build-tsan) and
#     runs them (`ctest -L threads`).
# The demo (scripts/demo.sh) uses its own, unsanitized gcc build in build/.
#   scripts/test.sh [ctest args for stage 1...]
#   SORTD_FUZZ_SECONDS=N (per target, default 20), SORTD_SKIP_FUZZ=1, SORTD_SKIP_TSAN=1
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { echo "== test.sh: $* ($(date -u +%H:%M:%S))"; }

stage "set-up and the ASan+UBSan build"
start=$(date +%s)
CC=clang CXX=clang++ scripts/setup.sh build-san -DSORTD_FUZZ=ON -DSORTD_WERROR=ON
echo "test.sh: clang ASan+UBSan build: $(( $(date +%s) - start )) s"
scripts/check-format.sh

stage "the whole suite under ASan+UBSan"
(cd build-san && ctest --output-on-failure --timeout 900 -j2 "$@")
# The crash and fault harnesses' counts (kills survived, faults injected, parcels and commands
# checked), which CTest keeps in its log when the tests pass.
grep -h "^crash harness:" build-san/Testing/Temporary/LastTest.log 2>/dev/null || true

if [ "${SORTD_SKIP_FUZZ:-0}" != 1 ]; then
  stage "fuzzing"
  tests/fuzz/run-all.sh build-san "${SORTD_FUZZ_SECONDS:-20}"
fi

if [ "${SORTD_SKIP_TSAN:-0}" != 1 ]; then
  stage "the threaded tests under TSan"
  scripts/test-tsan.sh
fi
stage "all passed"
