#!/usr/bin/python3
"""An independent client of the sortd bus, written from docs/protocol.md alone (python3-zmq).

It keeps an exact copy of the station's state with the clone pattern: subscribe first, ask for
the snapshot, apply the updates numbered after it, and resync on a gap, a missing heartbeat, a
restart (new instance id) or a `config` update.

    clone_client.py --pub tcp://127.0.0.1:5570 --router tcp://127.0.0.1:5571

It prints one line per event on standard output:
    SYNCED instance=<id> seq=<n>          after every (re)sync
    RESYNC <reason>
    COMPARE OK seq=<n> lanes=<n> recent=<n>
    COMPARE FAIL <what differs>
and reads commands on standard input, one a line:
    compare    take a fresh snapshot and compare it with the state built from the stream
    status     print STATUS seq=<n> applied=<n> resyncs=<n>
    quit
"""
import argparse
import json
import sys
import time

import zmq

HEARTBEAT_TIMEOUT = 3.0  # docs/protocol.md: no message for 3 s -> resync
REQUEST_TIMEOUT = 3.0
RECENT = 20


def say(line):
    print(line, flush=True)


class Clone:
    def __init__(self, pub, router):
        self.ctx = zmq.Context()
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.connect(pub)
        self.router = router
        self.dealer = None
        self.req_id = 0
        self.state = None
        self.seq = 0
        self.instance = None
        self.last_message = time.monotonic()
        self.applied = 0
        self.resyncs = 0
        self.need_resync = None

    # -- requests (lazy pirate: a new DEALER after a timeout) ------------------------------------
    def _dealer(self):
        if self.dealer is None:
            self.dealer = self.ctx.socket(zmq.DEALER)
            self.dealer.setsockopt(zmq.LINGER, 0)
            self.dealer.connect(self.router)
        return self.dealer

    def request(self, req, on_update=None):
        """Sends a request and returns its reply, or None after REQUEST_TIMEOUT. Updates that
        arrive meanwhile are handed to on_update (topic, body) so that none is lost."""
        self.req_id += 1
        req = dict(req, id=self.req_id)
        d = self._dealer()
        d.send(json.dumps(req).encode())
        poller = zmq.Poller()
        poller.register(d, zmq.POLLIN)
        poller.register(self.sub, zmq.POLLIN)
        deadline = time.monotonic() + REQUEST_TIMEOUT
        while time.monotonic() < deadline:
            events = dict(poller.poll(100))
            if self.sub in events and on_update is not None:
                while True:
                    try:
                        frames = self.sub.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.last_message = time.monotonic()
                    on_update(frames[0].decode(), json.loads(frames[1]))
            if d in events:
                reply = json.loads(d.recv())
                if reply.get("id") == self.req_id:
                    return reply
        d.close(0)
        self.dealer = None
        return None

    # -- the clone pattern -------------------------------------------------------------------------
    def drain(self):
        while True:
            try:
                self.sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return

    def resync(self, reason):
        self.resyncs += 1
        say("RESYNC " + reason)
        while True:
            # Whatever is queued now was published before the snapshot is taken.
            self.drain()
            pending = []
            reply = self.request({"cmd": "snapshot"}, lambda t, b: pending.append((t, b)))
            if reply is None or not reply.get("ok"):
                continue  # the daemon is away: keep asking
            r = reply["result"]
            self.state = r["state"]
            self.seq = r["seq"]
            self.instance = r["instance"]
            self.need_resync = None
            self.last_message = time.monotonic()
            say("SYNCED instance=%s seq=%d" % (self.instance, self.seq))
            for topic, body in pending:
                self.on_message(topic, body)
            if self.need_resync is None:
                return
            reason = self.need_resync

    def on_message(self, topic, body):
        if self.need_resync is not None:
            return
        seq = body.get("seq", 0)
        if topic == "hb":
            if body.get("instance") != self.instance:
                self.need_resync = "restart: instance %s -> %s" % (self.instance,
                                                                   body.get("instance"))
            elif seq > self.seq:
                self.need_resync = "heartbeat seq %d ahead of %d: updates lost" % (seq, self.seq)
            return
        if seq <= self.seq:
            return  # already in the snapshot
        if seq != self.seq + 1:
            self.need_resync = "gap: %d after %d" % (seq, self.seq)
            return
        self.seq = seq
        self.applied += 1
        self.apply(topic, body)
        if topic == "config":
            self.need_resync = "config: " + body.get("reason", "")

    def apply(self, topic, body):
        s = self.state
        plain = {k: v for k, v in body.items() if k not in ("seq", "time")}
        if topic == "lane":
            s["lanes"] = [plain if l["lane"] == body["lane"] else l for l in s["lanes"]]
        elif topic == "courier":
            s["couriers"] = [plain if c["courier"] == body["courier"] else c
                             for c in s["couriers"]]
        elif topic == "device":
            s["devices"] = [d for d in s["devices"] if d["device"] != body["device"]] + [plain]
        elif topic == "alarm":
            old = {a["key"]: a for a in s["alarms"]}
            key = body["key"]
            if body.get("raised"):
                a = {"key": key, "severity": body.get("severity", ""),
                     "text": body.get("text", ""),
                     "since": old[key]["since"] if key in old else body["time"]}
                for extra in ("acked", "acked_by"):
                    if extra in body:
                        a[extra] = body[extra]
                    elif key in old and extra in old[key]:
                        a[extra] = old[key][extra]
                old[key] = a
            else:
                old.pop(key, None)
            s["alarms"] = list(old.values())
        elif topic == "stats":
            s["stats"] = plain
        elif topic == "station":
            s["station"]["degraded"] = body["degraded"]
        elif topic in ("parcel.diverted", "parcel.exception") and "state" in body:
            final = {k: v for k, v in body.items() if k != "seq"}
            s["recent"] = ([final] + s["recent"])[:RECENT]
        # parcel.decided, parcel.exception (decision), parcel.recirculated, label, order, orders,
        # config: nothing in the state.

    # -- comparing with a fresh snapshot -------------------------------------------------------------
    @staticmethod
    def normal(state):
        st = json.loads(json.dumps(state))
        for c in st["couriers"]:
            c.pop("minutes_to_cutoff", None)  # time-derived (docs/protocol.md)
        st["devices"].sort(key=lambda d: d["device"])
        st["alarms"].sort(key=lambda a: a["key"])
        return st

    def compare_once(self):
        later = []

        def during(topic, body):
            later.append((topic, body))

        reply = self.request({"cmd": "snapshot"}, during)
        if reply is None or not reply.get("ok"):
            return "no snapshot"
        snap = reply["result"]
        if snap["instance"] != self.instance:
            self.need_resync = "restart seen by the snapshot"
            return "instance differs"
        target = snap["seq"]
        # Apply what was published up to the snapshot, keep the rest for afterwards.
        rest = []
        for topic, body in later:
            if topic != "hb" and body.get("seq", 0) > target:
                rest.append((topic, body))
            else:
                self.on_message(topic, body)
        deadline = time.monotonic() + 5
        while self.seq < target and self.need_resync is None and time.monotonic() < deadline:
            if self.sub.poll(100):
                frames = self.sub.recv_multipart()
                self.last_message = time.monotonic()
                topic, body = frames[0].decode(), json.loads(frames[1])
                if topic != "hb" and body.get("seq", 0) > target:
                    rest.append((topic, body))
                else:
                    self.on_message(topic, body)
        result = None
        if self.need_resync is not None:
            result = "resync needed: " + self.need_resync
        elif self.seq != target:
            result = "stream at %d, snapshot at %d" % (self.seq, target)
        else:
            mine, theirs = self.normal(self.state), self.normal(snap["state"])
            if mine != theirs:
                diffs = [k for k in theirs if mine.get(k) != theirs.get(k)]
                result = "differs in " + ",".join(diffs)
                for k in diffs:
                    result += "\n  mine   %s: %s" % (k, json.dumps(mine.get(k))[:400])
                    result += "\n  theirs %s: %s" % (k, json.dumps(theirs.get(k))[:400])
        for topic, body in rest:
            self.on_message(topic, body)
        return result

    def compare(self):
        # Counters of stats and couriers are published every 5 s: retry for a while.
        problem = None
        for _ in range(30):
            if self.need_resync is not None:
                self.resync(self.need_resync)
            problem = self.compare_once()
            if problem is None:
                say("COMPARE OK seq=%d lanes=%d recent=%d" %
                    (self.seq, len(self.state["lanes"]), len(self.state["recent"])))
                return
            time.sleep(1)
        say("COMPARE FAIL " + problem.replace("\n", " | "))

    def run(self):
        self.resync("start")
        poller = zmq.Poller()
        poller.register(self.sub, zmq.POLLIN)
        poller.register(sys.stdin.fileno(), zmq.POLLIN)
        while True:
            events = dict(poller.poll(200))
            if self.sub in events:
                while True:
                    try:
                        frames = self.sub.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.last_message = time.monotonic()
                    self.on_message(frames[0].decode(), json.loads(frames[1]))
            if self.need_resync is None and \
                    time.monotonic() - self.last_message > HEARTBEAT_TIMEOUT:
                self.need_resync = "no heartbeat for %.0f s" % HEARTBEAT_TIMEOUT
            if self.need_resync is not None:
                self.resync(self.need_resync)
            if sys.stdin.fileno() in events:
                line = sys.stdin.readline()
                if not line or line.strip() == "quit":
                    return
                if line.strip() == "compare":
                    self.compare()
                elif line.strip() == "status":
                    say("STATUS seq=%d applied=%d resyncs=%d" %
                        (self.seq, self.applied, self.resyncs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pub", required=True)
    ap.add_argument("--router", required=True)
    a = ap.parse_args()
    Clone(a.pub, a.router).run()


if __name__ == "__main__":
    main()
