#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds once, and runs the whole test suite with CTest
# (the crash harness included: 200 SIGKILLs of sortd), then the sanitizer stage
# (scripts/test-sanitizers.sh: a clang ASan + UBSan build in which every parser's libFuzzer
# target runs for a bounded time and prints its execution count).
#   scripts/test.sh [ctest args...]     SORTD_SKIP_SANITIZERS=1 skips the sanitizer stage
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
scripts/check-format.sh
(cd build && ctest --output-on-failure --timeout 600 -j2 "$@")
# The crash and fault harnesses' counts (kills survived, faults injected, parcels and commands
# checked), which CTest keeps in its log when the tests pass.
grep -h "^crash harness:" build/Testing/Temporary/LastTest.log 2>/dev/null || true
if [ "${SORTD_SKIP_SANITIZERS:-0}" != 1 ]; then
  scripts/test-sanitizers.sh
fi
