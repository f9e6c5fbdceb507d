// Parcel search: by any code (or order id, or parcel id), the parcel's full trace from the
// daemon's store: reads, decisions with the ranked couriers and why each loser lost, label
// jobs, sort commands, confirmations; and the label preview, drawn by the daemon.
import { h, clear, fmtDateTime, fmtTime, kg } from './dom.js';
import { t, tException, tError } from './i18n.js';
import { api } from './api.js';
import { live } from './live.js';

const FACTORS = ['capacity', 'region', 'price', 'cutoff', 'preferred'];

// Why a ranked courier lost to the winner: its score gap and the factor it lost most on.
export function whyLost(loser, winner) {
  const d = (winner.score ?? 0) - (loser.score ?? 0);
  let worst = null;
  let gap = 0;
  for (const f of FACTORS) {
    if (typeof loser[f] !== 'number' || typeof winner[f] !== 'number') continue;
    const g = winner[f] - loser[f];
    if (g > gap) { gap = g; worst = f; }
  }
  return { d, worst };
}

function fmt(x) { return typeof x === 'number' ? x.toFixed(2) : x ?? '—'; }

function decisionView(dec) {
  const c = dec.candidates || {};
  const ranked = Array.isArray(c.ranked) ? c.ranked : [];
  const excluded = Array.isArray(c.excluded) ? c.excluded : [];
  const winner = ranked[0];
  const ex = dec.exception && dec.exception !== 'none';
  return h('div', { class: 'decision' + (ex ? ' bad' : ''), 'data-testid': 'decision' },
    h('div', { class: 'dec-head' },
      h('b', null, `${t('attempt', { n: (dec.attempt ?? 0) + 1 })} · ${fmtTime(dec.time)} · `),
      ex ? h('span', { class: 'bad-text' }, tException(dec.exception)) : h('span', null, `${t('lane')} ${dec.lane} · ${dec.courier}`),
      dec.weight_g ? ` · ${kg(dec.weight_g)}` : ''),
    h('div', { class: 'dec-reason' }, dec.reason || ''),
    ranked.length ? h('table', { class: 'ranked', 'data-testid': 'ranked' },
      h('caption', null, t('ranked')),
      h('tr', null, h('th', null, '#'), h('th', null, t('courier')), h('th', null, t('score')),
        ...FACTORS.map((f) => h('th', null, t(f))), h('th', null, t('cost')), h('th', null, t('lane')), h('th', null, t('why'))),
      ranked.map((r, i) => {
        const w = i === 0 ? null : whyLost(r, winner);
        return h('tr', { class: i === 0 ? 'win' : '' },
          h('td', null, i + 1), h('td', null, r.courier), h('td', null, fmt(r.score)),
          ...FACTORS.map((f) => h('td', null, fmt(r[f]))),
          h('td', null, r.price_fen != null ? (r.price_fen / 100).toFixed(2) + ' ¥' : '—'),
          h('td', null, (r.lane ?? '—') + (r.overflow ? ' (' + t('overflow') + ')' : '')),
          h('td', null, i === 0 ? t('winner') : t('lostBy', { d: fmt(w.d), k: w.worst ? t(w.worst) : '—' })));
      })) : null,
    excluded.length ? h('table', { class: 'excluded', 'data-testid': 'excluded' },
      h('caption', null, t('excluded')),
      h('tr', null, h('th', null, t('courier')), h('th', null, t('rule')), h('th', null, t('reason'))),
      excluded.map((e) => h('tr', null, h('td', null, e.courier), h('td', null, e.rule), h('td', null, e.reason)))) : null);
}

