#!/usr/bin/env bash
# Runs the demo station and its HMI (needs a build: scripts/demo.sh makes one first).
#
# By default over real protocols on loopback:
#   sort-sim plc      a loop sorter PLC over Modbus TCP (its control port inducts parcels)
#   sort-sim printer  a Zebra-like label printer on raw TCP (answers ~HS), keeping every label
#   sort-sim feeder   the parcel stream: inducts each demo parcel on the PLC and, as it passes
#                     the scanner, plays its read as a fixed-mount TCP reader
#   sortd             the demo station, its devices pointed at the three above
# With --inproc: `sortd --demo`, whose simulated devices run inside the daemon.
# Then the HMI gateway, whose address it prints ("HMI: http://127.0.0.1:8080/"). Ctrl-C stops
# everything.
#   scripts/run-demo.sh [--inproc] [--run-seconds N] [--state-dir DIR] [--no-hmi]
# Ports: the simulators on SORTD_DEMO_PORT_BASE (default 15500) .. +4; the bus on sortd's
# defaults (5570 PUB, 5571 ROUTER: sortctl finds it there) unless SORTD_DEMO_BUS_BASE is set
# (then +0 PUB, +1 ROUTER); the HMI on SORTD_HMI_PORT (default 8080; a busy port: any free one).
# The station clock starts at 09:30 so that the couriers are before their cutoffs at any hour
# (SORTD_DEMO_CLOCK=HH:MM for another time, SORTD_DEMO_CLOCK=now for the real time).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${SORTD_BUILD_DIR:-$(pwd)/build}
STATE=/tmp/sortd-demo
RUN_SECONDS=0 INPROC=0 HMI=1
while [ $# -gt 0 ]; do
  case "$1" in
    --inproc) INPROC=1; shift ;;
    --no-hmi) HMI=0; shift ;;
    --run-seconds) RUN_SECONDS=$2; shift 2 ;;
    --state-dir) STATE=$2; shift 2 ;;
    *) echo "run-demo: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done
BASE=${SORTD_DEMO_PORT_BASE:-15500}
PLC_PORT=$BASE PLC_CONTROL=$((BASE + 1)) PRINTER_PORT=$((BASE + 2)) PRINTER_CONTROL=$((BASE + 3))
READER_PORT=$((BASE + 4))
BUS_PUB=5570 BUS_ROUTER=5571
if [ -n "${SORTD_DEMO_BUS_BASE:-}" ]; then
  BUS_PUB=$SORTD_DEMO_BUS_BASE BUS_ROUTER=$((SORTD_DEMO_BUS_BASE + 1))
fi
export SORTD_ROUTER=tcp://127.0.0.1:$BUS_ROUTER
HMI_PORT=${SORTD_HMI_PORT:-8080}
SIM="$BUILD/devices/sort-sim"
mkdir -p "$STATE/labels"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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
  echo "run-demo: $name did not start:" >&2
  cat "$STATE/$name.log" >&2
  exit 1
}

# Demo logins for the HMI's actions (loopback only): the password is the user name.
USERS=$STATE/users.toml
if [ ! -s "$USERS" ]; then
  {
    echo "# demo users of the HMI (scripts/run-demo.sh): the password is the user name"
    for role in viewer operator supervisor admin; do
      printf '\n[[users]]\nname = "%s"\nrole = "%s"\npassword_hash = "%s"\n' "$role" "$role" \
        "$(printf '%s\n' "$role" | "$BUILD/controller/sortctl" passwd-hash --cost min)"
    done
  } > "$USERS.tmp"
  mv "$USERS.tmp" "$USERS"
fi

SORTD_ARGS=(--db "$STATE/sortd.db" --fresh --demo-orders 20000 --users "$USERS"
  --bus-pub "tcp://127.0.0.1:$BUS_PUB" --bus-router "tcp://127.0.0.1:$BUS_ROUTER")
[ "$RUN_SECONDS" != 0 ] && SORTD_ARGS+=(--run-seconds "$RUN_SECONDS")
# The demo's couriers have afternoon and evening cutoffs: at night every parcel would wait for
# tomorrow's wave. The demo's station clock starts in the morning unless told otherwise
# (SORTD_DEMO_CLOCK=now for the real time, or another HH:MM).
DEMO_CLOCK="${SORTD_DEMO_CLOCK:-09:30}"
if [ "$DEMO_CLOCK" != now ]; then
  SORTD_ARGS+=(--clock-start "$DEMO_CLOCK")
  echo "demo: the station clock starts at $DEMO_CLOCK (SORTD_DEMO_CLOCK=now for the real time)"
fi

if [ "$INPROC" = 1 ]; then
  SORTD_ARGS+=(--demo)
else
  CONFIG="$STATE/station.toml"
  scripts/loopback-station.sh "$CONFIG" "$PLC_PORT" "$READER_PORT" "$PRINTER_PORT"
  SORTD_ARGS+=(--config "$CONFIG")
  start_sim plc "$SIM" plc --host 127.0.0.1 --port "$PLC_PORT" --control-port "$PLC_CONTROL" \
    --chutes 30 --exception-chute 30 --capacity 25
  start_sim printer "$SIM" printer --host 127.0.0.1 --port "$PRINTER_PORT" \
    --control-port "$PRINTER_CONTROL" --dir "$STATE/labels"
fi

"$BUILD/controller/sortd" "${SORTD_ARGS[@]}" &
SORTD_PID=$!
pids+=("$SORTD_PID")
for _ in $(seq 1 150); do
  "$BUILD/controller/sortctl" --timeout 0.3 status > /dev/null 2>&1 && break
  kill -0 "$SORTD_PID" 2>/dev/null || { wait "$SORTD_PID"; exit $?; }
  sleep 0.2
done

if [ "$INPROC" = 0 ]; then
  start_sim feeder "$SIM" feeder --plc-control "127.0.0.1:$PLC_CONTROL" \
    --reader-port "$READER_PORT" --orders 20000 --seed 42 --rate 4 --scan-delay-ms 250
  echo "demo: sorter PLC modbus 127.0.0.1:$PLC_PORT (control $PLC_CONTROL), printer" \
    "127.0.0.1:$PRINTER_PORT (labels in $STATE/labels), reader 127.0.0.1:$READER_PORT"
fi

if [ "$HMI" = 1 ] && [ -x "$BUILD/hmi/sortd-hmi" ]; then
  if (exec 3<> "/dev/tcp/127.0.0.1/$HMI_PORT") 2> /dev/null; then
    echo "demo: port $HMI_PORT is in use; the HMI takes a free one"
    HMI_PORT=0
  fi
  "$BUILD/hmi/sortd-hmi" --pub "tcp://127.0.0.1:$BUS_PUB" --router "tcp://127.0.0.1:$BUS_ROUTER" \
    --listen 127.0.0.1 --port "$HMI_PORT" &
  pids+=("$!")
  echo "demo: HMI logins viewer/viewer, operator/operator, supervisor/supervisor, admin/admin"
fi
echo "demo: the station's database is $STATE/sortd.db; sortctl status shows it"
wait "$SORTD_PID"
