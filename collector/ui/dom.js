// Building the DOM without HTML strings. Every text passed here becomes a text node or an
// attribute value: event data (attacker-controlled log lines) is never parsed as HTML.

import { t, tMaybe } from './i18n.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'readOnly', 'required', 'multiple']);

function build(el, attrs, children) {
  const props = [];
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null) continue;
    if (key === 'style' || key === 'innerHTML' || key === 'outerHTML' || key === 'srcdoc') {
      throw new Error(`dom: "${key}" is not allowed (CSP, XSS)`);
    }
    if (key === 'class') {
      const names = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      if (names) el.setAttribute('class', names);
    } else if (key === 'dataset') {
      for (const [name, data] of Object.entries(value)) {
        if (data !== undefined && data !== null) el.dataset[name] = String(data);
      }
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (PROPS.has(key)) {
      props.push([key, value]);
    } else if (value === false) {
      continue;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  // After the children: a <select>'s value needs its options.
  for (const [key, value] of props) el[key] = value;
  return el;
}

/** Append children: nodes as they are, anything else as text. */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** An HTML element: `h('a', {href: '#/x', class: 'y'}, 'text', otherNode)`. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

let uid = 0;
/** A document-unique id for label/aria wiring. */
export function nextId(prefix = 'id') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A visually hidden text (for screen readers). */
export function srOnly(text) {
  return h('span', { class: 'visually-hidden' }, text);
}

/** Replace the content of `slot` with a visible error message (role=alert). */
export function showError(slot, error) {
  if (!slot) return;
  if (!error) {
    slot.replaceChildren();
    return;
  }
  const message = typeof error === 'string' ? error : error.message || String(error);
  slot.replaceChildren(h('p', { class: 'error', role: 'alert' }, message));
}

/** A "loading" placeholder. */
export function loading() {
  return h('p', { class: 'loading', role: 'status' }, t('loading'));
}

const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'];

/** Normalise alert levels and event severities (syslog names too) to our five levels. */
export function levelClass(value) {
  const v = String(value ?? '').toLowerCase();
  if (LEVELS.includes(v)) return v;
  if (['emerg', 'emergency', 'alert', 'crit'].includes(v)) return 'critical';
  if (['err', 'error'].includes(v)) return 'high';
  if (['warning', 'warn'].includes(v)) return 'medium';
  if (['notice'].includes(v)) return 'low';
  if (['info', 'debug', 'information'].includes(v)) return 'informational';
  return 'unknown';
}

/** A coloured level badge: alert level or event severity. */
export function levelBadge(value) {
  if (value === null || value === undefined || value === '') return t('dash');
  return h('span', { class: ['badge', `lvl-${levelClass(value)}`] }, tMaybe('sev.', value));
}

/** A status badge for alerts. */
export function statusBadge(status) {
  return h('span', { class: ['badge', `st-${status}`], dataset: { status } }, tMaybe('status.', status));
}

/** `field:"value"` with the quotes and backslashes of the value escaped. */
export function quoteValue(value) {
  return `"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Build a `#/path?query` hash from an object (empty values left out). */
export function hashFor(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}
