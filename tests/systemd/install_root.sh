#!/usr/bin/env bash
# `cmake --install` into a DESTDIR with --prefix /usr (the layout the units are written for)
# and check that every file lands where the units, the udev rules and the daemon expect it:
# each unit's ExecStart binary, its --config / --web / EnvironmentFile= directories and its
# Documentation=, the label templates (loaded by the installed daemon through a printer's
# `templates` option), the sample configuration (checked by the installed daemon).
#   install_root.sh BUILD_DIR SOURCE_DIR ROOT [binary ...]
# The binaries named are those the build has (sortd, sortctl, sort-sim, sortd-hmi).
set -euo pipefail
BUILD=$1
SRC=$2
ROOT=$3
shift 3
BINARIES=("$@")

fails=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    echo "ok:   $what"
  else
    echo "FAIL: $what"
    fails=$((fails + 1))
  fi
}

rm -rf "$ROOT"
mkdir -p "$ROOT"
DESTDIR="$ROOT" cmake --install "$BUILD" --prefix /usr >"$ROOT.install.log" 2>&1 || {
  cat "$ROOT.install.log"
  echo "FAIL: cmake --install"
  exit 1
}
echo "installed $(grep -c '^-- \(Installing\|Up-to-date\)' "$ROOT.install.log") files into $ROOT"

for b in "${BINARIES[@]}"; do
  check "binary /usr/bin/$b" test -x "$ROOT/usr/bin/$b"
done
U=$ROOT/usr/lib/systemd/system
for f in "$U/sortd.service" "$U/sortd-hmi.service" "$ROOT/usr/lib/udev/rules.d/99-sortd.rules" \
  "$ROOT/usr/lib/sysusers.d/sortd.conf" "$ROOT/usr/lib/tmpfiles.d/sortd.conf" \
  "$ROOT/etc/sortd/station.toml.example" "$ROOT/usr/share/sortd/demo-station.toml" \
  "$ROOT/usr/share/sortd/demo-orders.csv" "$ROOT/usr/share/doc/sortd/operations.md"; do
  check "file ${f#"$ROOT"}" test -s "$f"
done
n_src=$(find "$SRC/label-templates/templates" -name '*.json' | wc -l)
n_dst=$(find "$ROOT/usr/share/sortd/label-templates" -name '*.json' 2>/dev/null | wc -l)
check "label templates: $n_dst installed of $n_src" test "$n_src" -gt 0 -a "$n_src" -eq "$n_dst"

# What the units name must be there.
value() { sed -n "s/^$2=//p" "$1"; }
for unit in sortd.service sortd-hmi.service; do
  f=$U/$unit
  [ -f "$f" ] || continue
  exec_start=$(value "$f" ExecStart)
  bin=${exec_start%% *}
  check "$unit: ExecStart binary $bin installed" test -x "$ROOT$bin"
  case " ${BINARIES[*]} " in *" $(basename "$bin") "*) ;; *)
    echo "FAIL: $unit runs $(basename "$bin"), which this build does not make"
    fails=$((fails + 1)) ;;
  esac
  doc=$(value "$f" Documentation)
  check "$unit: Documentation $doc installed" test -s "$ROOT${doc#file:}"
  envf=$(value "$f" EnvironmentFile)
  envf=${envf#-}
  check "$unit: EnvironmentFile directory $(dirname "$envf") installed" test -d "$ROOT$(dirname "$envf")"
  case $exec_start in *" --config "*)
    cfg=$(sed 's/.* --config \([^ ]*\).*/\1/' <<<"$exec_start")
    check "$unit: --config $cfg: its sample $cfg.example installed" test -s "$ROOT$cfg.example" ;;
  esac
  case $exec_start in *" --web "*)
    web=$(sed 's/.* --web \([^ ]*\).*/\1/' <<<"$exec_start")
    check "$unit: --web $web holds the HMI page" test -s "$ROOT$web/index.html" ;;
  esac
done
check "sortd.service runs as the sysusers.d user" \
  grep -q "^u *$(value "$U/sortd.service" User) " "$ROOT/usr/lib/sysusers.d/sortd.conf"
check "udev rules give the devices to the service's group" \
  grep -q "GROUP=\"$(value "$U/sortd.service" Group)\"" "$ROOT/usr/lib/udev/rules.d/99-sortd.rules"

# The installed daemon accepts the installed sample configuration, and a real printer whose
# templates are the installed ones (the printer driver loads and checks every template).
if [ -x "$ROOT/usr/bin/sortd" ]; then
  check "installed sortd --check-config station.toml.example" \
    "$ROOT/usr/bin/sortd" --check-config "$ROOT/etc/sortd/station.toml.example"
  tpl_cfg=$ROOT.templates.toml
  /usr/bin/python3 - "$ROOT/etc/sortd/station.toml.example" "$ROOT/usr/share/sortd/label-templates" \
    "$tpl_cfg" <<'EOF'
import sys
src, tpl, out = sys.argv[1:]
text = open(src, encoding="utf-8").read()
block = 'name = "printer-1"\nkind = "printer"\ndriver = "sim"'
assert block in text, "the sample has no sim printer-1 to replace"
text = text.replace(block, 'name = "printer-1"\nkind = "printer"\ndriver = "tcp"\n'
                    'host = "127.0.0.1"\nport = 9100\ntemplates = "%s"' % tpl)
open(out, "w", encoding="utf-8").write(text)
EOF
  check "installed sortd accepts a tcp printer using the installed label templates" \
    "$ROOT/usr/bin/sortd" --check-config "$tpl_cfg"
  sed -i "s#templates = \".*\"#templates = \"$ROOT/usr/share/sortd/no-such-dir\"#" "$tpl_cfg"
  if "$ROOT/usr/bin/sortd" --check-config "$tpl_cfg" >/dev/null 2>&1; then
    echo "FAIL: a missing template directory was accepted (the check above proves nothing)"
    fails=$((fails + 1))
  else
    echo "ok:   a missing template directory is refused"
  fi
fi

echo "install check: $fails failure(s)"
[ "$fails" -eq 0 ]
