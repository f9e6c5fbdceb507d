#!/usr/bin/python3
"""An independent loop-sorter PLC for the sorter tests, written with pymodbus from
docs/register-map.md alone (it shares no code with the C++ simulator `sort-sim plc`).

Serves Modbus TCP (or RTU on a serial device with --rtu) and a line-based TCP control port with
the same command language as `sort-sim plc` (docs/simulators.md): induct, fill, empty, disable,
enable, lose, restart, advance, drop-connection, parcel, stats, fault, help.
Prints "READY modbus=<port> control=<port>" when it serves.
"""
import argparse
import asyncio
import logging
import random
import sys
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server.async_io import ModbusSerialServer, ModbusTcpServer
from pymodbus.transaction import ModbusRtuFramer, ModbusSocketFramer

# --- docs/register-map.md, "Addresses" -------------------------------------------------------
CMD_SIZE = 8              # command area: SEQ_HI SEQ_LO TID_HI TID_LO CHUTE HOST_HEARTBEAT - -
STATUS_SIZE = 32
CONF_ENTRY, IND_ENTRY, MEAS_ENTRY = 7, 3, 8
DIVERTED, RECIRCULATED, REJECTED, LOST = 1, 2, 3, 4
ACK_ACCEPTED, ACK_REPEAT, ACK_REFUSED = 1, 2, 3


