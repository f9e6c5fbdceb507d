#!/usr/bin/env bash
# Regenerates the replay regression log: records a fresh demo run (simulated devices, demo
# orders) to tests/replay/demo.events and writes the decisions it replays to
# tests/replay/demo.expected. Review the diff before committing it.
#   scripts/regen-replay.sh [seconds]     (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
out=tests/replay
mkdir -p "$out"
db=$(mktemp -d)/regen.db
build/controller/sortd --demo --db "$db" --fresh --run-seconds "$secs" --record "$out/demo.events"
# The record names its configuration by absolute path: make it relative to the record.
sed -i '1s#"config":"[^"]*"#"config":"../../config/demo-station.toml"#' "$out/demo.events"
build/controller/sortd --replay "$out/demo.events" --write-expected "$out/demo.expected"
build/controller/sortd --replay "$out/demo.events" --expect "$out/demo.expected"
