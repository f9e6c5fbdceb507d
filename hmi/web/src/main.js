// The sortd HMI page: a top bar (station, pages, live/stale, language, login) and five pages
// behind hash routes: #/station, #/dashboard, #/search[?code=...], #/actions, #/reports.
import './style.css';
import { h, clear } from './dom.js';
import { t, setLang, getLang, onLang, tError } from './i18n.js';
import { live, connect, onChange } from './live.js';
import { api, me, onMe } from './api.js';
import { stationView } from './station.js';
import { dashboardView } from './dashboard.js';
import { searchView } from './search.js';
import { actionsView } from './actions.js';
import { reportsView } from './reports.js';

const views = {
  station: stationView(),
  dashboard: dashboardView(),
  search: searchView(),
  actions: actionsView(),
  reports: reportsView(),
};
let current = null;

// --- top bar
const stationName = h('span', { class: 'st-name', 'data-testid': 'station-name' });
const nav = h('nav', null, Object.keys(views).map((k) => h('a', { href: '#/' + k, 'data-view': k, 'data-testid': 'nav-' + k })));
const liveBadge = h('span', { class: 'badge', 'data-testid': 'live-badge' });
const langBtn = h('button', { class: 'ghost', 'data-testid': 'lang', onclick: () => setLang(getLang() === 'zh' ? 'en' : 'zh') });
const userBtn = h('button', { class: 'ghost', 'data-testid': 'user-btn', onclick: () => (me.user ? logout() : openLogin()) });
const banner = h('div', { class: 'stale-banner', 'data-testid': 'stale-banner', hidden: true, role: 'alert' });
const bar = h('header', { class: 'topbar' }, stationName, nav, h('span', { class: 'spacer' }), liveBadge, langBtn, userBtn);
const main = h('main');

// --- login dialog
const loginUser = h('input', { 'data-testid': 'login-user', autocomplete: 'username' });
const loginPass = h('input', { type: 'password', 'data-testid': 'login-password', autocomplete: 'current-password' });
const loginMsg = h('div', { class: 'msg err', 'data-testid': 'login-msg' });
const loginTitle = h('h2');
const loginOk = h('button', { class: 'primary', type: 'submit', 'data-testid': 'login-submit' });
const loginCancel = h('button', { type: 'button', onclick: () => dialog.close() });
const userLbl = h('label');
const passLbl = h('label');
const dialog = h('dialog', { class: 'login', 'data-testid': 'login-dialog' },
  h('form', { onsubmit: async (e) => {
    e.preventDefault();
    loginMsg.textContent = '…';
    const r = await api.login(loginUser.value.trim(), loginPass.value);
    loginPass.value = '';
    if (r.ok) { loginMsg.textContent = ''; dialog.close(); } else loginMsg.textContent = `${tError(r.error.code)} (${r.error.code}): ${r.error.message}`;
  } }, loginTitle, userLbl, loginUser, passLbl, loginPass, loginMsg, h('div', { class: 'row' }, loginOk, loginCancel)));

function openLogin() { loginMsg.textContent = ''; dialog.showModal(); loginUser.focus(); }
async function logout() { await api.logout(); }

document.body.append(bar, banner, main, dialog);

function paintChrome() {
  document.title = `${live.state?.station?.name || 'sortd'} · HMI`;
  stationName.textContent = live.state?.station?.name || t('title');
  for (const a of nav.children) {
    a.textContent = t(a.dataset.view);
    a.classList.toggle('on', a.dataset.view === current);
  }
  liveBadge.textContent = live.live ? t('live') : t('stale');
  liveBadge.className = 'badge ' + (live.live ? 'live' : 'stale');
  liveBadge.dataset.live = live.live ? '1' : '0';
  banner.hidden = live.live;
  banner.textContent = live.live ? '' : `${t('staleBanner')}: ${live.reason}`;
  document.body.classList.toggle('is-stale', !live.live);
  langBtn.textContent = t('language');
  userBtn.textContent = me.user ? `${me.user} (${me.role}) · ${t('logout')}` : t('login');
  loginTitle.textContent = t('login');
  userLbl.textContent = t('user');
  passLbl.textContent = t('password');
  loginOk.textContent = t('login');
  loginCancel.textContent = t('cancel');
}

function route() {
  const m = location.hash.match(/^#\/(\w+)(?:\?(.*))?$/);
  const name = m && views[m[1]] ? m[1] : 'station';
  if (name !== current) {
    views[current]?.hide?.();
    current = name;
    clear(main).append(views[name].root);
    main.className = 'view-' + name;
    views[name].show?.();
  }
  paintChrome();
  views[name].render();
  if (name === 'search' && m && m[2]) {
    const q = new URLSearchParams(m[2]);
    for (const k of ['code', 'order_id', 'parcel_id']) if (q.get(k)) { views.search.root.querySelector('select').value = k; views.search.run(q.get(k)); }
  }
}

onChange((kind, detail) => {
  if (kind === 'decision') {
    views.station.onDecision(detail);
    if (current === 'station') views.station.render();  // at once: the staff wait for it
  } else if (kind === 'final') {
    if (current === 'station') views.station.render();
  } else if (kind === 'update') {
    views.dashboard.onUpdate(detail);
    if (current === 'dashboard') views.dashboard.render();
    if (current === 'actions') views.actions.onUpdate(detail);
  } else if (kind === 'snapshot' || kind === 'stale') {
    paintChrome();
    views[current].render();
    return;
  }
  if (kind !== 'hb') return;
  paintChrome();
});
onLang(() => { paintChrome(); for (const v of Object.values(views)) v.render(); });
onMe(() => { paintChrome(); if (current === 'actions') views.actions.render(); });

window.addEventListener('hashchange', route);
setLang(getLang());
route();
api.whoami();
connect();
