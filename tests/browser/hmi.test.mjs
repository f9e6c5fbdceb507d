// The HMI in a real browser (Debian's headless Chromium, playwright-core) against the demo
// station: sortd --demo with its bus on free loopback ports, the gateway, and sortctl as the
// independent peer. Screenshots of every page go to build/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Station, until, sleep, run, SHOTS, SRC, CLOCK_OFFSET_S } from './station.mjs';

const st = new Station();
const RED = 'rgb(229, 72, 77)';
const GREEN = 'rgb(31, 157, 85)';

before(async () => { await st.start(); }, { timeout: 180000 });
after(async () => {
  await st.stop();
  if (st.pageErrors) console.log('page errors:', st.pageErrors);
  console.log('logs and database in', st.dir);
});

const pageStats = () => st.page.evaluate(() => ({ ...window.__hmi.state.stats }));
const num = async (id) => Number((await st.page.getByTestId(id).locator('.kpi-v').textContent()).trim());

test('the page joins while parcels flow and its numbers match sortctl', { timeout: 120000 }, async () => {
  // Parcels are flowing before the page joins.
  await until('parcels to flow', async () => ((await st.ctl('status')).result?.stats?.decided ?? 0) >= 5, 60000, 500);
  await st.goto('dashboard');
  const p = st.page;
  await p.getByTestId('live-badge').and(p.locator('[data-live="1"]')).waitFor();

  // Counters: the page shows the last `stats` publication (every 5 s). Take sortctl's figures
  // (A), wait for a publication made after them (P), then take sortctl's again (B): A <= P <= B.
  const A = (await st.ctl('status')).result;
  const afterA = Date.now() + CLOCK_OFFSET_S * 1000;  // on the station's clock
  await p.waitForFunction((t) => (window.__hmi.state.stats.time || 0) > t, afterA, { timeout: 20000 });
  const P = await pageStats();
  const B = (await st.ctl('status')).result;
  for (const k of ['reads', 'no_reads', 'decided', 'diverted', 'exceptions']) {
    assert.ok(A.stats[k] <= P[k] && P[k] <= B.stats[k], `${k}: sortctl ${A.stats[k]} <= page ${P[k]} <= sortctl ${B.stats[k]}`);
  }
  // What the page shows is what it holds (a repaint may trail by a quarter second).
  await p.waitForFunction(() => Number(document.querySelector('[data-testid=kpi-decided] .kpi-v').textContent) === window.__hmi.state.stats.decided);
  const shownDecided = await num('kpi-decided');
  assert.ok(A.stats.decided <= shownDecided, `the page shows ${shownDecided} decided, sortctl had ${A.stats.decided} before`);
  const rateText = (await p.getByTestId('kpi-read-rate').locator('.kpi-v').textContent()).trim();
  const pNow = await pageStats();
  assert.equal(rateText, (pNow.read_rate * 100).toFixed(1) + '%');

  // Things published on every change match exactly: station, devices, lanes (courier, kind).
  assert.equal((await p.getByTestId('station-name').textContent()).trim(), A.station.name);
  const devs = await p.$$eval('[data-testid=devices] li', (li) => li.map((e) => [e.dataset.device, e.dataset.up === '1']));
  assert.deepEqual(new Map(devs), new Map(A.devices.map((d) => [d.device, d.up])));
  const lanes = (await st.ctl('lanes')).result.lanes;
  const tiles = await p.$$eval('[data-testid=lanes] .tile', (ts) => ts.map((t) => ({ lane: Number(t.dataset.testid.slice(5)), courier: t.dataset.courier, state: t.dataset.state })));
  assert.equal(tiles.length, lanes.length);
  for (const l of lanes) {
    const t = tiles.find((x) => x.lane === l.lane);
    assert.ok(t, `lane ${l.lane} has a tile`);
    assert.equal(t.courier, l.courier || '', `lane ${l.lane} courier`);
  }
  // The throughput chart is drawn by uPlot from stats.per_hour.
  assert.ok(await p.locator('[data-testid=throughput-chart] canvas').count() > 0);
  assert.equal(await p.getByTestId('throughput-chart').getAttribute('data-points'), pNow.per_hour.map((h) => h.parcels).join(','));
  await st.shot('dashboard-zh', true);
  await p.getByTestId('lang').click();
  await p.getByTestId('nav-dashboard').filter({ hasText: 'Dashboard' }).waitFor();
  await sleep(400);
  await st.shot('dashboard-en', true);
  await p.setViewportSize({ width: 1024, height: 768 });
  await sleep(400);
  await st.shot('dashboard-tablet', true);
  await p.setViewportSize({ width: 1920, height: 1080 });
  await sleep(400);
  await st.shot('dashboard-wall', true);
  await p.setViewportSize({ width: 1600, height: 900 });
});

