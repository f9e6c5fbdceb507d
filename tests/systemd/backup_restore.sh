#!/usr/bin/env bash
# The backup and restore of docs/operations.md, done as written there, on a running daemon:
#   - `sqlite3 sortd.db ".backup FILE"` while sortd writes (WAL) gives a consistent copy
#     (integrity_check ok, same schema version, the decisions committed so far);
#   - restore (stop, move the database away, remove its -wal/-shm, copy the backup in, start)
#     gives a daemon that starts on it and carries on without reusing a parcel id or a sort
#     sequence number.
#   backup_restore.sh SORTD_BINARY DEMO_STATION_TOML
set -euo pipefail
SORTD=$1
DEMO=$2
W=$(mktemp -d "${TMPDIR:-/tmp}/sortd-backup-XXXXXX")
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
cp "$DEMO" "$W/station.toml"
DB=$W/sortd.db
fails=0
check() {
  if eval "$2"; then echo "ok:   $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi
}
q() { sqlite3 -readonly -cmd ".timeout 5000" "$1" "$2"; }
# Waits for a condition the running daemon reaches; the deadline only keeps a broken daemon
# from hanging the suite.
wait_for() {
  local what=$1 cond=$2 i
  for i in $(seq 1 1800); do
    if eval "$cond" 2>/dev/null; then return 0; fi
    if ! kill -0 "$PID" 2>/dev/null; then echo "FAIL: sortd died waiting for $what"; tail -20 "$W/log"; exit 1; fi
    sleep 0.1
  done
  echo "FAIL: never: $what"
  exit 1
}
start() {
  "$SORTD" --config "$W/station.toml" --db "$DB" --demo-orders 3000 --no-bus >>"$W/log" 2>&1 &
  PID=$!
  wait_for "the daemon running" "grep -q \"running (\" \"$W/log\""
}
stop() {
  kill -TERM "$PID"
  local rc=0
  wait "$PID" || rc=$?
  PID=
  check "SIGTERM: exit code $rc" "[ $rc -eq 0 ]"
}

start
wait_for "20 decisions" "[ \$(q \"$DB\" 'SELECT COUNT(*) FROM decisions') -ge 20 ]"
# The documented backup, while the daemon runs and writes.
sqlite3 "$DB" ".backup $W/backup.db"
check "the daemon kept running during the backup" "kill -0 $PID"
check "backup: PRAGMA integrity_check = ok" "[ \"\$(q $W/backup.db 'PRAGMA integrity_check')\" = ok ]"
check "backup: schema version $(q "$DB" 'PRAGMA user_version') as the live database" \
  "[ \$(q $W/backup.db 'PRAGMA user_version') = \$(q $DB 'PRAGMA user_version') ]"
n_backup=$(q "$W/backup.db" "SELECT COUNT(*) FROM decisions")
check "backup holds the $n_backup decisions committed before it" "[ $n_backup -ge 20 ]"
check "backup: every decision's parcel is there" \
  "[ \$(q $W/backup.db 'SELECT COUNT(*) FROM decisions d LEFT JOIN parcels p ON p.id = d.parcel_id WHERE p.id IS NULL') -eq 0 ]"
wait_for "decisions after the backup" "[ \$(q \"$DB\" 'SELECT COUNT(*) FROM decisions') -gt $n_backup ]"
stop

# The documented restore.
mv "$DB" "$DB.broken"
rm -f "$DB-wal" "$DB-shm"
cp "$W/backup.db" "$DB"
max_parcel=$(q "$DB" "SELECT COALESCE(MAX(id), 0) FROM parcels")
start
wait_for "new parcels after the restore" \
  "[ \$(q \"$DB\" \"SELECT COUNT(*) FROM parcels WHERE id > $max_parcel\") -ge 10 ]"
stop
check "restored: PRAGMA integrity_check = ok" "[ \"\$(q $DB 'PRAGMA integrity_check')\" = ok ]"
check "restored: the backup's decisions are all there" \
  "[ \$(q $DB 'SELECT COUNT(*) FROM decisions WHERE parcel_id <= $max_parcel') -ge $n_backup ]"
check "restored: no sort sequence number used twice" \
  "[ -z \"\$(q $DB 'SELECT seq FROM sort_commands GROUP BY seq HAVING COUNT(*) > 1')\" ]"
check "restored: orders not loaded twice (demo orders go into an empty store only)" \
  "[ \$(q $DB 'SELECT COUNT(*) FROM orders') -eq 3000 ]"
echo "backup/restore: $n_backup decisions in the backup, $fails failure(s)"
[ "$fails" -eq 0 ]