function parcelView(p, onReprint) {
  const ex = p.exception && p.exception !== 'none';
  // A courier label exists when the last decision chose a courier (a parcel lost or missorted
  // after that has one; a no-read or unknown code has none): what reprint and the preview need.
  const labelled = !!p.decisions?.at(-1)?.courier;
  const section = (key, items, row) => h('div', { class: 'trace-sec', 'data-testid': 'trace-' + key },
    h('h3', null, `${t(key)} (${items?.length || 0})`),
    items?.length ? h('ul', null, items.map((x) => h('li', null, row(x)))) : h('div', { class: 'muted' }, '—'));
  return h('article', { class: 'parcel-card' + (ex ? ' bad' : ' good'), 'data-testid': 'parcel-' + p.parcel_id },
    h('header', null,
      h('span', { class: 'pc-lane' }, p.lane ?? '—'),
      h('div', null,
        h('div', { class: 'pc-title' }, `${t('parcel')} #${p.parcel_id} · ${p.order_id || '—'}`),
        h('div', { class: ex ? 'bad-text' : 'ok-text' }, `${p.state} · ${ex ? tException(p.exception) : t('ok')}${p.courier ? ' · ' + p.courier : ''}`),
        h('div', { class: 'muted' }, fmtDateTime(p.updated))),
      h('button', { class: 'small', disabled: !labelled, onclick: () => onReprint(p) }, t('reprint'))),
    h('div', { class: 'trace' },
      section('reads', p.reads, (r) => `${fmtTime(r.time)} ${r.scanner} ${r.no_read ? t('noRead') : (r.codes || []).map((c) => c.text ?? c).join(' ')}`),
      h('div', { class: 'trace-sec' }, h('h3', null, `${t('decisions')} (${p.decisions?.length || 0})`), (p.decisions || []).map(decisionView)),
      section('labelJobs', p.labels, (l) => `#${l.job_id} ${l.kind} ${l.printer} → ${l.outcome} ${l.detail || ''} ${fmtTime(l.time)}`),
      section('sortCommands', p.sort_commands, (s) => `seq ${s.seq} → ${t('lane')} ${s.chute} · ${t('sent')} ${fmtTime(s.time)} · ${t('acked_at')} ${fmtTime(s.acked)}`),
      section('confirmations', p.confirmations, (c) => `seq ${c.seq} · ${c.chute} · ${c.outcome} · ${fmtTime(c.time)}`),
      labelPreview(p, labelled)));
}

// The parcel's label as its printer prints it, drawn by the daemon (GET /api/label): the image,
// what it was made with, and the printer code under it. An exception has no courier label.
function labelPreview(p, labelled) {
  const sec = h('div', { class: 'trace-sec label-sec', 'data-testid': 'label-preview' }, h('h3', null, t('labelPreview')));
  if (!labelled) {
    sec.append(h('div', { class: 'label-none', 'data-testid': 'label-preview-none' }, t('labelPreviewNone')));
    return sec;
  }
  const box = h('div', { class: 'label-none' }, '…');
  sec.append(box);
  api.get(`/api/label?parcel_id=${p.parcel_id}`).then((r) => {
    clear(box);
    if (!r.ok) {
      box.setAttribute('data-testid', 'label-preview-error');
      const problems = Array.isArray(r.problems) ? r.problems : [];
      box.append(h('div', { class: 'bad-text' }, `${tError(r.error.code)}: ${r.error.message}`),
        problems.length ? h('ul', null, problems.map((x) => h('li', null, x))) : null);
      return;
    }
    const l = r.result;
    box.className = 'label-box';
    const img = h('img', {
      class: 'label-img', 'data-testid': 'label-img', src: 'data:image/png;base64,' + l.png,
      alt: `${t('labelPreview')} #${l.parcel_id}`, title: t('labelZoom'),
      onclick: () => img.classList.toggle('zoom'),
    });
    box.append(img,
      h('div', { class: 'muted', 'data-testid': 'label-meta' },
        `${l.template} · ${t('printer')} ${l.printer || '—'} · ${l.language.toUpperCase()} · ${l.width_mm}×${l.height_mm} mm · ${l.dpi} dpi`),
      h('details', null, h('summary', null, t('labelSource', { lang: l.language.toUpperCase() })),
        h('pre', { class: 'label-src', 'data-testid': 'label-source' }, l.source)));
  });
  return sec;
}

