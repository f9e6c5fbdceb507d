// The gateway's JSON API. Every reply is {ok, result} or {ok:false, error:{code, message}}
// (the daemon's words); a network failure becomes {ok:false, error:{code:'daemon_unreachable'}}.

export const me = { user: '', role: 'viewer', expires: 0 };
const meListeners = new Set();
export function onMe(f) { meListeners.add(f); }
function setMe(r) {
  me.user = r?.user || '';
  me.role = r?.role || 'viewer';
  me.expires = r?.expires || 0;
  for (const f of meListeners) f(me);
}

async function call(method, url, body) {
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: body !== undefined ? { 'Content-Type': 'application/json' } : {},
      body: body !== undefined ? JSON.stringify(body) : undefined,
      credentials: 'same-origin',
    });
  } catch (e) {
    return { ok: false, error: { code: 'daemon_unreachable', message: 'the HMI gateway is not reachable: ' + e.message } };
  }
  let j;
  try { j = await res.json(); } catch {
    return { ok: false, error: { code: 'internal', message: `HTTP ${res.status} without a JSON body` } };
  }
  // The gateway ended our login (the daemon no longer knows the session).
  if (j && j.ok === false && j.error?.code === 'unauthenticated' && me.user) setMe(null);
  return j;
}

export const api = {
  get: (url) => call('GET', url),
  action: (cmd, args) => call('POST', '/api/action/' + cmd, args || {}),
  async login(user, password) {
    const r = await call('POST', '/api/login', { user, password });
    if (r.ok) setMe(r.result);
    return r;
  },
  async logout() {
    const r = await call('POST', '/api/logout', {});
    setMe(null);
    return r;
  },
  async whoami() {
    const r = await call('GET', '/api/whoami');
    if (r.ok) setMe(r.result);
    return r;
  },
};

const ranks = { viewer: 0, operator: 1, supervisor: 2, admin: 3 };
export function hasRole(need) { return me.user !== '' && (ranks[me.role] ?? -1) >= ranks[need]; }