class Plc:
    def __init__(self, a):
        self.a = a
        self.exc = a.exception_chute or a.chutes
        self.loop_mm = a.loop_mm or (self.chute_pos(a.chutes) + 2000)
        end = max(a.command_base + CMD_SIZE, a.status_base + STATUS_SIZE,
                  a.confirm_base + a.confirm_ring * CONF_ENTRY,
                  a.induct_base + a.induct_ring * IND_ENTRY,
                  a.measure_base + a.measure_ring * MEAS_ENTRY)
        plc = self

        class Block(ModbusSequentialDataBlock):
            def setValues(self, address, values):  # a host write: only the command area
                lo, hi = a.command_base, a.command_base + CMD_SIZE
                if address < lo or address + len(values) > hi:
                    return
                super().setValues(address, values)
                plc.on_host_write()

        class Slave(ModbusSlaveContext):
            def validate(self, fc, address, count=1):
                if fc in (6, 16) and not (a.command_base <= address and
                                          address + count <= a.command_base + CMD_SIZE):
                    return False
                return super().validate(fc, address, count)

        self.block = Block(0, [0] * end)
        self.context = ModbusServerContext(slaves=Slave(hr=self.block, zero_mode=True),
                                           single=True)
        self.boot = 0
        self.freeze = False
        self.servers = []
        self.reset()

    def chute_pos(self, c):
        return self.a.first_chute_mm + (c - 1) * self.a.chute_pitch_mm

    # registers
    def get(self, addr):
        return self.block.values[addr]

    def put(self, addr, *vals):
        for i, v in enumerate(vals):
            self.block.values[addr + i] = v & 0xFFFF

    def st(self, off, *vals):
        self.put(self.a.status_base + off, *vals)

    def reset(self):
        for i in range(len(self.block.values)):
            self.block.values[i] = 0
        old = self.boot
        while self.boot in (0, old):
            self.boot = random.randint(1, 0xFFFF)
        self.parcels = {}          # tid -> dict, parcels on the belt
        self.done = {}             # tid -> record for `parcel`
        self.seen_seqs = {}        # seq -> ack result
        self.last_seq = 0
        self.count = 0
        self.conf_no = self.ind_no = self.meas_no = 0
        self.fill = {c: 0 for c in range(1, self.a.chutes + 1)}
        self.forced = set()
        self.disabled = set()
        self.fault = 0
        self.hb = 0
        self.host_hb = 0
        self.stats = {}
        self.st(0, 1, self.boot)
        self.st(12, self.a.confirm_ring, self.a.induct_ring, self.a.measure_ring, self.a.chutes)
        # never-written slots must not look like the next entry
        for i in range(self.a.confirm_ring):
            self.put(self.a.confirm_base + i * CONF_ENTRY, 0xFFFF - i)
        for i in range(self.a.induct_ring):
            self.put(self.a.induct_base + i * IND_ENTRY, 0xFFFF - i)
        for i in range(self.a.measure_ring):
            self.put(self.a.measure_base + i * MEAS_ENTRY, 0xFFFF - i)
        self.publish()

    def bump(self, k):
        self.stats[k] = self.stats.get(k, 0) + 1

    def full(self, c):
        return c in self.forced or (self.a.capacity > 0 and self.fill[c] >= self.a.capacity)

    def publish(self):
        self.st(2, self.hb)
        self.st(3, self.host_hb)
        self.st(4, self.fault)
        self.st(5, 1 | 2)
        self.st(9, self.conf_no, self.ind_no, self.meas_no)
        fullw, enw = [0] * 8, [0] * 8
        for c in range(1, self.a.chutes + 1):
            if self.full(c):
                fullw[(c - 1) // 16] |= 1 << ((c - 1) % 16)
            if c not in self.disabled:
                enw[(c - 1) // 16] |= 1 << ((c - 1) % 16)
        self.st(16, *fullw)
        self.st(24, *enw)

    def confirm(self, seq, tid, chute, outcome):
        base = self.a.confirm_base + (self.conf_no % self.a.confirm_ring) * CONF_ENTRY
        self.put(base + 1, seq >> 16, seq, tid >> 16, tid, chute, outcome)
        self.put(base, self.conf_no)
        self.conf_no = (self.conf_no + 1) & 0xFFFF
        self.bump({1: "diverted", 2: "recirculated", 3: "rejected", 4: "lost"}[outcome])
        self.publish()

    def induct(self, weight=0, dims=(0, 0, 0)):
        self.count += 1
        tid = (self.boot << 16) | (self.count & 0xFFFF)
        self.parcels[tid] = dict(pos=0.0, lap=0, decided=False, seq=0, chute=0, target=0,
                                 failsafe=False, lose=False)
        self.done[tid] = dict(state="on-belt", chute=0, diverts=0, laps=0, seq=0)
        base = self.a.induct_base + (self.ind_no % self.a.induct_ring) * IND_ENTRY
        self.put(base + 1, tid >> 16, tid)
        self.put(base, self.ind_no)
        self.ind_no = (self.ind_no + 1) & 0xFFFF
        if weight:
            base = self.a.measure_base + (self.meas_no % self.a.measure_ring) * MEAS_ENTRY
            self.put(base + 1, tid >> 16, tid, weight >> 16, weight, *dims)
            self.put(base, self.meas_no)
            self.meas_no = (self.meas_no + 1) & 0xFFFF
        self.bump("inducted")
        self.publish()
        return tid

    # the mailbox handshake (register map: "Sort command handshake")
    def on_host_write(self):
        c = self.a.command_base
        self.host_hb = self.get(c + 5)
        seq = (self.get(c) << 16) | self.get(c + 1)
        if seq == 0 or seq == self.last_seq:
            self.publish()
            return
        self.last_seq = seq
        if seq in self.seen_seqs:
            self.bump("repeats")
            self.ack(seq, ACK_REPEAT)
            return
        tid = (self.get(c + 2) << 16) | self.get(c + 3)
        chute = self.get(c + 4)
        self.bump("commands")
        p = self.parcels.get(tid)
        result = ACK_ACCEPTED
        if p is None:
            result = ACK_REFUSED
            self.confirm(seq, tid, 0, LOST)
        elif p["seq"]:
            result = ACK_REFUSED
            self.confirm(seq, tid, 0, REJECTED)
        elif not 1 <= chute <= self.a.chutes:
            result = ACK_REFUSED
            self.confirm(seq, tid, 0, REJECTED)
        else:
            p["seq"], p["chute"] = seq, chute
            self.done[tid]["seq"] = seq
            if p["decided"]:
                result = ACK_REFUSED  # too late: stays on the fail-safe, confirmed with seq
        if result == ACK_REFUSED:
            self.bump("refused")
        self.seen_seqs[seq] = result
        self.ack(seq, result)

    def ack(self, seq, result):
        self.st(6, seq >> 16, seq, result)
        self.publish()

    def step(self, ms):
        d = self.a.speed * ms / 1000.0
        for tid in list(self.parcels):
            p = self.parcels[tid]
            before = p["pos"]
            p["pos"] += d
            if not p["decided"] and before < self.a.decision_mm <= p["pos"]:
                p["decided"] = True
                if p["seq"] and p["lap"] < self.a.max_laps:
                    p["target"] = p["chute"]
                else:
                    p["target"], p["failsafe"] = self.exc, True
            t = p["target"]
            if p["decided"] and t and before < self.chute_pos(t) <= p["pos"]:
                r = self.done[tid]
                r["laps"] = p["lap"]
                if p["lose"]:
                    r["state"] = "lost"
                    self.confirm(p["seq"], tid, 0, LOST)
                    del self.parcels[tid]
                    continue
                if p["failsafe"]:
                    self.fill[t] += 1
                    r.update(state="exception", chute=t, diverts=r["diverts"] + 1)
                    self.confirm(p["seq"], tid, t, REJECTED)
                    del self.parcels[tid]
                    continue
                if t not in self.disabled and not self.full(t):
                    self.fill[t] += 1
                    r.update(state="diverted", chute=t, diverts=r["diverts"] + 1)
                    self.confirm(p["seq"], tid, t, DIVERTED)
                    del self.parcels[tid]
                    continue
                r["state"] = "recirculating"
                self.confirm(p["seq"], tid, 0, RECIRCULATED)
                p["target"] = 0
            if p["pos"] >= self.loop_mm:
                p.update(pos=p["pos"] - self.loop_mm, lap=p["lap"] + 1, decided=False, seq=0,
                         chute=0, target=0, failsafe=False)
        self.publish()

    def drop_connections(self):
        for s in self.servers:
            conns = getattr(s, "active_connections", {})
            for h in list(conns.values()):
                h.transport.close()

    # control port
    def control(self, line):
        w = line.split()
        if not w:
            return "error empty command (try 'help')"
        c, args = w[0], w[1:]

        def num(i, lo, hi, what):
            if i >= len(args):
                raise ValueError(f"{c}: missing {what}")
            try:
                v = int(args[i])
            except ValueError:
                raise ValueError(f"{c}: {what} '{args[i]}' is not an integer")
            if not lo <= v <= hi:
                raise ValueError(f"{c}: {what} {v} is out of range {lo}..{hi}")
            return v
        try:
            if c == "help":
                return "ok induct fill empty disable enable lose restart advance " \
                       "drop-connection parcel stats fault"
            if c == "induct":
                if len(args) not in (0, 1, 4):
                    raise ValueError("induct: give weight_g and all three dimensions, or none")
                wt = num(0, 1, 1000000, "weight_g") if args else 0
                dims = tuple(num(i, 1, 65535, "size") for i in (1, 2, 3)) if len(args) == 4 \
                    else (0, 0, 0)
                return f"ok {self.induct(wt, dims)}"
            if c in ("fill", "empty", "disable", "enable"):
                ch = num(0, 1, self.a.chutes, "chute")
                {"fill": lambda: self.forced.add(ch),
                 "empty": lambda: (self.forced.discard(ch), self.fill.__setitem__(ch, 0)),
                 "disable": lambda: self.disabled.add(ch),
                 "enable": lambda: self.disabled.discard(ch)}[c]()
                self.publish()
                return "ok"
            if c == "lose":
                tid = num(0, 1, 0xFFFFFFFF, "tracking id")
                if tid not in self.parcels:
                    raise ValueError(f"lose: tracking id {tid} is not on the belt")
                self.parcels[tid]["lose"] = True
                return "ok"
            if c == "fault":
                self.fault = num(0, 0, 65535, "code")
                self.publish()
                return "ok"
            if c == "restart":
                self.drop_connections()
                self.reset()
                return f"ok boot={self.boot}"
            if c == "drop-connection":
                self.drop_connections()
                return "ok"
            if c == "advance":
                ms = num(0, 1, 3600000, "ms")
                t = 0
                while t < ms:
                    self.step(min(5, ms - t))
                    t += 5
                return "ok"
            if c == "parcel":
                tid = num(0, 1, 0xFFFFFFFF, "tracking id")
                if tid not in self.done:
                    raise ValueError(f"parcel: tracking id {tid} unknown")
                r = self.done[tid]
                return (f"ok tid={tid} state={r['state']} chute={r['chute']} "
                        f"diverts={r['diverts']} laps={r['laps']} seq={r['seq']}")
            if c == "stats":
                return "ok boot=%d belt=%d " % (self.boot, len(self.parcels)) + " ".join(
                    f"{k}={v}" for k, v in sorted(self.stats.items()))
            return f"error unknown command '{c}' (try 'help')"
        except ValueError as e:
            return f"error {e}"

    async def heartbeat(self):
        while True:
            await asyncio.sleep(0.1)
            if not self.freeze:
                self.hb = (self.hb + 1) & 0xFFFF
            if not self.a.manual_clock:
                self.step(100)
            self.publish()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--rtu", default="")
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--control-port", type=int, default=0)
    ap.add_argument("--manual-clock", action="store_true")
    ap.add_argument("--chutes", type=int, default=12)
    ap.add_argument("--exception-chute", type=int, default=0)
    ap.add_argument("--capacity", type=int, default=0)
    ap.add_argument("--speed", type=int, default=2000)
    ap.add_argument("--decision-mm", type=int, default=2000)
    ap.add_argument("--first-chute-mm", type=int, default=3000)
    ap.add_argument("--chute-pitch-mm", type=int, default=500)
    ap.add_argument("--loop-mm", type=int, default=0)
    ap.add_argument("--max-laps", type=int, default=3)
    for k, v in (("command-base", 0), ("status-base", 100), ("confirm-base", 200),
                 ("induct-base", 400), ("measure-base", 500), ("confirm-ring", 16),
                 ("induct-ring", 32), ("measure-ring", 8)):
        ap.add_argument("--" + k, type=int, default=v)
    a = ap.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    plc = Plc(a)

    async def on_control(reader, writer):
        while True:
            line = await reader.readline()
            if not line:
                break
            text = line.decode("utf-8", "replace").strip()
            if text == "quit":
                break
            writer.write((plc.control(text) + "\n").encode())
            await writer.drain()
        writer.close()

    ctl = await asyncio.start_server(on_control, a.host, a.control_port)
    ctl_port = ctl.sockets[0].getsockname()[1]
    if a.rtu:
        server = ModbusSerialServer(plc.context, framer=ModbusRtuFramer, port=a.rtu,
                                    baudrate=a.baud, timeout=0.005)
        await server.start()
        port = 0
    else:
        server = ModbusTcpServer(plc.context, framer=ModbusSocketFramer,
                                 address=(a.host, a.port), allow_reuse_address=True)
        asyncio.get_event_loop().create_task(server.serve_forever())
        await server.serving
        port = server.server.sockets[0].getsockname()[1]
    plc.servers.append(server)
    asyncio.get_event_loop().create_task(plc.heartbeat())
    print(f"READY modbus={port} control={ctl_port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
