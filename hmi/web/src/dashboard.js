// The supervisors' dashboard: lanes as tiles, throughput per hour (uPlot), read rate, exception
// rate by reason, decision latency, courier capacity and time to cutoff, devices, alarms.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, clear, morph, fmtTime, pct, kg } from './dom.js';
import { t, tException, tError } from './i18n.js';
import { live } from './live.js';
import { api } from './api.js';

function minutesToCutoff(c, stamp) {
  if (c.minutes_to_cutoff == null) return null;
  // Valid at the message's time: count down from there.
  return c.minutes_to_cutoff - Math.floor((Date.now() - stamp) / 60000);
}

export function dashboardView() {
  const kpis = h('div', { class: 'kpis', 'data-testid': 'kpis' });
  const lanes = h('div', { class: 'lanes', 'data-testid': 'lanes' });
  const chartBox = h('div', { class: 'chart', 'data-testid': 'throughput-chart' });
  const reasons = h('div', { class: 'reasons', 'data-testid': 'reasons' });
  const couriers = h('table', { class: 'couriers', 'data-testid': 'couriers' });
  const devices = h('ul', { class: 'devices', 'data-testid': 'devices' });
  const alarms = h('ul', { class: 'alarms', 'data-testid': 'alarms' });
  const alarmMsg = h('div', { class: 'msg', 'data-testid': 'alarm-msg' });
  const degraded = h('div', { class: 'degraded', 'data-testid': 'degraded', hidden: true });
  const titles = {};
  const card = (key, ...body) => {
    titles[key] = h('h2', null, t(key));
    return h('section', { class: 'card card-' + key }, titles[key], ...body);
  };
  const root = h('div', { class: 'dashboard' },
    degraded,
    kpis,
    h('div', { class: 'dash-grid' },
      card('lanes', lanes),
      card('throughput', chartBox),
      card('exceptionsByReason', reasons),
      card('couriers', couriers),
      card('devices', devices),
      card('alarms', alarms, alarmMsg)));

  let plot = null;
  let status = null;  // the daemon's `status` (decision latency)
  let couriersStamp = Date.now();
  let statusTimer = null;

  async function pollStatus() {
    const r = await api.get('/api/status');
    if (r.ok) status = r.result;
    render();
  }

  function kpi(key, value, testid, sub) {
    return h('div', { class: 'kpi', 'data-testid': testid },
      h('div', { class: 'kpi-v' }, value), h('div', { class: 'kpi-k' }, t(key)), sub ? h('div', { class: 'kpi-s' }, sub) : null);
  }

  function renderKpis(st) {
    const s = st.stats || {};
    const hourNow = (s.per_hour || []).at(-1)?.parcels;
    const exRate = s.decided ? s.exceptions / s.decided : null;
    morph(kpis,
      kpi('decided', s.decided ?? '—', 'kpi-decided'),
      kpi('diverted', s.diverted ?? '—', 'kpi-diverted'),
      kpi('readRate', pct(s.read_rate), 'kpi-read-rate', `${s.reads ?? 0} / ${s.no_reads ?? 0} ${t('noRead')}`),
      kpi('exceptionRate', pct(exRate), 'kpi-exception-rate', `${s.exceptions ?? 0} ${t('exceptions')}`),
      kpi('throughput', hourNow ?? '—', 'kpi-hour', t('perHour')),
      kpi('inFlight', s.in_flight ?? '—', 'kpi-in-flight'),
      kpi('latency', status ? `${(status.decision_latency_us.p50 / 1000).toFixed(2)} ms` : '—', 'kpi-latency',
        status ? `${t('p99')} ${(status.decision_latency_us.p99 / 1000).toFixed(2)} ms` : null));
    kpis.dataset.statsTime = s.time ?? '';
  }

  function renderLanes(st) {
    const byCourier = Object.fromEntries((st.couriers || []).map((c) => [c.courier, c]));
    morph(lanes, st.lanes.map((l) => {
      const c = byCourier[l.courier];
      const fillPct = l.bag_max_count ? Math.min(100, (100 * l.fill) / l.bag_max_count) : 0;
      return h('div', {
        class: `tile st-${l.state} kind-${l.kind}`, 'data-testid': `lane-${l.lane}`,
        'data-state': l.state, 'data-courier': l.courier || '', 'data-fill': l.fill,
      },
      h('div', { class: 'tile-top' },
        h('span', { class: 'tile-n' }, l.lane),
        h('span', { class: 'tile-state' }, t('state_' + l.state))),
      h('div', { class: 'tile-courier' }, h('span', { class: 'swatch', style: { background: c?.color || '#888' } }),
        l.kind === 'courier' ? (c?.name || l.courier) : t('kind_' + l.kind) + (l.courier ? ' · ' + (c?.name || l.courier) : '')),
      h('div', { class: 'bar' }, h('div', { class: 'bar-in', style: { width: fillPct + '%' } })),
      h('div', { class: 'tile-fill' }, `${l.fill}${l.bag_max_count ? ' / ' + l.bag_max_count : ''} · ${kg(l.fill_g)}`),
      l.bag ? h('div', { class: 'tile-bag muted', 'data-testid': `lane-bag-${l.lane}` }, l.bag) : null);
    }));
  }

  function renderChart(st) {
    // The last 12 hours, hour by hour (an hour without parcels is a zero, not a gap).
    const ph = (st.stats && st.stats.per_hour) || [];
    const byHour = new Map(ph.map((p) => [Math.floor(p.hour / 3600000), p.parcels]));
    // "Now" on the station's clock (the time of its last statistics), not this PC's.
    const now = (st.stats && st.stats.time) || Date.now();
    const last = Math.max(Math.floor(now / 3600000), ...byHour.keys());
    const xs = [];
    const ys = [];
    for (let hr = last - 11; hr <= last; hr++) { xs.push(hr * 3600); ys.push(byHour.get(hr) ?? 0); }
    const width = Math.max(260, chartBox.clientWidth - 8);
    if (!plot) {
      clear(chartBox);
      plot = new uPlot({
        width, height: 200,
        scales: { x: { time: true, range: (u, min, max) => [min - 1800, max + 1800] } },
        axes: [{ stroke: '#9aa4b2', grid: { stroke: '#2a3340' } }, { stroke: '#9aa4b2', grid: { stroke: '#2a3340' } }],
        legend: { show: false },
        series: [{}, {
          label: t('perHour'), stroke: '#3fb950', fill: 'rgba(63,185,80,0.35)', width: 1,
          paths: uPlot.paths.bars({ size: [0.7, 60] }), points: { show: false },
        }],
      }, [xs, ys], chartBox);
    } else {
      if (Math.abs(plot.width - width) > 4) plot.setSize({ width, height: 200 });
      plot.setData([xs, ys]);
    }
    chartBox.dataset.points = ph.map((p) => p.parcels).join(',');
  }

  function renderReasons(st) {
    const by = (st.stats && st.stats.exceptions_by_reason) || {};
    const total = (st.stats && st.stats.decided) || 0;
    const rows = Object.entries(by).sort((a, b) => b[1] - a[1]);
    const max = Math.max(1, ...rows.map((r) => r[1]));
    morph(reasons, rows.length ? null : h('div', { class: 'muted' }, t('noData')),
      rows.map(([code, n]) => h('div', { class: 'reason-row', 'data-reason': code },
        h('span', { class: 'reason-name' }, tException(code)),
        h('span', { class: 'bar' }, h('span', { class: 'bar-in bad', style: { width: (100 * n) / max + '%' } })),
        h('span', { class: 'reason-n' }, `${n} · ${total ? pct(n / total) : '—'}`))));
  }

  function renderCouriers(st) {
    morph(couriers, h('tr', null, h('th', null, t('courier')), h('th', null, t('used')), h('th', null, t('left')),
      h('th', null, ''), h('th', null, t('cutoff')), h('th', null, t('toCutoff'))),
    st.couriers.map((c) => {
      const lim = c.daily_parcels > 0;
      const usedPct = lim ? Math.min(100, (100 * c.used) / c.daily_parcels) : 0;
      const m = minutesToCutoff(c, couriersStamp);
      return h('tr', { 'data-courier': c.courier },
        h('td', null, h('span', { class: 'swatch', style: { background: c.color || '#888' } }), c.name || c.courier),
        h('td', null, lim ? `${c.used} / ${c.daily_parcels}` : `${c.used}`),
        h('td', { class: c.left === 0 ? 'bad-text' : '' }, c.left < 0 ? t('unlimited') : c.left),
        h('td', { class: 'cap' }, h('span', { class: 'bar' }, h('span', { class: 'bar-in' + (usedPct > 90 ? ' bad' : ''), style: { width: usedPct + '%' } }))),
        h('td', null, c.cutoff || '—'),
        h('td', { class: m != null && m <= 30 ? 'bad-text' : '' },
          m == null ? '—' : m <= 0 ? t('cutoffPassed') : `${Math.floor(m / 60)}h ${m % 60}${t('min')}`));
    }));
  }

  function renderDevices(st) {
    morph(devices, st.devices.map((d) =>
      h('li', { class: d.up ? 'up' : 'down', 'data-device': d.device, 'data-up': d.up ? '1' : '0' },
        h('span', { class: 'dot' }),
        h('span', { class: 'dev-name' }, d.device),
        h('span', { class: 'dev-kind' }, d.kind === 'sorter' ? 'PLC' : d.kind),
        h('span', { class: 'dev-state' }, d.up ? t('up') : t('down')),
        h('span', { class: 'dev-detail' }, d.detail || ''),
        h('span', { class: 'dev-since' }, t('since') + ' ' + fmtTime(d.since)))));
  }

  function renderAlarms(st) {
    morph(alarms, st.alarms.length ? null : h('li', { class: 'muted' }, t('noAlarms')),
      st.alarms.map((a) => h('li', { class: 'alarm sev-' + a.severity + (a.acked ? ' acked' : ''), 'data-key': a.key },
        h('span', { class: 'alarm-text' }, a.text),
        h('span', { class: 'alarm-since' }, fmtTime(a.since)),
        a.acked ? h('span', { class: 'alarm-acked' }, `${t('acked')} ${t('by')} ${a.acked_by || ''}`)
          : h('button', { class: 'small', 'data-testid': 'ack-' + a.key, onclick: async () => {
            const r = await api.action('alarm.ack', { key: a.key });
            alarmMsg.className = 'msg ' + (r.ok ? 'ok' : 'err');
            alarmMsg.textContent = r.ok ? `${t('ack')}: ${t('done')}` : `${tError(r.error.code)}: ${r.error.message}`;
          } }, t('ack')))));
  }

  let pending = false;
  let lastPaint = 0;
  function render() {
    // Coalesce bursts: at most ~4 paints a second on a cheap PC.
    if (pending) return;
    pending = true;
    const wait = Math.max(0, 250 - (Date.now() - lastPaint));
    setTimeout(() => requestAnimationFrame(() => { pending = false; lastPaint = Date.now(); paint(); }), wait);
  }
  function paint() {
    for (const [k, el] of Object.entries(titles)) if (el.textContent !== t(k)) el.textContent = t(k);
    const st = live.state;
    if (!st) return;
    degraded.hidden = !st.station.degraded;
    if (degraded.textContent !== t('degraded')) degraded.textContent = t('degraded');
    renderKpis(st);
    renderLanes(st);
    renderChart(st);
    renderReasons(st);
    renderCouriers(st);
    renderDevices(st);
    renderAlarms(st);
  }

  return {
    root,
    render,
    paint,
    onUpdate(topic) { if (topic === 'courier') couriersStamp = Date.now(); },
    show() { pollStatus(); statusTimer = setInterval(pollStatus, 5000); couriersStamp = Date.now(); },
    hide() { clearInterval(statusTimer); },
  };
}
