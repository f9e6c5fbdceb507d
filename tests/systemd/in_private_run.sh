#!/usr/bin/env bash
# Runs a command with a private, empty /run (a tmpfs in a mount namespace of its own), so that
# a test can play journald (/run/systemd/journal/socket) without touching the machine's.
#   in_private_run.sh COMMAND [ARG...]
# Exits 77 (CTest: skipped) when mount namespaces are not available here.
set -euo pipefail
inner='mount -t tmpfs -o mode=0755 sortd-test-run /run && exec "$@"'
if [ "$(id -u)" -eq 0 ] && unshare -m --propagation private true 2>/dev/null; then
  exec unshare -m --propagation private /bin/sh -c "$inner" sh "$@"
elif unshare -r -m --propagation private true 2>/dev/null; then
  exec unshare -r -m --propagation private /bin/sh -c "$inner" sh "$@"
fi
echo "skipped: no mount namespace (unshare -m) for a private /run on this machine"
exit 77