test('a new parcel appears within a second', { timeout: 90000 }, async () => {
  await st.goto('station');
  const p = st.page;
  const from = st.observed.length;
  // The next 8 decisions as sortctl sees them, and when the page got each.
  await until('8 new decisions', () => st.observed.slice(from).filter((o) => o.topic === 'parcel.decided' || (o.topic === 'parcel.exception' && !('state' in o.body))).length >= 8, 60000);
  await sleep(1500);
  const seen = st.observed.slice(from).filter((o) => o.topic === 'parcel.decided' || (o.topic === 'parcel.exception' && !('state' in o.body))).slice(0, 8);
  const arrivals = await p.evaluate(() => Object.fromEntries(window.__hmi.arrivals));
  const delays = seen.map((o) => {
    assert.ok(o.body.parcel_id in arrivals, `parcel ${o.body.parcel_id} reached the page`);
    return arrivals[o.body.parcel_id] - o.at;
  });
  delays.sort((a, b) => a - b);
  console.log('page behind sortctl watch (ms):', delays.join(' '));
  assert.ok(delays[Math.floor(delays.length / 2)] < 1000, `median delay ${delays[Math.floor(delays.length / 2)]} ms`);
  assert.ok(delays.at(-1) < 1000, `slowest ${delays.at(-1)} ms`);
  // The big number is the last decision's lane (read in one turn of the page's loop).
  const big = await (await p.waitForFunction(() => {
    const b = document.querySelector('[data-testid=station-big]');
    const d = window.__hmi.lastDecision;
    return b && d ? { parcel: b.dataset.parcel, lane: b.querySelector('[data-testid=big-lane]').textContent, d } : null;
  })).jsonValue();
  assert.equal(big.parcel, String(big.d.parcel_id));
  assert.equal(big.lane, String(big.d.lane ?? '—'));
});

// What the big panel shows, read in one turn of the page's event loop (parcels come at 4/s).
async function catchBig(kind, after = null) {
  const h = await st.page.waitForFunction(([k, not]) => {
    const b = document.querySelector('[data-testid=station-big]');
    if (!b || !b.classList.contains(k) || (not !== null && Number(b.dataset.parcel) <= not)) return null;
    const text = (id) => b.querySelector(`[data-testid=${id}]`)?.textContent ?? null;
    return {
      parcel: b.dataset.parcel, bg: getComputedStyle(b).backgroundColor, lane: text('big-lane'),
      words: text('big-courier'), reason: text('big-reason'), d: window.__hmi.lastDecision,
      beeps: window.__hmiBeeps.count,
    };
  }, [kind, after], { timeout: 90000, polling: 20 });
  return h.jsonValue();
}

// A screenshot of the panel in that state. Parcels come at 4/s, faster than a screenshot on a
// busy machine: the page's JavaScript is paused (DevTools protocol) while the picture is taken,
// once the panel shows the wanted state; the DOM is read through the protocol, not the page.
async function shotOf(kind, name) {
  const cdp = await st.context.newCDPSession(st.page);
  await cdp.send('Debugger.enable');
  try {
    for (let i = 0; i < 20; i++) {
      await catchBig(kind);
      await cdp.send('Debugger.pause');
      const { root } = await cdp.send('DOM.getDocument', { depth: 0 });
      const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '[data-testid=station-big]' });
      const { attributes } = await cdp.send('DOM.getAttributes', { nodeId });
      const cls = attributes[attributes.indexOf('class') + 1] || '';
      if (cls.split(' ').includes(kind)) {
        // Through the protocol: Playwright's own screenshot would wait for the paused page.
        const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' });
        writeFileSync(join(SHOTS, name + '.png'), Buffer.from(data, 'base64'));
        return;
      }
      await cdp.send('Debugger.resume');
    }
    await st.shot(name);
  } finally {
    await cdp.send('Debugger.resume').catch(() => {});
    await cdp.send('Debugger.disable').catch(() => {});
    await cdp.detach().catch(() => {});
  }
}

