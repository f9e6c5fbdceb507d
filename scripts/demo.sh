#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds, and runs the demo station: the daemon with
# simulated scanner, printer and sorter and a stream of demo parcels.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec build/controller/sortd --demo "$@"
