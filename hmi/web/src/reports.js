// Reports (docs/reports.md): a range of days in the station's time, per hour or per day, from the
// daemon's `report` query (SQL over the stored events). Totals, a chart of parcels per period
// (uPlot), the table of periods, and the range's parcels by courier, exceptions by reason, lanes
// and capacity used; the same report as CSV for a spreadsheet.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, clear, pct, kg } from './dom.js';
import { t, tException, tError } from './i18n.js';
import { api } from './api.js';

function q(params) {
  return Object.entries(params).filter(([, v]) => v).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

export function reportsView() {
  const period = h('select', { 'data-testid': 'report-period' }, h('option', { value: 'hour' }), h('option', { value: 'day' }));
  const from = h('input', { type: 'date', 'data-testid': 'report-from' });
  const to = h('input', { type: 'date', 'data-testid': 'report-to' });
  const fromLbl = h('label');
  const toLbl = h('label');
  const periodLbl = h('label');
  const load = h('button', { class: 'primary', 'data-testid': 'report-load', onclick: () => fetchReport() });
  const csvBtn = h('button', { 'data-testid': 'report-csv', onclick: () => downloadCsv() });
  const msg = h('div', { class: 'msg', 'data-testid': 'report-msg' });
  const heading = h('div', { class: 'muted', 'data-testid': 'report-heading' });
  const kpis = h('div', { class: 'kpis', 'data-testid': 'report-kpis' });
  const chartBox = h('div', { class: 'chart', 'data-testid': 'report-chart' });
  const periods = h('table', { 'data-testid': 'report-periods' });
  const couriers = h('table', { 'data-testid': 'report-couriers' });
  const reasons = h('table', { 'data-testid': 'report-reasons' });
  const lanes = h('table', { 'data-testid': 'report-lanes' });
  const capacity = h('table', { 'data-testid': 'report-capacity' });
  const titles = {};
  const title = (k) => (titles[k] = h('h3', null));
  const root = h('section', { class: 'reports' },
    h('div', { class: 'row report-controls' }, periodLbl, period, fromLbl, from, toLbl, to, load, csvBtn),
    msg, heading, kpis,
    title('reportChart'), chartBox,
    title('reportPeriods'), periods,
    h('div', { class: 'grid2' },
      h('div', null, title('reportCouriers'), couriers),
      h('div', null, title('exceptionsByReason'), reasons)),
    h('div', { class: 'grid2' },
      h('div', null, title('reportCapacity'), capacity),
      h('div', null, title('reportLanes'), lanes)));
  let rep = null;
  let plot = null;

  function args(format) {
    return q({ period: period.value, from: from.value, to: to.value, format });
  }

  async function fetchReport() {
    msg.className = 'msg';
    msg.textContent = '…';
    const r = await api.get('/api/report?' + args());
    if (!r.ok) {
      msg.className = 'msg err';
      msg.textContent = `${tError(r.error.code)} (${r.error.code}): ${r.error.message}`;
      return;
    }
    msg.textContent = '';
    rep = r.result;
    if (!from.value) from.value = rep.from.slice(0, 10);
    if (!to.value) {
      const last = rep.buckets.length ? rep.buckets[rep.buckets.length - 1].start : rep.from;
      to.value = last.slice(0, 10);
    }
    paint();
  }

  async function downloadCsv() {
    const r = await api.get('/api/report?' + args('csv'));
    if (!r.ok) {
      msg.className = 'msg err';
      msg.textContent = `${tError(r.error.code)} (${r.error.code}): ${r.error.message}`;
      return;
    }
    const a = h('a', {
      href: URL.createObjectURL(new Blob([r.result.text], { type: 'text/csv' })),
      download: `sortd-report-${period.value}-${from.value || 'today'}-${to.value || 'today'}.csv`,
    });
    document.body.append(a);
    a.click();
    a.remove();
  }

  function row(cells, attrs) { return h('tr', attrs, cells.map((c) => h('td', null, c))); }
  function head(keys) { return h('tr', null, keys.map((k) => h('th', null, t(k)))); }

  function renderChart() {
    const xs = rep.buckets.map((b) => b.start_ms / 1000);
    const ys = rep.buckets.map((b) => b.parcels);
    const ex = rep.buckets.map((b) => b.exceptions);
    const width = Math.max(260, chartBox.clientWidth - 8);
    const bucket = rep.period === 'hour' ? 3600 : 86400;
    if (plot) plot.destroy();
    clear(chartBox);
    // The axis in the station's time, not the browser's: a Date whose local fields are the
    // station's wall clock.
    const off = rep.utc_offset_min * 60;
    const tzDate = (ts) => {
      const d = new Date((ts + off) * 1000);
      return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes());
    };
    plot = new uPlot({
      width, height: 200, tzDate,
      scales: { x: { time: true, range: (u, min, max) => [min - bucket / 2, max + bucket / 2] } },
      axes: [{ stroke: '#9aa4b2', grid: { stroke: '#2a3340' } }, { stroke: '#9aa4b2', grid: { stroke: '#2a3340' } }],
      legend: { show: false },
      series: [{}, {
        label: t('parcels'), stroke: '#3fb950', fill: 'rgba(63,185,80,0.35)', width: 1,
        paths: uPlot.paths.bars({ size: [0.7, 60] }), points: { show: false },
      }, {
        label: t('exceptions'), stroke: '#f85149', fill: 'rgba(248,81,73,0.45)', width: 1,
        paths: uPlot.paths.bars({ size: [0.35, 30] }), points: { show: false },
      }],
    }, [xs, ys, ex], chartBox);
    chartBox.dataset.points = ys.join(',');
  }

  function paint() {
    for (const [k, el] of Object.entries(titles)) el.textContent = t(k);
    periodLbl.textContent = t('reportPeriod');
    period.options[0].textContent = t('perHourShort');
    period.options[1].textContent = t('perDay');
    fromLbl.textContent = t('reportFrom');
    toLbl.textContent = t('reportTo');
    load.textContent = t('reportLoad');
    csvBtn.textContent = t('reportCsv');
    if (!rep) return;
    const off = rep.utc_offset_min;
    const tz = `UTC${off < 0 ? '-' : '+'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
    heading.textContent = `${rep.from} → ${rep.to} (${tz})`;
    const tot = rep.total;
    clear(kpis);
    const kpi = (k, v, s, id) => h('div', { class: 'kpi', 'data-testid': 'report-kpi-' + id }, h('div', { class: 'kpi-v' }, v), h('div', { class: 'kpi-k' }, t(k)), s ? h('div', { class: 'kpi-s' }, s) : null);
    kpis.append(
      kpi('reportParcels', tot.parcels, null, 'parcels'),
      kpi('sorted', tot.sorted, null, 'sorted'),
      kpi('exceptions', tot.exceptions, tot.parcels ? pct(tot.exceptions / tot.parcels) : null, 'exceptions'),
      kpi('readRate', pct(tot.read_rate), `${tot.no_reads} ${t('noRead')} / ${tot.reads}`, 'read-rate'),
      kpi('recirculationRate', pct(tot.recirculation_rate), `${tot.recirculated} ${t('recirculated')}`, 'recirculation'),
      kpi('missorts', tot.missorts, `${t('notTaken')} ${tot.not_taken} · ${t('notOnManifest')} ${tot.not_on_manifest}`, 'missorts'));
    renderChart();

    clear(periods).append(head(['reportPeriodCol', 'reportParcels', 'sorted', 'exceptions', 'inFlight', 'reads', 'readRate', 'recirculated', 'recirculationRate', 'missorts', 'notTaken', 'notOnManifest']));
    for (const b of [...rep.buckets, tot])
      periods.append(row([b.start === 'total' ? t('total') : b.start, b.parcels, b.sorted, b.exceptions, b.in_flight, b.reads,
        pct(b.read_rate), b.recirculated, pct(b.recirculation_rate), b.missorts, b.not_taken, b.not_on_manifest],
      { 'data-start': b.start, class: b.start === 'total' ? 'total' : b.parcels ? '' : 'muted' }));

    clear(couriers).append(head(['courier', 'reportParcels', 'sorted', 'weight', 'missorts', 'notTaken', 'notOnManifest']));
    for (const c of tot.by_courier)
      couriers.append(row([c.courier || t('noCourier'), c.parcels, c.sorted, kg(c.grams), c.missorts, c.not_taken, c.not_on_manifest], { 'data-courier': c.courier }));

    clear(reasons).append(head(['reason', 'reportParcels']));
    if (!tot.exceptions_by_reason.length) reasons.append(row([t('noData'), '']));
    for (const e of tot.exceptions_by_reason) reasons.append(row([tException(e.reason), e.parcels], { 'data-reason': e.reason }));

    clear(lanes).append(head(['lane', 'courier', 'reportParcels', 'sorted']));
    for (const l of tot.by_lane) lanes.append(row([l.lane, l.courier || '—', l.parcels, l.sorted], { 'data-lane': l.lane }));

    clear(capacity).append(head(['day', 'courier', 'used', 'capacity', 'weight']));
    for (const c of rep.capacity)
      capacity.append(row([c.day, c.courier, c.daily_parcels ? `${c.parcels} / ${c.daily_parcels} (${pct(c.parcels_share)})` : c.parcels,
        c.daily_parcels ? h('span', { class: 'bar' }, h('span', { class: 'bar-in' + (c.parcels_share > 0.9 ? ' bad' : ''), style: { width: Math.min(100, 100 * c.parcels_share) + '%' } })) : t('unlimited'),
        kg(c.grams) + (c.daily_kg ? ` / ${c.daily_kg} ${t('kg')}` : '')], { 'data-courier': c.courier, 'data-day': c.day }));
  }

  return {
    root,
    render: paint,
    show() { fetchReport(); },
  };
}
