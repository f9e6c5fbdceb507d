#!/usr/bin/env bash
# Runs every libFuzzer target of a SORTD_FUZZ=ON build for a bounded time each, one after the
# other, each on a fresh temporary copy of its seed corpus (tests/fuzz/corpus/<name>/, with
# tests/fuzz/dict/<name>.dict when there is one), and prints one line per target with its
# execution count, then a total. Exits non-zero when a target crashed, hit a sanitizer report,
# a failed property, a timeout or the memory limit; the input that did it is kept in the results
# directory, and the line says how to make it a regression input. See docs/fuzzing.md.
#   tests/fuzz/run-all.sh BUILD_DIR [SECONDS_PER_TARGET=60] [TARGET...]
# TARGET is a name as in tests/fuzz/fuzz_<name>.cpp (default: all of them). Environment:
#   FUZZ_RESULTS      results directory (default BUILD_DIR/fuzz-results/<UTC time>): logs, crashes
#   FUZZ_RSS_MB       memory limit per target (default 2048)
#   FUZZ_TIMEOUT      seconds one input may take (default 25)
#   FUZZ_KEEP_CORPUS  1: keep each grown corpus in the results directory (to merge new seeds)
#   FUZZ_NICE         niceness of the fuzzers (default 10)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build=${1:?usage: run-all.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]}
build="$(cd "$build" && pwd)"
secs=${2:-60}
shift 2 2>/dev/null || shift $#
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in "$here"/fuzz_*.cpp; do
    n=$(basename "$src" .cpp)
    targets+=("${n#fuzz_}")
  done
fi
if ! grep -q '^SORTD_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "fuzz: $build is not a SORTD_FUZZ=ON build; configure one with clang:" >&2
  echo "  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DSORTD_FUZZ=ON" >&2
  echo "  cmake --build build-fuzz --target fuzz" >&2
  exit 2
fi
results=${FUZZ_RESULTS:-$build/fuzz-results/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$results"
results="$(cd "$results" && pwd)"
rss=${FUZZ_RSS_MB:-2048}
timeout=${FUZZ_TIMEOUT:-25}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

total=0
failed=()
summary=()
start_all=$SECONDS
echo "fuzz: ${#targets[@]} target(s), ${secs} s each, results in $results"
for name in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$name"
  seeds="$here/corpus/$name"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin not built (cmake --build $build --target fuzz)" >&2
    failed+=("$name")
    summary+=("$(printf '%-16s not built' "$name")")
    continue
  fi
  corpus="$work/$name"
  mkdir -p "$corpus"
  [ -d "$seeds" ] && cp "$seeds"/* "$corpus"/ 2>/dev/null
  seeds_n=$(find "$corpus" -type f | wc -l)
  args=(-max_total_time="$secs" -rss_limit_mb="$rss" -timeout="$timeout" -print_final_stats=1
    -artifact_prefix="$results/$name-")
  [ -f "$here/dict/$name.dict" ] && args+=(-dict="$here/dict/$name.dict")
  case "$name" in
    config) args+=(-max_len=16384) ;;  # the demo station file is 12 kB
    *) args+=(-max_len=4096) ;;
  esac
  # The request target keeps a whole daemon alive across inputs (reachable, not leaked); ZeroMQ
  # and libsodium keep allocations of their own until exit.
  leaks=1
  [ "$name" = request ] && leaks=0
  log="$results/$name.log"
  t0=$SECONDS
  (cd "$work" && ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=0" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    nice -n "${FUZZ_NICE:-10}" "$bin" "${args[@]}" "$corpus" > "$log" 2>&1)
  rc=$?
  took=$((SECONDS - t0))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  peak=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  grown=$(find "$corpus" -type f | wc -l)
  execs=${execs:-0}
  total=$((total + execs))
  rate=$((took > 0 ? execs / took : execs))
  line=$(printf '%-16s %10s execs in %4s s (%6s/s), corpus %4s -> %5s, peak %5s MB' \
    "$name" "$execs" "$took" "$rate" "$seeds_n" "$grown" "${peak:-?}")
  if [ "$rc" -ne 0 ]; then
    artifact=$(ls -t "$results/$name-"* 2>/dev/null | head -1)
    line+=": FAILED (exit $rc)"
    failed+=("$name")
    echo "fuzz: $name FAILED, the end of its log ($log):"
    grep -E 'ERROR|SUMMARY|property failed|runtime error|Test unit written' "$log" | head -20 \
      | sed 's/^/  /'
    if [ -n "$artifact" ]; then
      line+=" input $artifact"
      echo "  the input is $artifact; reproduce it with:"
      echo "    $bin $artifact"
      echo "  then fix the parser and make it a regression input (checked by CTest from then on):"
      echo "    cp $artifact tests/fuzz/corpus/$name/<what-it-is>"
    fi
  else
    line+=": ok"
  fi
  echo "fuzz: $line"
  summary+=("$line")
  if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
    mkdir -p "$results/$name-corpus" && cp "$corpus"/* "$results/$name-corpus"/ 2>/dev/null
  fi
  rm -rf "$corpus"
done

echo "fuzz: summary (${secs} s per target, results in $results)"
for l in "${summary[@]}"; do echo "fuzz:   $l"; done
printf 'fuzz: total %s executions, %s target(s), %s s, %s failed\n' "$total" "${#targets[@]}" \
  "$((SECONDS - start_all))" "${#failed[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
