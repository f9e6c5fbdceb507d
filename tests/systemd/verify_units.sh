#!/usr/bin/env bash
# systemd's own checks on the installed units, in a scratch copy of the install root:
#   verify_units.sh verify   ROOT   systemd-analyze verify: no error and no warning
#   verify_units.sh security ROOT   systemd-analyze security --offline: exposure <= 2.0
#   verify_units.sh sysusers ROOT   systemd-sysusers / systemd-tmpfiles --root: the user, the
#                                   group and the directories are created as the units expect
set -euo pipefail
MODE=$1
ROOT=$2
UNITS=(sortd.service sortd-hmi.service)
command -v systemd-analyze >/dev/null || {
  echo "systemd-analyze is missing (Debian package systemd: scripts/setup.sh installs it)"
  exit 1
}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/sortd-units-XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
# Only what the checks need: the units, the binaries they run, the files they name.
cp -a "$ROOT/." "$SCRATCH/"
fails=0

case $MODE in
verify)
  # The manager in test mode needs the rest of the system's units (sysinit.target,
  # network-online.target ...) and /bin/kill (ExecReload=) inside the root.
  cp -rn /usr/lib/systemd/system/. "$SCRATCH/usr/lib/systemd/system/"
  [ -e "$SCRATCH/bin" ] || ln -s usr/bin "$SCRATCH/bin"
  [ -e "$SCRATCH/usr/bin/kill" ] || cp /bin/kill "$SCRATCH/usr/bin/kill"
  for u in "${UNITS[@]}"; do
    out=$(systemd-analyze verify --man=no --root="$SCRATCH" "$u" 2>&1) && rc=0 || rc=$?
    if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
      echo "FAIL: systemd-analyze verify $u (exit $rc):"
      echo "$out"
      fails=$((fails + 1))
    else
      echo "ok:   systemd-analyze verify $u: no error, no warning"
    fi
  done
  # The check itself catches mistakes: a unit with a typo must not pass.
  bad=$SCRATCH/usr/lib/systemd/system/sortd-typo.service
  sed 's/^ProtectClock=yes/ProtectClok=yes/' "$SCRATCH/usr/lib/systemd/system/sortd.service" >"$bad"
  out=$(systemd-analyze verify --man=no --root="$SCRATCH" sortd-typo.service 2>&1) || true
  if grep -q "ProtectClok" <<<"$out"; then
    echo "ok:   a unit with an unknown key is reported: $(head -1 <<<"$out")"
  else
    echo "FAIL: a unit with an unknown key was not reported"
    fails=$((fails + 1))
  fi
  ;;
security)
  for u in "${UNITS[@]}"; do
    out=$(systemd-analyze security --offline=yes --root="$SCRATCH" "$u" 2>&1) || true
    level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
    if [ -z "$level" ]; then
      echo "FAIL: no exposure level for $u:"
      echo "$out"
      fails=$((fails + 1))
      continue
    fi
    echo "$u: exposure $level (systemd-analyze security --offline); what is still open:"
    grep '✗' <<<"$out" | sed 's/^/    /' || true
    if awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
      echo "ok:   $u exposure $level <= 2.0"
    else
      echo "FAIL: $u exposure $level > 2.0"
      fails=$((fails + 1))
    fi
  done
  ;;
sysusers)
  # The root's own /etc/passwd and /etc/group: nothing on this machine is touched.
  systemd-sysusers --root="$SCRATCH" sortd.conf
  user=$(sed -n 's/^User=//p' "$SCRATCH/usr/lib/systemd/system/sortd.service")
  group=$(sed -n 's/^Group=//p' "$SCRATCH/usr/lib/systemd/system/sortd.service")
  pw=$(grep "^$user:" "$SCRATCH/etc/passwd" || true)
  gr=$(grep "^$group:" "$SCRATCH/etc/group" || true)
  uid=$(cut -d: -f3 <<<"$pw")
  gid=$(cut -d: -f3 <<<"$gr")
  if [ -n "$pw" ] && [ -n "$gr" ] && [ "$uid" -lt 1000 ] && [[ $pw == */nologin ]]; then
    echo "ok:   system user $pw, group $gr"
  else
    echo "FAIL: sysusers did not make a system user '$user' without a shell / group '$group': '$pw' '$gr'"
    fails=$((fails + 1))
  fi
  systemd-tmpfiles --root="$SCRATCH" --create sortd.conf
  expect() {  # expect PATH MODE UID GID
    local got
    got=$(stat -c '%a %u %g' "$SCRATCH$1" 2>/dev/null || echo missing)
    if [ "$got" = "$2 $3 $4" ]; then
      echo "ok:   $1 $got"
    else
      echo "FAIL: $1: '$got', expected '$2 $3 $4'"
      fails=$((fails + 1))
    fi
  }
  expect /var/lib/sortd 750 "$uid" "$gid"
  expect /var/lib/sortd/backup 750 "$uid" "$gid"
  expect /etc/sortd 750 0 "$gid"
  # The unit's database path is in the state directory the unit and tmpfiles.d create.
  db=$(sed -n 's/^ExecStart=.* --db \([^ ]*\).*/\1/p' "$SCRATCH/usr/lib/systemd/system/sortd.service")
  state=$(sed -n 's/^StateDirectory=//p' "$SCRATCH/usr/lib/systemd/system/sortd.service")
  if [ "$(dirname "$db")" = "/var/lib/$state" ] && [ -d "$SCRATCH$(dirname "$db")" ]; then
    echo "ok:   --db $db is in StateDirectory=$state"
  else
    echo "FAIL: --db $db is not in /var/lib/$state"
    fails=$((fails + 1))
  fi
  ;;
*)
  echo "usage: $0 verify|security|sysusers ROOT"
  exit 2
  ;;
esac
echo "$MODE: $fails failure(s)"
[ "$fails" -eq 0 ]