test('an exception shows red with its reason, and a sorted parcel green', { timeout: 180000 }, async () => {
  await st.goto('station');
  const ok = await catchBig('good');
  assert.equal(ok.bg, GREEN);
  assert.equal(ok.parcel, String(ok.d.parcel_id));
  assert.equal(ok.lane, String(ok.d.lane));
  assert.equal(ok.words, ok.d.courier_name || ok.d.courier);
  await shotOf('good', 'station-ok');

  // An exception that arrives from now on (parcel ids grow): it must beep.
  const [beepsBefore, lastBefore] = await st.page.evaluate(() => [window.__hmiBeeps.count, window.__hmi.lastDecision?.parcel_id ?? 0]);
  const ex = await catchBig('bad', lastBefore);
  assert.notEqual(ex.d.exception, 'none');
  assert.equal(ex.parcel, String(ex.d.parcel_id));
  assert.equal(ex.bg, RED);
  // The reason in words: our translation of the code, and the daemon's own reason under it.
  assert.ok(ex.reason && ex.reason.length > 0, 'a reason is shown');
  assert.equal(ex.reason, ex.d.reason);
  assert.ok(ex.words && ex.words !== ex.d.exception, `the code in words: ${ex.words}`);
  // The same parcel and reason as the independent peer saw it.
  const peer = await until('sortctl to have seen it', () => st.observed.find((o) => o.body.parcel_id === ex.d.parcel_id && o.topic === 'parcel.exception'), 5000);
  assert.equal(peer.body.reason, ex.d.reason);
  assert.equal(peer.body.exception, ex.d.exception);
  assert.ok(ex.beeps > beepsBefore, 'an audible cue was played');
  await shotOf('bad', 'station-exception');
});

