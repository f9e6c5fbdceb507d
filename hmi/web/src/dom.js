// A tiny DOM helper: h('div', {class: 'x', onclick: f}, child, ...). Strings become text
// nodes (never HTML), so nothing the daemon sends can inject markup.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'value') el.value = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

// Puts `children` in `el` (as h() takes them), keeping each child node that is equal to the new
// one where it stands (isEqualNode: the same tag, attributes and text; listeners aside). A
// dashboard repainted four times a second then only lays out and paints what changed, which a
// cheap floor PC feels (bench/bench_hmi.mjs).
export function morph(el, ...children) {
  const next = h('div', null, ...children).childNodes;
  let i = 0;
  while (next.length) {
    const n = next[0];
    const old = el.childNodes[i];
    if (!old) el.appendChild(n);
    else if (old.isEqualNode(n)) n.remove();
    else el.replaceChild(n, old);
    i++;
  }
  while (el.childNodes.length > i) el.removeChild(el.lastChild);
  return el;
}

export function fmtTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  return d.toLocaleTimeString('en-GB', { hour12: false });
}
export function fmtDateTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  return d.toLocaleDateString('sv-SE') + ' ' + d.toLocaleTimeString('en-GB', { hour12: false });
}
export function pct(x) { return x == null || Number.isNaN(x) ? '—' : (x * 100).toFixed(1) + '%'; }
export function kg(g) { return g == null ? '—' : (g / 1000).toFixed(g >= 10000 ? 0 : 2) + ' kg'; }
