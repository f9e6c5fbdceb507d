#!/usr/bin/env bash
# Writes the demo station with its devices pointed at the simulators on loopback (real
# protocols: Modbus TCP to `sort-sim plc`, a fixed-mount TCP reader played by `sort-sim feeder`,
# raw TCP 9100-style to `sort-sim printer`): the station file up to its device section, then
# these devices. Used by scripts/run-demo.sh and the crash harness (tests/crash/).
#   scripts/loopback-station.sh OUT.toml PLC_PORT READER_PORT PRINTER_PORT
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 OUT.toml PLC_PORT READER_PORT PRINTER_PORT" >&2; exit 2; }
OUT=$1 PLC_PORT=$2 READER_PORT=$3 PRINTER_PORT=$4
SRC="$(dirname "$0")/../config/demo-station.toml"
{
  sed '/^# Devices\./,$d' "$SRC"
  cat <<DEVICES
# Devices (written by scripts/loopback-station.sh): real protocols to the simulators on loopback.

[[devices]]
name = "sorter-1"
kind = "sorter"
driver = "modbus-tcp"
host = "127.0.0.1"
port = $PLC_PORT
write = "fc23"

[[devices]]
name = "scanner-1"
kind = "scanner"
driver = "tcp-client"
host = "127.0.0.1"
port = $READER_PORT
separator = ","        # the feeder's reader puts a comma between the codes of one read

[[devices]]
name = "printer-1"
kind = "printer"
driver = "tcp"
host = "127.0.0.1"
port = $PRINTER_PORT
language = "zpl"
DEVICES
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