test('parcel search shows the full trace, as sortctl has it', { timeout: 60000 }, async () => {
  const p = st.page;
  const d = st.observed.find((o) => o.topic === 'parcel.decided' && o.body.codes?.length);
  assert.ok(d, 'a decided parcel with a code');
  const code = d.body.codes[0];
  await st.goto('search');
  await p.getByTestId('search-input').fill(code);
  await p.getByTestId('search-input').press('Enter');
  await p.getByTestId('parcel-' + d.body.parcel_id).waitFor();
  const ctl = (await st.ctl('parcel', code)).result;
  const ids = await p.$$eval('[data-testid=search-out] article', (a) => a.map((e) => Number(e.dataset.testid.slice(7))));
  assert.deepEqual(ids, ctl.parcels.map((x) => x.parcel_id));
  const card = p.getByTestId('parcel-' + d.body.parcel_id);
  const ours = ctl.parcels.find((x) => x.parcel_id === d.body.parcel_id);
  assert.equal(await card.getByTestId('ranked').locator('tr').count(), ours.decisions[0].candidates.ranked.length + 1);
  assert.ok((await card.getByTestId('trace-reads').textContent()).includes(code));
  // The label preview: the daemon's drawing of the parcel's label, byte for byte what
  // `sortctl label` writes, and its barcode reads back (zxing) as the order's tracking code.
  const img = card.getByTestId('label-img');
  await img.waitFor();
  await p.waitForFunction((id) => {
    const i = document.querySelector(`[data-testid=parcel-${id}] [data-testid=label-img]`);
    return i && i.complete && i.naturalWidth > 0;
  }, d.body.parcel_id, { timeout: 10000 });
  const [w, hgt] = await img.evaluate((i) => [i.naturalWidth, i.naturalHeight]);
  const lbl = (await st.ctl('label', String(d.body.parcel_id), '-o', join(SHOTS, 'label-sortctl.png'))).result;
  assert.ok(lbl, 'sortctl label answered');
  // One pixel a printer dot: 100x150 mm at 203 dpi is 799x1199.
  assert.deepEqual([w, hgt], [Math.round((lbl.width_mm * lbl.dpi) / 25.4), Math.round((lbl.height_mm * lbl.dpi) / 25.4)]);
  const meta = await card.getByTestId('label-meta').textContent();
  assert.ok(meta.includes(lbl.template) && meta.includes(lbl.printer), meta);
  const src = await img.getAttribute('src');
  const png = Buffer.from(src.slice(src.indexOf(',') + 1), 'base64');
  writeFileSync(join(SHOTS, 'label-page.png'), png);
  assert.ok(png.equals(readFileSync(join(SHOTS, 'label-sortctl.png'))), 'the page shows the daemon\'s PNG');
  const zx = await run('ZXingReader', ['-fast', '-norotate', '-noscale', '-format', 'Code128', '-1', join(SHOTS, 'label-page.png')]);
  assert.equal(zx.code, 0, zx.stderr);
  assert.ok(zx.stdout.includes(`"${ctl.order.codes[0]}"`), `the label's barcode: ${zx.stdout}`);
  await img.scrollIntoViewIfNeeded();
  await st.shot('search', true);
  // A parcel no courier was chosen for has no label, and says so.
  const checked = new Set();
  const nolabel = await until('a parcel no courier was chosen for', async () => {
    for (const o of st.observed) {
      if (o.topic !== 'parcel.exception' || o.body.courier || checked.has(o.body.parcel_id)) continue;
      checked.add(o.body.parcel_id);
      const tr = (await st.ctl('parcel', '--id', String(o.body.parcel_id))).result?.parcels?.[0];
      if (tr?.decisions?.length && !tr.decisions.at(-1).courier) return tr.parcel_id;
    }
    return null;
  }, 60000, 500);
  await p.getByTestId('search-by').selectOption('parcel_id');
  await p.getByTestId('search-input').fill(String(nolabel));
  await p.getByTestId('search-input').press('Enter');
  await p.getByTestId('parcel-' + nolabel).getByTestId('label-preview-none').waitFor();
  assert.equal(await p.getByTestId('parcel-' + nolabel).getByTestId('label-img').count(), 0);
  await p.getByTestId('search-by').selectOption('code');
  // Garbage: an unknown code is "not found", said so.
  await p.getByTestId('search-input').fill('NO-SUCH-CODE-42');
  await p.getByTestId('search-input').press('Enter');
  await p.getByTestId('search-msg').filter({ hasText: 'NO-SUCH-CODE-42' }).waitFor();
});

