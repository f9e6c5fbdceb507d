// The live station state in the page: the gateway's live stream (Server-Sent Events) gives the
// whole state first ("snapshot"), then every update ("update", applied with the rules of
// docs/protocol.md, the same as the gateway's), heartbeats ("hb") and "stale" when the gateway
// has lost the daemon. The page is stale too when the stream breaks or goes quiet.

export const live = {
  state: null,        // the station state (snapshot + updates)
  seq: 0,
  instance: '',
  live: false,
  reason: 'connecting',
  since: 0,
  lastEvent: 0,       // Date.now() of the last event from the gateway
  decisions: [],      // the last decisions (parcel.decided / parcel.exception), newest first
  lastDecision: null,
  arrivals: new Map(), // parcel_id -> Date.now() when its decision reached the page (tests; the last 1000)
  events: 0,
};

const MAX_DECISIONS = 30;
const QUIET_MS = 4000;  // heartbeats come every second
const subs = new Set();
let es = null;

export function onChange(f) { subs.add(f); return () => subs.delete(f); }
function emit(kind, detail) { for (const f of subs) f(kind, detail); }

function replaceBy(list, key, body, add) {
  const i = list.findIndex((e) => e[key] === body[key]);
  if (i >= 0) list[i] = body; else if (add) list.push(body);
}

function without(body, ...keys) {
  const b = { ...body };
  for (const k of keys) delete b[k];
  return b;
}

export function applyUpdate(state, topic, body) {
  switch (topic) {
    case 'lane': replaceBy(state.lanes, 'lane', without(body, 'seq', 'time'), false); break;
    case 'courier': replaceBy(state.couriers, 'courier', without(body, 'seq', 'time'), false); break;
    case 'device': replaceBy(state.devices, 'device', without(body, 'seq', 'time'), true); break;
    case 'alarm': {
      const i = state.alarms.findIndex((a) => a.key === body.key);
      if (body.raised) {
        const a = { key: body.key, severity: body.severity, text: body.text, since: body.time };
        if (i >= 0 && state.alarms[i].since) a.since = state.alarms[i].since;
        if ('acked' in body) a.acked = body.acked;
        if ('acked_by' in body) a.acked_by = body.acked_by;
        if (i >= 0) state.alarms[i] = a; else state.alarms.push(a);
      } else if (i >= 0) {
        state.alarms.splice(i, 1);
      }
      break;
    }
    case 'stats': state.stats = without(body, 'seq'); break;
    case 'station': state.station.degraded = !!body.degraded; break;
    case 'parcel.diverted': state.recent.unshift(without(body, 'seq')); state.recent.length = Math.min(state.recent.length, 20); break;
    case 'parcel.exception':
      if ('state' in body) {
        state.recent.unshift(without(body, 'seq'));
        state.recent.length = Math.min(state.recent.length, 20);
      }
      break;
    default: break;
  }
}

function isDecision(topic, body) {
  return topic === 'parcel.decided' || (topic === 'parcel.exception' && !('state' in body));
}

function noteDecision(d) {
  live.lastDecision = d;
  live.decisions.unshift(d);
  if (live.decisions.length > MAX_DECISIONS) live.decisions.length = MAX_DECISIONS;
  if (d.parcel_id != null && !live.arrivals.has(d.parcel_id)) {
    live.arrivals.set(d.parcel_id, Date.now());
    // A wall screen runs for weeks: keep the last ones only (a Map iterates oldest first).
    if (live.arrivals.size > 1000) live.arrivals.delete(live.arrivals.keys().next().value);
  }
}

// A final state updates the row of its parcel (e.g. a lost or rejected parcel turns red).
function noteFinal(f) {
  for (const d of live.decisions) {
    if (d.parcel_id === f.parcel_id) {
      d.final = f;
      if (f.exception && f.exception !== 'none') { d.exception = f.exception; d.reason = f.reason || d.reason; }
      break;
    }
  }
}

function setStale(reason, since) {
  const was = live.live;
  live.live = false;
  live.reason = reason;
  live.since = since || Date.now();
  if (was || !live.reasonShown) emit('stale', reason);
  live.reasonShown = true;
}

function onSnapshot(msg) {
  live.state = msg.state;
  if (live.state) {
    for (const k of ['lanes', 'couriers', 'devices', 'alarms', 'recent']) live.state[k] ??= [];
    live.state.station ??= {};
    live.state.stats ??= {};
  }
  live.seq = msg.seq;
  live.instance = msg.instance;
  live.live = !!msg.live;
  if (!msg.live) { live.reason = msg.reason || 'stale'; live.since = msg.since || Date.now(); }
  // Seed the station screen with the last final states when it has nothing yet.
  if (live.state && live.decisions.length === 0) {
    live.decisions = live.state.recent.slice(0, 10).map((r) => ({ ...r, fromSnapshot: true }));
    live.lastDecision = live.decisions[0] || null;
  }
  emit('snapshot');
}

function onUpdate(msg) {
  const { topic, body } = msg;
  if (!live.state) return;
  if (typeof body.seq === 'number' && body.seq > live.seq) live.seq = body.seq;
  applyUpdate(live.state, topic, body);
  if (isDecision(topic, body)) {
    noteDecision({ ...body });
    emit('decision', body);
  } else if (topic === 'parcel.diverted' || topic === 'parcel.exception') {
    noteFinal(body);
    emit('final', body);
  }
  emit('update', topic);
}

export function connect() {
  if (es) es.close();
  es = new EventSource('/api/stream');
  es.addEventListener('snapshot', (e) => { live.lastEvent = Date.now(); live.events++; onSnapshot(JSON.parse(e.data)); });
  es.addEventListener('update', (e) => { live.lastEvent = Date.now(); live.events++; onUpdate(JSON.parse(e.data)); });
  es.addEventListener('hb', (e) => {
    live.lastEvent = Date.now();
    const m = JSON.parse(e.data);
    if (m.seq > live.seq) live.seq = m.seq;
    emit('hb');
  });
  es.addEventListener('stale', (e) => {
    live.lastEvent = Date.now();
    const m = JSON.parse(e.data);
    setStale(m.reason, m.since);
  });
  es.onerror = () => {
    // The browser reconnects by itself (retry: 1000); until the next snapshot we are stale.
    setStale('the HMI gateway is not reachable');
  };
}

// The stream going quiet (no heartbeat) also means stale.
setInterval(() => {
  if (live.live && Date.now() - live.lastEvent > QUIET_MS) {
    setStale('no data from the gateway for ' + Math.round(QUIET_MS / 1000) + ' s');
    connect();
  }
}, 1000);

if (typeof window !== 'undefined') window.__hmi = live;
