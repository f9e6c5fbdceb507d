#!/usr/bin/env bash
# Builds a scanner parser fuzz target with clang (libFuzzer + ASan + UBSan) in a temporary
# directory and runs it for N seconds over its seed corpus. Fails on a crash or sanitizer report.
#   [FUZZ_TARGET=scanner|hidpos] tests/fuzz/run.sh [seconds=60] [extra libFuzzer args...]
# scanner: framing, decoder, GS1, HID keyboard (fuzz_scanner.cpp, corpus/scanner/);
# hidpos: HID report descriptors and HID POS reports (fuzz_hidpos.cpp, corpus/hidpos/).
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
target=${FUZZ_TARGET:-scanner}
src="$root/devices/scanner"
case "$target" in
  scanner)
    sources=("$here/fuzz_scanner.cpp" "$src/framing.cpp" "$src/gs1.cpp" "$src/decode.cpp"
      "$src/hid_keyboard.cpp")
    max_len=512 ;;
  hidpos)
    sources=("$here/fuzz_hidpos.cpp" "$src/hid_pos.cpp" "$src/framing.cpp" "$src/gs1.cpp"
      "$src/decode.cpp")
    max_len=2048 ;;
  *)
    echo "fuzz: unknown FUZZ_TARGET '$target' (scanner, hidpos)" >&2
    exit 1 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fuzz: building fuzz_$target with $CXX"
"$CXX" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/devices" -I"$root/controller" "${sources[@]}" -o "$work/fuzz_$target"
# Work on a copy of the corpus: new inputs found stay in the temp dir, the seeds stay as they are.
mkdir -p "$work/corpus"
cp "$here/corpus/$target/"* "$work/corpus/" 2>/dev/null || true
echo "fuzz: running for ${secs}s over $(ls "$work/corpus" | wc -l) seed(s)"
cd "$work"
# A crashing input is kept in $FUZZ_ARTIFACTS (default: the directory run.sh was started from).
artifacts=${FUZZ_ARTIFACTS:-$OLDPWD}
"$work/fuzz_$target" -max_total_time="$secs" -max_len=$max_len -timeout=10 -rss_limit_mb=1024 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" "$work/corpus"
echo "fuzz: no crash in ${secs}s"