test('the reports page shows today per hour as sortctl report has it', { timeout: 60000 }, async () => {
  const p = st.page;
  const A = (await st.ctl('report', '--period', 'hour')).result;
  await st.goto('reports');
  await p.getByTestId('report-periods').locator('tr[data-start=total]').waitFor();
  const B = (await st.ctl('report', '--period', 'hour')).result;
  // Parcels keep coming: the page's figures are between sortctl's before and after.
  const shown = Number((await p.getByTestId('report-kpi-parcels').locator('.kpi-v').textContent()).trim());
  assert.ok(A.total.parcels <= shown && shown <= B.total.parcels, `sortctl ${A.total.parcels} <= page ${shown} <= sortctl ${B.total.parcels}`);
  assert.ok(shown > 0);
  const starts = await p.$$eval('[data-testid=report-periods] tr[data-start]', (r) => r.map((e) => e.dataset.start));
  assert.deepEqual(starts, [...B.buckets.map((b) => b.start), 'total']);
  assert.ok(await p.locator('[data-testid=report-chart] canvas').count() > 0);
  assert.equal((await p.getByTestId('report-chart').getAttribute('data-points')).split(',').length, 24);
  const couriers = await p.$$eval('[data-testid=report-couriers] tr[data-courier]', (r) => r.map((e) => e.dataset.courier));
  assert.ok(couriers.every((c) => B.total.by_courier.some((x) => x.courier === c)));
  await st.shot('reports');
  // In Chinese: the page's words change, the figures stay.
  const before = await p.getByTestId('lang').textContent();
  await p.getByTestId('lang').click();
  const other = before.trim() === '中文' ? '报表' : 'Reports';
  await p.getByTestId('nav-reports').filter({ hasText: other }).waitFor();
  assert.equal(Number((await p.getByTestId('report-kpi-parcels').locator('.kpi-v').textContent()).trim()), shown);
  await st.shot(other === '报表' ? 'reports-zh' : 'reports-en');
  await p.getByTestId('lang').click();
  await p.getByTestId('nav-reports').filter({ hasText: other === '报表' ? 'Reports' : '报表' }).waitFor();
  // A range the wrong way round: the daemon's message, shown as it wrote it.
  await p.getByTestId('report-from').fill('2026-11-22');
  await p.getByTestId('report-to').fill('2026-11-21');
  await p.getByTestId('report-load').click();
  await p.getByTestId('report-msg').filter({ hasText: "'from' (2026-11-22 00:00) must be before 'to'" }).waitFor();
  // Per day over two days.
  await p.getByTestId('report-period').selectOption('day');
  await p.getByTestId('report-from').fill(A.from.slice(0, 10));
  await p.getByTestId('report-to').fill(A.from.slice(0, 10));
  await p.getByTestId('report-load').click();
  await p.getByTestId('report-periods').locator(`tr[data-start="${A.from.slice(0, 10)}"]`).waitFor();
});

test('login and roles: a viewer is refused an action, the cookie is HTTP-only', { timeout: 60000 }, async () => {
  const p = st.page;
  await st.goto('actions');
  const lane = (await st.ctl('lanes')).result.lanes.find((l) => l.kind === 'courier' && l.enabled).lane;
  await p.getByTestId('lane-select').selectOption(String(lane));
  // No login: the daemon says unauthenticated.
  await p.getByTestId('lane-disable').click();
  await p.locator('[data-testid=action-result][data-code=unauthenticated]').waitFor();
  // A wrong password is refused.
  await st.login('vera', 'wrong');
  await p.getByTestId('login-msg').filter({ hasText: 'login_failed' }).waitFor();
  await p.getByTestId('login-password').fill(st.users.vera.password);
  await p.getByTestId('login-submit').click();
  await p.getByTestId('user-btn').filter({ hasText: 'vera' }).waitFor();
  const cookies = await st.context.cookies();
  const c = cookies.find((x) => x.name === 'sortd_hmi');
  assert.ok(c && c.httpOnly, 'the session cookie is HTTP-only');
  assert.equal(c.sameSite, 'Strict');
  assert.ok(!(await p.evaluate(() => document.cookie)).includes('sortd_hmi'));
  // The viewer's action: forbidden by the daemon, and the lane is still enabled.
  await p.getByTestId('lane-select').selectOption(String(lane));
  await p.getByTestId('lane-disable').click();
  await p.locator('[data-testid=action-result][data-code=forbidden]').waitFor();
  assert.match(await p.getByTestId('action-result').textContent(), /viewer/);
  await st.shot('actions-forbidden');
  const after = (await st.ctl('lanes')).result.lanes.find((l) => l.lane === lane);
  assert.equal(after.enabled, true);
  // A cross-site POST (no JSON content type) is refused by the gateway itself.
  const r = await p.evaluate(async () => (await fetch('/api/action/lane.disable', { method: 'POST', body: 'lane=1' })).status);
  assert.equal(r, 400);
  // Garbage gets an answer that says what and where, and the gateway keeps serving.
  const garbage = await p.evaluate(async () => {
    const j = async (url, init) => { const x = await fetch(url, init); return [x.status, (await x.json()).error]; };
    const post = (body) => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    return [
      await j('/api/action/lane.disable', post('{"lane": 7')),
      await j('/api/action/lane.disable', post('[1,2]')),
      await j('/api/action/lane.explode', post('{}')),
      await j('/api/parcel?parcel_id=12x'),
      await j('/api/parcel'),
      await j('/api/action/lane.disable', post('{"lane": "seven"}')),
    ];
  });
  assert.equal(garbage[0][0], 400);
  assert.equal(garbage[0][1].code, 'bad_json');
  assert.match(garbage[0][1].message, /line 1, column \d+/);
  assert.deepEqual([garbage[1][0], garbage[1][1].code], [400, 'bad_request']);
  assert.deepEqual([garbage[2][0], garbage[2][1].code], [400, 'unknown_command']);
  assert.deepEqual([garbage[3][0], garbage[3][1].code], [400, 'bad_value']);
  assert.match(garbage[3][1].message, /12x/);
  assert.deepEqual([garbage[4][0], garbage[4][1].code], [400, 'missing_field']);
  // The daemon's own check, passed through: a viewer is refused before the type is looked at,
  // so this one is about the role or the type, never a success.
  assert.ok(['forbidden', 'wrong_type'].includes(garbage[5][1].code), garbage[5][1].code);
  assert.equal(await p.evaluate(async () => (await fetch('/api/state')).status), 200);
  await p.getByTestId('user-btn').click();  // log out
  await p.getByTestId('user-btn').filter({ hasNotText: 'vera' }).waitFor();
});

