// The HMI on a cheap floor PC: the demo station (sortd --demo, 4 parcels/s), the gateway and
// Debian's headless Chromium with its CPU slowed down by Chrome's own throttling (DevTools
// protocol, Emulation.setCPUThrottlingRate: 1x = this machine, 4x and 6x = the slow PCs of a
// sorting floor). For the station screen and the dashboard at each speed it prints:
//   load     from navigation to live data on the page (snapshot loaded, stream joined);
//   screen   how long after sortctl watch received a parcel's decision the station screen's big
//            number showed it (the next animation frame after the change): p50, p99, max;
//   busy     the share of the window the page's main thread spent on tasks (script, style,
//            layout, paint), from Performance.getMetrics' TaskDuration;
//   heap     the JavaScript heap after a forced collection at the end of the window, and its
//            growth over the window (a page that runs for weeks must not grow).
// Usage: node bench/bench_hmi.mjs [--seconds 20] [--rates 1,4,6]
//   (needs a build: sortd, sortctl, sortd-hmi and the page; SORTD_BUILD_DIR picks the build)
import { Station, until, sleep } from '../tests/browser/station.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const SECONDS = Number(arg('--seconds', '20'));
const RATES = arg('--rates', '1,4,6').split(',').map(Number);

const pct = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);
const metric = (m, name) => m.metrics.find((x) => x.name === name)?.value ?? 0;

const st = new Station();
await st.start();
const rows = [];
try {
  const cdp = await st.context.newCDPSession(st.page);
  await cdp.send('Performance.enable');
  await cdp.send('HeapProfiler.enable');
  await until('parcels to flow', async () => ((await st.ctl('status')).result?.stats?.decided ?? 0) >= 3, 60000, 500);
  for (const rate of RATES) {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    for (const view of ['station', 'dashboard']) {
      // A full load of the page, as a floor PC does at start-up.
      await st.page.goto('about:blank');
      const t0 = Date.now();
      await st.page.goto(`${st.url}#/${view}`);
      await st.page.waitForFunction(() => window.__hmi && window.__hmi.live === true, null, { timeout: 60000, polling: 50 });
      const load = Date.now() - t0;
      // When the big number shows each parcel: the frame after its change. The station screen
      // only: the dashboard has no per-parcel figure, its cost shows in `busy`.
      await st.page.evaluate(() => {
        window.__painted = new Map();
        const b = document.querySelector('[data-testid=station-big]');
        if (!b) return;
        new MutationObserver(() => {
          const id = Number(b.dataset.parcel);
          if (!window.__painted.has(id)) requestAnimationFrame(() => window.__painted.set(id, Date.now()));
        }).observe(b, { attributes: true, attributeFilter: ['data-parcel'] });
      });
      await sleep(1000);
      await cdp.send('HeapProfiler.collectGarbage');
      const m0 = await cdp.send('Performance.getMetrics');
      const from = st.observed.length;
      const w0 = Date.now();
      await sleep(SECONDS * 1000);
      const m1 = await cdp.send('Performance.getMetrics');
      const wall = (Date.now() - w0) / 1000;
      await sleep(1500);  // the last decisions of the window reach the screen
      await cdp.send('HeapProfiler.collectGarbage');
      const m2 = await cdp.send('Performance.getMetrics');
      const painted = new Map(await st.page.evaluate(() => [...window.__painted]));
      const decided = st.observed.slice(from)
        .filter((o) => o.topic === 'parcel.decided' || (o.topic === 'parcel.exception' && !('state' in o.body)));
      const delays = decided.filter((o) => painted.has(o.body.parcel_id))
        .map((o) => painted.get(o.body.parcel_id) - o.at).sort((a, b) => a - b);
      rows.push({
        rate, view, load, decisions: decided.length, shown: delays.length,
        p50: pct(delays, 50), p99: pct(delays, 99), max: delays.at(-1) ?? NaN,
        busy: (metric(m1, 'TaskDuration') - metric(m0, 'TaskDuration')) / wall,
        heap: metric(m2, 'JSHeapUsedSize'), growth: metric(m2, 'JSHeapUsedSize') - metric(m0, 'JSHeapUsedSize'),
      });
      const r = rows.at(-1);
      console.log(`bench_hmi: cpu ${rate}x ${view}: load ${r.load} ms; ` +
        (view === 'station' ? `screen behind sortctl p50 ${r.p50} ms p99 ${r.p99} ms max ${r.max} ms (${r.shown}/${r.decisions} decisions shown); ` : '') +
        `main thread busy ${(100 * r.busy).toFixed(1)}%; heap ${(r.heap / 1048576).toFixed(1)} MiB (${r.growth >= 0 ? '+' : ''}${(r.growth / 1024).toFixed(0)} KiB over ${SECONDS} s)`);
    }
  }
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
} finally {
  await st.stop();
}
console.log('\n| CPU | view | load (ms) | screen p50 / p99 / max (ms) | main thread busy | JS heap (growth) |');
console.log('|---|---|---|---|---|---|');
for (const r of rows)
  console.log(`| ${r.rate}x | ${r.view} | ${r.load} | ${r.view === 'station' ? `${r.p50} / ${r.p99} / ${r.max}` : '—'} | ` +
    `${(100 * r.busy).toFixed(1)}% | ${(r.heap / 1048576).toFixed(1)} MiB (${r.growth >= 0 ? '+' : ''}${(r.growth / 1024).toFixed(0)} KiB) |`);
