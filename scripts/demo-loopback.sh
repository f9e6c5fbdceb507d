#!/usr/bin/env bash
# Runs the demo station over real protocols on loopback (needs a build: scripts/demo.sh makes
# one first):
#   sort-sim plc      a loop sorter PLC over Modbus TCP (its control port inducts parcels)
#   sort-sim printer  a Zebra-like label printer on raw TCP (answers ~HS), keeping every label
#   sort-sim feeder   the parcel stream: inducts each demo parcel on the PLC and, as it passes
#                     the scanner, plays its read as a fixed-mount TCP reader
#   sortd             the demo station, its devices pointed at the three above
# and the HMI gateway when it is built. Ctrl-C stops everything.
#   scripts/demo-loopback.sh [--run-seconds N] [--state-dir DIR]
# Ports: the simulators on SORTD_DEMO_PORT_BASE (default 15500) .. +4; the bus on sortd's
# defaults (5570 PUB, 5571 ROUTER: sortctl and the HMI find it there) unless SORTD_DEMO_BUS_BASE
# is set (then +0 PUB, +1 ROUTER).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${SORTD_BUILD_DIR:-$ROOT/build}
STATE=/tmp/sortd-demo
RUN_SECONDS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --run-seconds) RUN_SECONDS=$2; shift 2 ;;
    --state-dir) STATE=$2; shift 2 ;;
    *) echo "demo-loopback: unknown option $1" >&2; exit 2 ;;
  esac
done
BASE=${SORTD_DEMO_PORT_BASE:-15500}
PLC_PORT=$BASE PLC_CONTROL=$((BASE + 1)) PRINTER_PORT=$((BASE + 2)) PRINTER_CONTROL=$((BASE + 3))
READER_PORT=$((BASE + 4)) HMI_PORT=$((BASE + 7))
BUS_PUB=5570 BUS_ROUTER=5571
if [ -n "${SORTD_DEMO_BUS_BASE:-}" ]; then
  BUS_PUB=$SORTD_DEMO_BUS_BASE BUS_ROUTER=$((SORTD_DEMO_BUS_BASE + 1))
fi
SIM="$BUILD/devices/sort-sim"
mkdir -p "$STATE/labels"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# Starts a simulator and waits for its READY line.
start_sim() {
  local name=$1
  shift
  "$@" > "$STATE/$name.out" 2> "$STATE/$name.log" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q READY "$STATE/$name.out" 2>/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "demo-loopback: $name did not start:" >&2
  cat "$STATE/$name.log" >&2
  exit 1
}

# The demo station with its devices on loopback: the station file up to its device section,
# then these devices.
CONFIG="$STATE/station.toml"
sed '/^# Devices\./,$d' config/demo-station.toml > "$CONFIG"
cat >> "$CONFIG" <<EOF
# Devices (written by scripts/demo-loopback.sh): real protocols to the simulators on loopback.

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

[[devices]]
name = "printer-1"
kind = "printer"
driver = "tcp"
host = "127.0.0.1"
port = $PRINTER_PORT
language = "zpl"
EOF

start_sim plc "$SIM" plc --host 127.0.0.1 --port "$PLC_PORT" --control-port "$PLC_CONTROL" \
  --chutes 30 --exception-chute 30 --capacity 25
start_sim printer "$SIM" printer --host 127.0.0.1 --port "$PRINTER_PORT" \
  --control-port "$PRINTER_CONTROL" --dir "$STATE/labels"

SORTD_ARGS=(--config "$CONFIG" --db "$STATE/sortd.db" --fresh --demo-orders 20000
  --bus-pub "tcp://127.0.0.1:$BUS_PUB" --bus-router "tcp://127.0.0.1:$BUS_ROUTER")
[ "$RUN_SECONDS" != 0 ] && SORTD_ARGS+=(--run-seconds "$RUN_SECONDS")
"$BUILD/controller/sortd" "${SORTD_ARGS[@]}" &
SORTD_PID=$!
pids+=($SORTD_PID)

start_sim feeder "$SIM" feeder --plc-control "127.0.0.1:$PLC_CONTROL" --reader-port "$READER_PORT" \
  --orders 20000 --seed 42 --rate 4 --scan-delay-ms 250

if [ -x "$BUILD/hmi/sortd-hmi" ]; then
  "$BUILD/hmi/sortd-hmi" --port "$HMI_PORT" --bus-pub "tcp://127.0.0.1:$BUS_PUB" \
    --bus-router "tcp://127.0.0.1:$BUS_ROUTER" > "$STATE/hmi.log" 2>&1 &
  pids+=($!)
  echo "HMI: http://127.0.0.1:$HMI_PORT/"
fi
echo "demo: sorter PLC modbus 127.0.0.1:$PLC_PORT (control $PLC_CONTROL), printer 127.0.0.1:$PRINTER_PORT," \
  "reader 127.0.0.1:$READER_PORT, bus tcp://127.0.0.1:$BUS_ROUTER; labels in $STATE/labels"
wait "$SORTD_PID"