test('disable a lane and its parcels go to its overflow lane', { timeout: 180000 }, async () => {
  const p = st.page;
  const cfg = st.lanesFromConfig();
  const lanes = (await st.ctl('lanes')).result.lanes;
  // The busiest regional lane (with an overflow lane) in what sortctl saw so far.
  const counts = {};
  for (const o of st.observed)
    if (o.topic === 'parcel.decided' && !o.body.overflow) counts[o.body.lane] = (counts[o.body.lane] || 0) + 1;
  const pick = lanes.filter((l) => l.kind === 'courier' && l.regions?.length && cfg[l.lane]?.overflow && !l.regions.some((r) => r.includes('/')))
    .sort((a, b) => (counts[b.lane] || 0) - (counts[a.lane] || 0))[0];
  assert.ok(pick, 'a regional lane with an overflow lane');
  const overflow = cfg[pick.lane].overflow;
  await st.goto('actions');
  await st.login('otto');
  await p.getByTestId('user-btn').filter({ hasText: 'otto' }).waitFor();
  await p.getByTestId('lane-select').selectOption(String(pick.lane));
  await p.getByTestId('lane-disable').click();
  await p.locator('[data-testid=action-result][data-code=ok]').waitFor();
  const mark = st.observed.length;
  assert.equal((await st.ctl('lanes')).result.lanes.find((l) => l.lane === pick.lane).enabled, false);
  await st.goto('dashboard');
  await p.locator(`[data-testid=lane-${pick.lane}][data-state=disabled]`).waitFor();
  await st.shot('dashboard-lane-disabled');
  const hit = await until(`a ${pick.courier} parcel for ${pick.regions} after lane ${pick.lane} was disabled`, () =>
    st.observed.slice(mark).find((o) => o.topic === 'parcel.decided' && o.body.courier === pick.courier && pick.regions.some((r) => (o.body.province || '').startsWith(r))), 150000, 250);
  assert.equal(hit.body.lane, overflow, `went to lane ${hit.body.lane}`);
  assert.equal(hit.body.overflow, true);
  assert.ok(!st.observed.slice(mark).some((o) => o.topic === 'parcel.decided' && o.body.lane === pick.lane), 'nothing went to the disabled lane');
  // And enabled again.
  await st.goto('actions');
  await p.getByTestId('lane-select').selectOption(String(pick.lane));
  await p.getByTestId('lane-enable').click();
  await p.locator('[data-testid=action-result][data-code=ok]').waitFor();
  assert.equal((await st.ctl('lanes')).result.lanes.find((l) => l.lane === pick.lane).enabled, true);
  // Closing a bag: the daemon's own answer is shown (done, or refused with the reason when the
  // lane's bag is empty).
  await p.getByTestId('bag-close').click();
  const closed = p.locator('[data-testid=action-result][data-code]').filter({ hasText: 'bag.close' });
  await closed.waitFor();
  assert.ok(['ok', 'conflict'].includes(await closed.getAttribute('data-code')));
  // The open manifests, sorted vs picked up; a handover scan of an unknown bag is flagged.
  await p.getByTestId('manifests-refresh').click();
  await p.locator('[data-testid=manifests] table').waitFor();
  await p.getByTestId('handover-bag').fill('B-NOT-A-BAG');
  await p.getByTestId('handover-scan').click();
  await p.locator('[data-testid=action-result][data-code=ok]').filter({ hasText: 'not_on_manifest' }).waitFor();
  await st.shot('actions');
});