export function searchView() {
  const input = h('input', { type: 'search', 'data-testid': 'search-input', autocomplete: 'off', autofocus: true });
  const by = h('select', { 'data-testid': 'search-by' },
    h('option', { value: 'code' }), h('option', { value: 'order_id' }), h('option', { value: 'parcel_id' }));
  const btn = h('button', { class: 'primary', type: 'submit' });
  const out = h('div', { class: 'search-out', 'data-testid': 'search-out' });
  const msg = h('div', { class: 'msg', 'data-testid': 'search-msg' });
  const form = h('form', { class: 'search-form', onsubmit: (e) => { e.preventDefault(); run(); } }, input, by, btn);
  const recent = h('div', { class: 'search-recent', 'data-testid': 'search-recent' });
  const root = h('div', { class: 'search' }, form, msg, recent, out);

  // Until something is searched: the last parcels, one click away.
  function paintRecent() {
    clear(recent);
    if (out.firstChild || !live.state) return;
    recent.append(h('h2', null, t('lastParcels')));
    for (const p of live.state.recent.slice(0, 12)) {
      const ex = p.exception && p.exception !== 'none';
      recent.append(h('button', { class: 'chip' + (ex ? ' bad' : ''), onclick: () => { by.value = 'parcel_id'; run(String(p.parcel_id)); } },
        `#${p.parcel_id} · ${t('lane')} ${p.lane ?? '—'} · ${ex ? tException(p.exception) : p.courier_name || p.courier || ''}`));
    }
  }

  async function reprint(p) {
    const r = await api.action('reprint', { parcel_id: p.parcel_id });
    msg.className = 'msg ' + (r.ok ? 'ok' : 'err');
    msg.textContent = r.ok ? `${t('reprint')} #${p.parcel_id}: ${t('done')} (job ${r.result.job_id})` : `${tError(r.error.code)}: ${r.error.message}`;
  }

  async function run(q) {
    const v = (q ?? input.value).trim();
    if (!v) return;
    input.value = v;
    msg.className = 'msg';
    msg.textContent = '…';
    clear(out);
    clear(recent);
    const r = await api.get(`/api/parcel?${by.value}=${encodeURIComponent(v)}`);
    if (!r.ok) {
      msg.className = 'msg err';
      msg.textContent = r.error.code === 'not_found' ? `${t('notFound')}: ${v}` : `${tError(r.error.code)}: ${r.error.message}`;
      return;
    }
    msg.textContent = '';
    const o = r.result.order;
    out.append(o ? h('div', { class: 'order-card', 'data-testid': 'order-card' },
      h('b', null, `${t('order')} ${o.order_id}`),
      ` · ${t('destination')}: ${[o.province, o.city, o.district].filter(Boolean).join(' ')} ${o.postcode || ''}`,
      o.weight_g ? ` · ${kg(o.weight_g)}` : '',
      o.service ? ` · ${o.service}` : '', o.cod_fen ? ` · COD ${(o.cod_fen / 100).toFixed(2)} ¥` : '',
      o.status && o.status !== 'active' ? h('span', { class: 'bad-text' }, ` · ${o.status}`) : '',
      h('div', { class: 'muted' }, `${t('codes')}: ${(o.codes || []).join(' ')}`))
      : h('div', { class: 'order-card muted' }, t('orderNone')));
    for (const p of r.result.parcels || []) out.append(parcelView(p, reprint));
  }

  function render() {
    input.placeholder = t('searchHint');
    by.options[0].textContent = t('byCode');
    by.options[1].textContent = t('byOrder');
    by.options[2].textContent = t('byParcel');
    btn.textContent = t('searchBtn');
    paintRecent();
  }
  return { root, render, run, show() { setTimeout(() => input.focus(), 0); } };
}
