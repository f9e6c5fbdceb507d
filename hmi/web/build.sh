#!/usr/bin/env bash
# Builds the HMI page into OUT (CMake's hmi_web target calls this).
#   hmi/web/build.sh OUT
set -euo pipefail
cd "$(dirname "$0")"
OUT=${1:?usage: build.sh OUT}
if [ ! -x node_modules/.bin/vite ]; then
  echo "hmi/web: node_modules missing: npm ci (scripts/setup.sh does this too)"
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node_modules/.bin/vite build --logLevel warn --emptyOutDir --outDir "$OUT"