test('a supervisor dry-runs a sort plan against the recorded scans; the audit log shows who did what', { timeout: 90000 }, async () => {
  const p = st.page;
  await st.goto('actions');
  await st.login('sam');
  await p.getByTestId('user-btn').filter({ hasText: 'sam' }).waitFor();
  await p.getByTestId('plan-config').fill(join(SRC, 'config/demo-station.toml'));
  await p.getByTestId('plan-record').fill(st.record);
  await p.getByTestId('plan-dry-run').click();
  await p.locator('[data-testid=action-result][data-code]').filter({ hasText: 'plan.dry_run' }).waitFor({ timeout: 60000 });
  assert.equal(await p.getByTestId('action-result').getAttribute('data-code'), 'ok', await p.getByTestId('action-result').textContent());
  const summary = await p.getByTestId('plan-out').textContent();
  const m = summary.match(/(\d+) \S+ · (\d+) \S+ · (\d+)/);
  assert.ok(m && Number(m[1]) > 0 && Number(m[2]) > 0, `dry-run summary: ${summary}`);
  // A plan file that does not exist: the daemon's config_error, shown as it gave it.
  await p.getByTestId('plan-config').fill('/nonexistent/plan.toml');
  await p.getByTestId('plan-dry-run').click();
  await p.locator('[data-testid=action-result]:not([data-code=ok])').filter({ hasText: 'plan.dry_run' }).waitFor();
  assert.match(await p.getByTestId('action-result').textContent(), /nonexistent/);
  // The audit log (supervisor) has the operator's lane change from the page.
  await p.getByTestId('audit-refresh').click();
  await p.getByTestId('audit').filter({ hasText: 'otto' }).waitFor();
  await st.shot('actions-supervisor');
  await st.login('otto');  // the next test uses the operator's login
  await p.getByTestId('user-btn').filter({ hasText: 'otto' }).waitFor();
});

test('a daemon restart shows stale, then the page recovers', { timeout: 120000 }, async () => {
  const p = st.page;
  await st.goto('dashboard');
  const before = await p.evaluate(() => window.__hmi.instance);
  await st.stopDaemon('SIGKILL');
  await p.getByTestId('stale-banner').waitFor({ state: 'visible', timeout: 15000 });
  assert.equal(await p.getByTestId('live-badge').getAttribute('data-live'), '0');
  await st.shot('dashboard-stale');
  await st.startDaemon(false);
  await p.locator('[data-testid=live-badge][data-live="1"]').waitFor({ timeout: 30000 });
  assert.ok(await p.getByTestId('stale-banner').isHidden());
  const after = await p.evaluate(() => window.__hmi.instance);
  assert.notEqual(after, before, 'a new daemon instance');
  const status = (await st.ctl('status')).result;
  assert.equal(after, status.instance);
  // Parcels flow on the page again.
  const n = await p.evaluate(() => window.__hmi.events);
  await p.waitForFunction((k) => window.__hmi.events > k + 3, n, { timeout: 20000 });
  // The restart ended the daemon's sessions: the operator's next action says so and the page
  // logs out.
  await st.goto('actions');
  await p.getByTestId('lane-enable').click();
  await p.locator('[data-testid=action-result][data-code=unauthenticated]').waitFor();
  await p.getByTestId('user-btn').filter({ hasNotText: 'otto' }).waitFor();
});
