#!/usr/bin/env bash
# Fails when a C++ file is not formatted with the repository's .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cpp' '*.h' 2>/dev/null || find controller devices label-templates hmi tests bench -name '*.cpp' -o -name '*.h')
[ -n "$files" ] || exit 0
bad=$(clang-format --dry-run $files 2>&1 | grep -c 'warning:' || true)
if [ "$bad" != "0" ]; then
  clang-format --dry-run $files 2>&1 | grep 'warning:' | cut -d: -f1 | sort -u | sed 's/^/not formatted: /'
  echo "run: clang-format -i \$(git ls-files '*.cpp' '*.h')"
  exit 1
fi
