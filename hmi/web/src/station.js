// The station screen: what the staff at the scan station look at after every scan. The last
// parcel's lane number and courier, huge, green when it is sorted, red with the reason in words
// when it is an exception, a beep on an exception, the last few parcels, and a reprint button.
import { h, morph, fmtTime, kg } from './dom.js';
import { t, tException, tError } from './i18n.js';
import { live } from './live.js';
import { api } from './api.js';

let audio = null;
let soundWanted = localStorage.getItem('sortd.sound') !== 'off';
export const beeps = { count: 0 };
if (typeof window !== 'undefined') window.__hmiBeeps = beeps;

function ctx() {
  if (!audio) {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    audio = new AC();
  }
  return audio;
}

// Two short low tones: unmistakable on a noisy floor, not shrill.
export function beep() {
  beeps.count++;
  if (!soundWanted) return;
  const a = ctx();
  if (!a) return;
  if (a.state === 'suspended') a.resume();
  const t0 = a.currentTime;
  for (const [at, f] of [[0, 660], [0.22, 440]]) {
    const o = a.createOscillator();
    const g = a.createGain();
    o.type = 'square';
    o.frequency.value = f;
    g.gain.setValueAtTime(0.0001, t0 + at);
    g.gain.exponentialRampToValueAtTime(0.25, t0 + at + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.18);
    o.connect(g).connect(a.destination);
    o.start(t0 + at);
    o.stop(t0 + at + 0.2);
  }
}

function isException(d) { return d && d.exception && d.exception !== 'none'; }

export function stationView() {
  const big = h('section', { class: 'big', 'data-testid': 'station-big' });
  const list = h('ol', { class: 'recent', 'data-testid': 'station-recent' });
  const msg = h('div', { class: 'msg', 'data-testid': 'station-msg', role: 'status' });
  const soundBtn = h('button', { class: 'ghost', onclick: () => {
    soundWanted = !soundWanted;
    localStorage.setItem('sortd.sound', soundWanted ? 'on' : 'off');
    if (soundWanted) ctx()?.resume();
    paintSound();
  } });
  const reprintBtn = h('button', { class: 'primary big-btn', 'data-testid': 'reprint-last', onclick: async () => {
    const d = live.lastDecision;
    if (!d) return;
    msg.className = 'msg';
    msg.textContent = '…';
    const r = await api.action('reprint', { parcel_id: d.parcel_id });
    if (r.ok) {
      msg.className = 'msg ok';
      msg.textContent = `${t('reprint')} #${d.parcel_id}: ${t('done')} (job ${r.result.job_id})`;
    } else {
      msg.className = 'msg err';
      msg.textContent = `${tError(r.error.code)}: ${r.error.message}`;
    }
  } });
  function paintSound() {
    soundBtn.textContent = soundWanted ? '♪ ' + t('soundOn') : '× ' + t('soundOff');
  }
  const title = h('h2');
  const root = h('div', { class: 'station' }, big,
    h('aside', { class: 'side' },
      h('div', { class: 'side-head' }, title, soundBtn),
      list,
      h('div', { class: 'side-actions' }, reprintBtn, msg)));

  function render() {
    paintSound();
    if (title.textContent !== t('lastParcels')) title.textContent = t('lastParcels');
    if (reprintBtn.textContent !== t('reprintLast')) reprintBtn.textContent = t('reprintLast');
    const d = live.lastDecision;
    // morph: a render that changes nothing (a later state of an older parcel) repaints nothing.
    if (!d) {
      big.className = 'big idle';
      morph(big, h('div', { class: 'big-wait' }, t('waiting')));
    } else {
      const ex = isException(d);
      big.className = 'big ' + (ex ? 'bad' : 'good');
      big.dataset.parcel = d.parcel_id;
      big.dataset.exception = d.exception || 'none';
      morph(big, [
        h('div', { class: 'big-label' }, t('lane')),
        h('div', { class: 'big-lane', 'data-testid': 'big-lane' }, d.lane ?? '—'),
        h('div', { class: 'big-courier', 'data-testid': 'big-courier' },
          ex ? tException(d.exception) : (d.courier_name || d.courier || '')),
        ex ? h('div', { class: 'big-reason', 'data-testid': 'big-reason' }, d.reason || '') : null,
        !ex && d.overflow ? h('div', { class: 'big-reason' }, t('overflow')) : null,
        h('div', { class: 'big-meta' },
          `#${d.parcel_id ?? '—'}  ${d.order_id || ''}  ${(d.codes || []).join(' ')}  ${d.weight_g ? kg(d.weight_g) : ''}  ${fmtTime(d.time)}`,
          d.attempt ? '  ' + t('attempt', { n: d.attempt + 1 }) : '')]);
    }
    reprintBtn.disabled = !d || isException(d);
    morph(list, live.decisions.slice(1, 9).map((p) => {
      const ex = isException(p);
      return h('li', { class: ex ? 'bad' : 'good', 'data-parcel': p.parcel_id },
        h('span', { class: 'r-lane' }, p.lane ?? '—'),
        h('span', { class: 'r-what' }, ex ? tException(p.exception) : (p.courier_name || p.courier || '')),
        h('span', { class: 'r-meta' }, `#${p.parcel_id} ${fmtTime(p.time)}`));
    }));
  }
  return { root, render, onDecision(d) { if (isException(d)) beep(); } };
}
