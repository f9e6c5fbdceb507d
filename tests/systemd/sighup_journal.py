#!/usr/bin/python3
"""The real sortd process as systemd runs it, with this script in systemd's place.

It plays journald (the native protocol on /run/systemd/journal/socket, which the daemon's
spdlog systemd sink writes to) and the service manager (NOTIFY_SOCKET, WATCHDOG_USEC), starts
`sortd --config station.toml --db sortd.db` with JOURNAL_STREAM naming its stderr, and checks:
  - the log goes to the journal with priorities (info 6, warning 4, error 3) and
    SYSLOG_IDENTIFIER=sortd, and nothing is written twice to the console;
  - READY=1 comes after start-up, WATCHDOG=1 keeps coming from the loop;
  - SIGHUP with a valid edit (a lane disabled): RELOADING=1, the reload logged, READY=1;
  - SIGHUP with an invalid edit: errors logged at priority 3 naming file, line and key, the
    process keeps running, STATUS= says the reload was refused;
  - SIGTERM stops it with exit code 0 and STOPPING=1.
Run inside tests/systemd/in_private_run.sh (a private /run).
    sighup_journal.py SORTD_BINARY DEMO_STATION_TOML
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

SORTD, DEMO = sys.argv[1], sys.argv[2]
DEADLINE = 180  # seconds: only keeps a broken daemon from hanging the suite


def parse_native(data: bytes) -> dict:
    """One journal entry in the native protocol (systemd's JOURNAL_NATIVE_PROTOCOL.md)."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:  # KEY\n<le64 size><data>\n
            k = line
            (size,) = struct.unpack_from("<Q", data, nl + 1)
            start = nl + 9
            v = data[start:start + size]
            if data[start + size:start + size + 1] != b"\n":
                raise ValueError("binary field %r not terminated" % k)
            i = start + size + 1
        fields[k.decode()] = v.decode("utf-8", "replace")
    return fields


class Listener:
    """A datagram socket that keeps what it receives, parsed."""

    def __init__(self, path, parse):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.items, self.lock, self.parse, self.stop = [], threading.Lock(), parse, False
        self.errors = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                data = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            try:
                item = self.parse(data)
            except Exception as e:  # a malformed datagram is a failure of the daemon's side
                self.errors.append("%r: %s" % (data[:80], e))
                continue
            with self.lock:
                self.items.append(item)

    def snapshot(self):
        with self.lock:
            return list(self.items)

    def wait_for(self, what, pred, start=0):
        until = time.monotonic() + DEADLINE
        while time.monotonic() < until:
            items = self.snapshot()
            for n, it in enumerate(items[start:], start):
                if pred(it):
                    return n
            time.sleep(0.05)
        raise AssertionError("never received: %s" % what)


failures = []


def check(ok, what):
    print(("ok:   " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures.append(what)


def main():
    if not os.path.isdir("/run") or os.listdir("/run"):
        print("run me inside in_private_run.sh (a private, empty /run)")
        return 2
    journal = Listener("/run/systemd/journal/socket", parse_native)
    notify = Listener("/run/sortd-test/notify", lambda d: d.decode())

    work = tempfile.mkdtemp(prefix="sortd-sighup-")
    config = os.path.join(work, "station.toml")
    original = open(DEMO, encoding="utf-8").read()

    def write_config(text):
        with open(config + ".new", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(config + ".new", config)

    write_config(original)
    err_path, out_path = os.path.join(work, "stderr"), os.path.join(work, "stdout")
    err, out = open(err_path, "wb"), open(out_path, "wb")
    st = os.fstat(err.fileno())
    env = dict(os.environ)
    env.update(JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino),
               NOTIFY_SOCKET="/run/sortd-test/notify", WATCHDOG_USEC="1000000")
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen([SORTD, "--config", config, "--db", os.path.join(work, "sortd.db"),
                             "--demo-orders", "5000", "--no-bus"],
                            stdout=out, stderr=err, env=env)
    try:
        ready = notify.wait_for("READY=1", lambda m: "READY=1" in m)
        notify.wait_for("WATCHDOG=1 after READY=1", lambda m: "WATCHDOG=1" in m, ready + 1)
        check(True, "READY=1 after start-up, then WATCHDOG=1 from the loop")
        running = journal.wait_for("the start-up message",
                                   lambda e: "running" in e.get("MESSAGE", "") and
                                   e.get("MESSAGE", "").startswith("sortd: station"))
        e = journal.snapshot()[running]
        check(e.get("PRIORITY") == "6" and e.get("SYSLOG_IDENTIFIER") == "sortd",
              "start-up message in the journal, PRIORITY=6 SYSLOG_IDENTIFIER=sortd: %r"
              % e.get("MESSAGE"))

        # A valid edit.
        head = "[[lanes]]\nid = 5\n"
        assert head in original
        disabled = original.replace(head, head + "enabled = false\n", 1)
        write_config(disabled)
        mark_j, mark_n = len(journal.snapshot()), len(notify.snapshot())
        proc.send_signal(signal.SIGHUP)
        n = journal.wait_for("the reload activated",
                             lambda e: "configuration reload:" in e.get("MESSAGE", "") and
                             "activated" in e.get("MESSAGE", ""), mark_j)
        check(journal.snapshot()[n].get("PRIORITY") == "6",
              "valid edit activated, logged at priority 6: %r" % journal.snapshot()[n]["MESSAGE"])
        journal.wait_for("lane 5 disabled by the file",
                         lambda e: "lane 5 disabled by the file" in e.get("MESSAGE", ""), mark_j)
        r = notify.wait_for("RELOADING=1", lambda m: "RELOADING=1" in m, mark_n)
        done = notify.wait_for("READY=1 after the reload", lambda m: "READY=1" in m, r + 1)
        check("reloaded" in notify.snapshot()[done],
              "RELOADING=1 then READY=1 with %r" % notify.snapshot()[done].split("\n")[-1])

        # An invalid edit: an impossible value and an unknown key.
        bad = disabled.replace("recirculation_limit = 2",
                               "recirculation_limit = -4\nrecirculation_limt = 2", 1)
        write_config(bad)
        mark_j, mark_n = len(journal.snapshot()), len(notify.snapshot())
        proc.send_signal(signal.SIGHUP)
        n = journal.wait_for("the reload refused",
                             lambda e: "the running configuration" in e.get("MESSAGE", ""), mark_j)
        entries = journal.snapshot()[mark_j:n + 1]
        errors = [e for e in entries if "reload refused" in e.get("MESSAGE", "")]
        check(len(errors) >= 2 and all(e.get("PRIORITY") == "3" for e in errors),
              "%d errors at priority 3" % len(errors))
        text = "\n".join(e["MESSAGE"] for e in errors)
        print(text)
        check(config + ":" in text and "recirculation_limt" in text and
              "recirculation_limit" in text, "the errors name the file, the line and the keys")
        check(journal.snapshot()[n].get("PRIORITY") == "3", "the refusal itself at priority 3")
        done = notify.wait_for("READY=1 after the refusal",
                               lambda m: "READY=1" in m and "refused" in m, mark_n)
        check(True, "STATUS= after the refusal: %r" % notify.snapshot()[done].split("\n")[-1])
        # Still running, still pinging the watchdog, and sorting.
        mark_n = len(notify.snapshot())
        notify.wait_for("WATCHDOG=1 after the refusal", lambda m: "WATCHDOG=1" in m, mark_n)
        check(proc.poll() is None, "the daemon keeps running after a refused reload")

        # Stop.
        mark_n = len(notify.snapshot())
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, "SIGTERM: exit code %r" % rc)
        notify.wait_for("STOPPING=1", lambda m: "STOPPING=1" in m, mark_n)
        check(True, "STOPPING=1 on the way out")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        journal.stop = notify.stop = True
    err.close()
    out.close()
    console = open(err_path, "rb").read().decode("utf-8", "replace")
    leaked = [l for l in console.splitlines() if "configuration reload" in l or "running" in l]
    check(not leaked, "nothing logged twice on the console (stderr): %r" % leaked[:3])
    check(not journal.errors, "every journal datagram parses: %r" % journal.errors[:3])
    # A signal must not reach a device driver's thread (its blocking call would fail).
    crit = [e["MESSAGE"] for e in journal.snapshot() if e.get("PRIORITY") in ("0", "1", "2")]
    check(not crit, "no critical message (no driver stopped by a signal): %r" % crit[:3])
    prios = {}
    for e in journal.snapshot():
        prios[e.get("PRIORITY")] = prios.get(e.get("PRIORITY"), 0) + 1
    print("journal entries by priority: %s; notifications: %d" %
          (dict(sorted(prios.items())), len(notify.snapshot())))
    shutil.rmtree(work, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
