#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds once, and runs the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
scripts/check-format.sh
cd build
ctest --output-on-failure --timeout 600 -j2 "$@"
