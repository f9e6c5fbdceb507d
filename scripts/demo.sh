#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds, and runs the demo station over real protocols
# on loopback with its HMI (scripts/run-demo.sh prints the HMI's address). Arguments go to
# scripts/run-demo.sh (e.g. --inproc: the simulated devices inside the daemon).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec scripts/run-demo.sh "$@"
