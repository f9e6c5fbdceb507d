// Actions: enable / disable / reassign a lane, close a bag, reprint, acknowledge alarms (on the
// dashboard too), dry-run and activate a sort plan, intercept orders. Every action goes to the
// daemon with the login's token; the daemon decides and its answer is shown as it gave it.
import { h, clear, fmtTime } from './dom.js';
import { t, tError } from './i18n.js';
import { live } from './live.js';
import { api, me } from './api.js';

export function actionsView() {
  const result = h('div', { class: 'msg', 'data-testid': 'action-result', role: 'status' });
  const laneSel = h('select', { 'data-testid': 'lane-select' });
  const courierSel = h('select', { 'data-testid': 'courier-select' });
  const reprintIn = h('input', { 'data-testid': 'reprint-input', placeholder: '1042 / ZT7730000117' });
  const planCfg = h('input', { 'data-testid': 'plan-config', placeholder: '/etc/sortd/plan-b.toml' });
  const planRec = h('input', { 'data-testid': 'plan-record', placeholder: '/var/lib/sortd/monday.events' });
  const planOut = h('div', { class: 'plan-out', 'data-testid': 'plan-out' });
  const orderIn = h('input', { 'data-testid': 'order-input', placeholder: 'SO2026000123' });
  const auditBox = h('div', { class: 'audit', 'data-testid': 'audit' });
  const bagIn = h('input', { 'data-testid': 'handover-bag', placeholder: 'B20261123-05-003' });
  const manifestBox = h('div', { class: 'audit', 'data-testid': 'manifests' });
  const labels = [];
  const L = (key, el = h('span')) => { labels.push([el, key]); return el; };
  const hints = [];
  // What role the daemon wants (protocol.md, section 4); the daemon decides, this only tells.
  const role = (...r) => { const el = h('div', { class: 'muted role-hint' }); hints.push([el, r]); return el; };
  const btn = (key, testid, onclick, cls = '') => L(key, h('button', { class: cls, 'data-testid': testid, onclick }));

  function show(r, what) {
    result.className = 'msg ' + (r.ok ? 'ok' : 'err');
    result.dataset.code = r.ok ? 'ok' : r.error.code;
    result.textContent = r.ok ? `${what}: ${t('done')} ${JSON.stringify(r.result)}`
      : `${what}: ${t('refused')} — ${tError(r.error.code)} (${r.error.code}): ${r.error.message}`;
  }
  const lane = () => Number(laneSel.value);
  async function act(cmd, args, what) {
    result.className = 'msg';
    result.textContent = '…';
    const r = await api.action(cmd, args);
    show(r, what || cmd);
    return r;
  }

  const root = h('div', { class: 'actions' },
    h('div', { class: 'whoami', 'data-testid': 'actions-whoami' }),
    result,
    h('div', { class: 'act-grid' },
      h('section', { class: 'card' }, L('laneActions', h('h2')), role('operator', 'supervisor'),
        h('div', { class: 'row' }, L('lane', h('label')), laneSel),
        h('div', { class: 'row' },
          btn('enable', 'lane-enable', () => act('lane.enable', { lane: lane() }, `lane.enable ${lane()}`)),
          btn('disable', 'lane-disable', () => act('lane.disable', { lane: lane() }, `lane.disable ${lane()}`), 'warn'),
          btn('closeBag', 'bag-close', () => act('bag.close', { lane: lane() }, `bag.close ${lane()}`))),
        h('div', { class: 'row' }, L('reassign', h('label')), courierSel,
          btn('reassignDo', 'lane-reassign', () => act('lane.reassign', { lane: lane(), courier: courierSel.value }, `lane.reassign ${lane()} → ${courierSel.value}`)))),
      h('section', { class: 'card' }, L('reprint', h('h2')), role('operator'),
        h('div', { class: 'row' }, L('reprintBy', h('label')), reprintIn,
          btn('reprint', 'reprint', () => {
            const v = reprintIn.value.trim();
            if (!v) return;
            const args = /^[0-9]+$/.test(v) ? { parcel_id: Number(v) } : { code: v };
            act('reprint', args, `reprint ${v}`);
          })),
        L('orderActions', h('h2')),
        h('div', { class: 'row' }, L('order', h('label')), orderIn),
        h('div', { class: 'row' },
          btn('orderCancel', 'order-cancel', () => act('order.cancel', { order_id: orderIn.value.trim() }), 'warn'),
          btn('orderHold', 'order-hold', () => act('order.hold', { order_id: orderIn.value.trim() })),
          btn('orderRelease', 'order-release', () => act('order.release', { order_id: orderIn.value.trim() })))),
      h('section', { class: 'card' }, L('planTitle', h('h2')), role('supervisor'),
        h('div', { class: 'row col' }, L('planConfig', h('label')), planCfg),
        h('div', { class: 'row col' }, L('planRecord', h('label')), planRec),
        h('div', { class: 'row' },
          btn('dryRun', 'plan-dry-run', async () => {
            const r = await act('plan.dry_run', { config: planCfg.value.trim(), record: planRec.value.trim() }, 'plan.dry_run');
            clear(planOut);
            if (r.ok) planOut.append(dryRunView(r.result));
          }),
          btn('activate', 'plan-activate', async () => {
            if (!window.confirm(t('confirmActivate'))) return;
            act('plan.activate', { config: planCfg.value.trim() }, 'plan.activate');
          }, 'warn')),
        planOut),
      h('section', { class: 'card' }, L('manifests', h('h2')), role('operator', 'supervisor'),
        h('div', { class: 'row' }, L('bagId', h('label')), bagIn,
          btn('handoverScan', 'handover-scan', async () => {
            const v = bagIn.value.trim();
            if (!v) return;
            await act('handover.scan', { bag_id: v }, `handover.scan ${v}`);
            loadManifests();
          })),
        btn('refresh', 'manifests-refresh', loadManifests), manifestBox),
      h('section', { class: 'card' }, L('audit', h('h2')), role('supervisor'),
        btn('refresh', 'audit-refresh', loadAudit), auditBox)));

  async function loadAudit() {
    clear(auditBox);
    const r = await api.get('/api/audit?limit=50');
    if (!r.ok) { auditBox.append(h('div', { class: 'muted' }, `${tError(r.error.code)}: ${r.error.message}`)); return; }
    auditBox.append(h('table', null, r.result.audit.map((a) => h('tr', null,
      h('td', null, fmtTime(a.time)), h('td', null, a.user), h('td', null, a.action), h('td', { class: 'muted' }, a.detail)))));
  }

  // Open manifests: bags and parcels sorted vs picked up, flags; a supervisor closes one.
  async function loadManifests() {
    clear(manifestBox);
    const r = await api.get('/api/manifests?state=open');
    if (!r.ok) { manifestBox.append(h('div', { class: 'muted' }, `${tError(r.error.code)}: ${r.error.message}`)); return; }
    manifestBox.append(h('table', null,
      h('tr', null, ['#', t('courier'), 'wave', t('sorted'), t('picked'), t('issues'), ''].map((x) => h('th', null, x))),
      r.result.manifests.map((m) => h('tr', { 'data-testid': `manifest-${m.manifest_id}` },
        h('td', null, m.manifest_id), h('td', null, m.courier_name || m.courier),
        h('td', null, `${m.wave} ${m.cutoff}`),
        h('td', null, `${m.sorted.bags} / ${m.sorted.parcels}`),
        h('td', null, `${m.picked_up.bags} / ${m.picked_up.parcels}`),
        h('td', { class: m.issues ? 'err' : 'muted' }, m.issues),
        h('td', null, h('button', {
          'data-testid': `manifest-close-${m.manifest_id}`,
          onclick: async () => {
            if (!window.confirm(t('closeManifest') + ' ' + m.manifest_id + '?')) return;
            await act('manifest.close', { manifest_id: m.manifest_id, force: true }, `manifest.close ${m.manifest_id}`);
            loadManifests();
          },
        }, t('closeManifest')))))));
  }

  function dryRunView(d) {
    return h('div', null,
      h('div', null, `${d.events} ${t('events')} · ${d.parcels} ${t('parcels')} · ${d.changed} ${t('changed')}`),
      h('table', null, h('tr', null, h('th', null, t('courier')), h('th', null, t('before')), h('th', null, t('after'))),
        (d.couriers || []).map((c) => h('tr', null, h('td', null, c.courier), h('td', null, c.before), h('td', null, c.after)))),
      h('table', null, h('tr', null, h('th', null, t('lane')), h('th', null, t('before')), h('th', null, t('after'))),
        (d.lanes || []).map((l) => h('tr', null, h('td', null, l.lane), h('td', null, l.before), h('td', null, l.after)))));
  }

  function fillSelects() {
    const st = live.state;
    if (!st) return;
    const keepL = laneSel.value;
    const keepC = courierSel.value;
    const names = Object.fromEntries(st.couriers.map((c) => [c.courier, c.name]));
    const text = (l) => `${l.lane} · ${l.courier ? names[l.courier] || l.courier : t('kind_' + l.kind)} · ${t('state_' + l.state)}`;
    const same = laneSel.options.length === st.lanes.length
      && st.lanes.every((l, i) => laneSel.options[i].value === String(l.lane));
    if (same) {
      // Update the words in place: rebuilding would close the list under the user's finger.
      st.lanes.forEach((l, i) => { const s = text(l); if (laneSel.options[i].textContent !== s) laneSel.options[i].textContent = s; });
      if (courierSel.options.length === st.couriers.length) return;
    } else {
      clear(laneSel);
      for (const l of st.lanes) laneSel.append(h('option', { value: l.lane }, text(l)));
      if (keepL) laneSel.value = keepL;
    }
    clear(courierSel);
    for (const c of st.couriers) courierSel.append(h('option', { value: c.courier }, c.name || c.courier));
    if (keepC) courierSel.value = keepC;
  }

  function render() {
    for (const [el, key] of labels) el.textContent = t(key);
    for (const [el, r] of hints) el.textContent = t('needsRole', { r: r.join(' / ') });
    const w = root.querySelector('.whoami');
    w.textContent = me.user ? `${t('loggedInAs')}: ${me.user} (${me.role})` : t('notLoggedIn');
    fillSelects();
  }
  return { root, render, onUpdate(topic) { if (topic === 'lane') fillSelects(); } };
}
