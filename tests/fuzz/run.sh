#!/usr/bin/env bash
# Builds the scanner parser fuzz target with clang (libFuzzer + ASan + UBSan) in a temporary
# directory and runs it for N seconds over the seed corpus. Fails on a crash or sanitizer report.
#   tests/fuzz/run.sh [seconds=60] [extra libFuzzer args...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
secs=${1:-60}
shift || true
CXX=${FUZZ_CXX:-$(command -v clang++ || command -v clang++-14 || true)}
if [ -z "$CXX" ]; then
  echo "fuzz: clang++ not found (scripts/setup.sh installs clang)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src="$root/devices/scanner"
echo "fuzz: building with $CXX"
"$CXX" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/devices" -I"$root/controller" \
  "$here/fuzz_scanner.cpp" "$src/framing.cpp" "$src/gs1.cpp" "$src/decode.cpp" \
  "$src/hid_keyboard.cpp" -o "$work/fuzz_scanner"
# Work on a copy of the corpus: new inputs found stay in the temp dir, the seeds stay as they are.
mkdir -p "$work/corpus"
cp "$here/corpus/scanner/"* "$work/corpus/" 2>/dev/null || true
echo "fuzz: running for ${secs}s over $(ls "$work/corpus" | wc -l) seed(s)"
cd "$work"
# A crashing input is kept in $FUZZ_ARTIFACTS (default: the directory run.sh was started from).
artifacts=${FUZZ_ARTIFACTS:-$OLDPWD}
"$work/fuzz_scanner" -max_total_time="$secs" -max_len=512 -timeout=10 -rss_limit_mb=1024 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" "$work/corpus"
echo "fuzz: no crash in ${secs}s"
