// The search page (query bar, time range, histogram, field sidebar, results with expandable rows,
// load more, export) and the single event page (#/events/<id>).

import { api, ApiError } from './api.js';
import { h, s, hashFor, levelBadge, loading, nextId, quoteValue, showError, srOnly } from './dom.js';
import { fmtDuration, fmtNumber, fmtTime, t, toLocalInput } from './i18n.js';

/** The fields of the sidebar, with their top values. */
export const FACETS = ['host', 'agency', 'system', 'source_type', 'severity', 'rule_id', 'user.name', 'source.ip', 'event.action'];
const PRESETS = ['now-15m', 'now-1h', 'now-24h', 'now-7d', 'now-30d'];
const DEFAULT_FROM = 'now-24h';
const PAGE_SIZE = 50;
const BUCKETS = 60;
const FACET_SIZE = 5;
const COLUMNS = 7;

/** Add `field:"value"` (or `NOT field:"value"`) to a query with AND. */
export function addClause(query, field, value, exclude = false) {
  const clause = `${exclude ? 'NOT ' : ''}${field}:${quoteValue(value)}`;
  const base = (query ?? '').trim();
  if (!base || base === '*') return clause;
  if (base === clause || base.endsWith(` AND ${clause}`)) return base;
  const wrapped = /\bOR\b/.test(base) ? `(${base})` : base;
  return `${wrapped} AND ${clause}`;
}

const UNIT_MS = { s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000 };

/** `now`, `now-15m`, or an RFC 3339 time as a Date (relative ones against this browser's clock). */
function resolveTime(value) {
  if (!value || value === 'now') return new Date();
  const relative = /^now-(\d+)([smhdw])$/.exec(value);
  if (relative) return new Date(Date.now() - Number(relative[1]) * UNIT_MS[relative[2]]);
  return new Date(value);
}

function readParams(query) {
  return { q: query.get('q') ?? '', from: query.get('from') || DEFAULT_FROM, to: query.get('to') || 'now' };
}

function apiParams(st) {
  return { q: st.q.trim() || undefined, from: st.from, to: st.to };
}

function searchHash(st) {
  return hashFor('/search', { q: st.q.trim(), from: st.from === DEFAULT_FROM ? '' : st.from, to: st.to === 'now' ? '' : st.to });
}

function display(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** `fields` as flat dotted names (the API sends them flat already; nested objects are flattened). */
function flatten(fields, prefix = '', out = []) {
  for (const [key, value] of Object.entries(fields ?? {})) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === 'object' && !Array.isArray(value)) flatten(value, name, out);
    else out.push([name, value]);
  }
  return out;
}

function isAbort(error) {
  return error?.name === 'AbortError';
}

/**
 * Every field of an event as a table, with filter buttons (when `onFilter` is given: called with
 * field, value, exclude), the full raw line, and links to the event page and an id search.
 */
export function eventDetail(ev, { onFilter, links = true } = {}) {
  const rows = [];
  const row = (label, name, value, filterField) => {
    const text = display(value);
    const buttons =
      onFilter && filterField && text !== ''
        ? h(
            'span',
            { class: 'filter-buttons' },
            h('button', { type: 'button', class: 'mini', 'aria-label': t('search.filterFor', { field: filterField, value: text }), title: t('search.filterFor', { field: filterField, value: text }), onclick: () => onFilter(filterField, text, false) }, '+'),
            h('button', { type: 'button', class: 'mini', 'aria-label': t('search.filterOut', { field: filterField, value: text }), title: t('search.filterOut', { field: filterField, value: text }), onclick: () => onFilter(filterField, text, true) }, '−'),
          )
        : null;
    rows.push(
      h(
        'tr',
        { dataset: { field: name } },
        h('th', { scope: 'row' }, label ? h('span', null, label, ' ') : null, h('code', null, name)),
        h('td', { class: 'value' }, text === '' ? h('span', { class: 'muted' }, t('dash')) : text),
        h('td', { class: 'fa' }, buttons),
      ),
    );
  };
  row(t('field.id'), 'id', ev.id, null);
  row(t('field.timestamp'), 'timestamp', ev.timestamp ? `${fmtTime(ev.timestamp)}  (${ev.timestamp})` : '', null);
  for (const name of ['host', 'agency', 'system', 'grade', 'source_type', 'severity']) {
    row(t(`field.${name}`), name, ev[name], name === 'grade' ? null : name);
  }
  for (const ruleId of ev.rule_ids ?? []) row(t('field.rule_ids'), 'rule_id', ruleId, 'rule_id');
  for (const [name, value] of flatten(ev.fields).sort((a, b) => a[0].localeCompare(b[0]))) {
    const scalar = value === null || typeof value !== 'object';
    row(null, name, value, scalar ? name : null);
  }
  return h(
    'div',
    { class: 'event-detail' },
    links
      ? h(
          'p',
          { class: 'detail-links' },
          h('a', { href: `#/events/${encodeURIComponent(ev.id)}`, class: 'open-event' }, t('search.openEvent')),
          h('a', { href: hashFor('/search', { q: `id:${quoteValue(ev.id)}`, from: 'now-30d' }) }, t('search.searchId')),
        )
      : null,
    h('pre', { class: 'raw-full', 'aria-label': t('field.raw') }, ev.raw ?? ''),
    h('table', { class: 'grid fields' }, h('caption', { class: 'visually-hidden' }, t('event.fields')), h('tbody', null, rows)),
  );
}

// ---------------------------------------------------------------- search page

export function searchPage(ctx) {
  let st = readParams(ctx.query);
  let controller = null;
  let cursor = null;
  let shown = 0;
  let exportBusy = false;

  const qError = h('div', { class: 'error-slot', id: 'q-error' });
  const exportStatus = h('div', { class: 'error-slot', id: 'export-status' });
  const qInput = h('input', {
    id: 'q',
    type: 'text',
    class: 'query',
    name: 'q',
    autocomplete: 'off',
    spellcheck: 'false',
    enterkeyhint: 'search',
    placeholder: t('search.placeholder'),
    'aria-describedby': 'q-hint q-error',
  });
  const rangeSel = h(
    'select',
    { id: 'range', title: t('search.range'), onchange: () => onRangeChange() },
    PRESETS.map((p) => h('option', { value: p }, t(`range.${p}`))),
    h('option', { value: 'custom' }, t('range.custom')),
  );
  const fromIn = h('input', { id: 'range-from', type: 'datetime-local', step: '1' });
  const toIn = h('input', { id: 'range-to', type: 'datetime-local', step: '1' });
  const custom = h('span', { class: 'custom-range', hidden: true }, h('label', { for: 'range-from' }, t('range.from')), fromIn, h('label', { for: 'range-to' }, t('range.to')), toIn);
  const exportBtn = h('button', { type: 'button', id: 'export', onclick: () => doExport() }, t('search.export'));
  const form = h(
    'form',
    { class: 'querybar', role: 'search', 'aria-label': t('search.title'), onsubmit: (e) => { e.preventDefault(); submit(); } },
    h('label', { for: 'q', class: 'visually-hidden' }, t('search.query')),
    qInput,
    h('label', { for: 'range', class: 'visually-hidden' }, t('search.range')),
    rangeSel,
    custom,
    h('button', { type: 'submit', class: 'primary', id: 'run' }, t('search.run')),
    exportBtn,
  );

  // Histogram.
  const histHelpId = nextId('hist-help');
  const summaryEl = h('span', { id: 'summary', class: 'summary', role: 'status' });
  const histReadout = h('span', { class: 'readout', 'aria-hidden': 'true' });
  const histMeta = h('span', { class: 'muted' });
  const histChart = h('div', { class: 'hist-chart' });
  const histError = h('div', { class: 'error-slot' });
  const histBox = h(
    'section',
    { class: 'histogram', 'aria-labelledby': 'hist-h' },
    h('div', { class: 'hist-head' }, h('h2', { id: 'hist-h', class: 'visually-hidden' }, t('search.histogram')), summaryEl, histMeta, histReadout),
    histChart,
    h('p', { id: histHelpId, class: 'hint' }, t('search.histogramHelp')),
    histError,
  );

  // Results.
  const tbody = h('tbody');
  const moreBtn = h('button', { type: 'button', id: 'load-more', hidden: true, onclick: () => loadMore() }, t('loadMore'));
  const moreError = h('div', { class: 'error-slot' });
  const resultsTable = h(
    'table',
    { class: 'grid events', id: 'results' },
    h('caption', { class: 'visually-hidden' }, t('search.results')),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col', class: 'c-toggle' }, srOnly(t('search.details'))),
        h('th', { scope: 'col', class: 'c-time' }, t('col.time')),
        h('th', { scope: 'col', class: 'c-host' }, t('col.host')),
        h('th', { scope: 'col', class: 'c-agency' }, t('col.agency')),
        h('th', { scope: 'col', class: 'c-type' }, t('col.sourceType')),
        h('th', { scope: 'col', class: 'c-sev' }, t('col.severity')),
        h('th', { scope: 'col', class: 'c-raw' }, t('col.raw')),
      ),
    ),
    tbody,
  );

  // Field sidebar.
  const facets = FACETS.map((field) => {
    const list = h('ul', { class: 'facet-values' });
    const note = h('div', { class: 'facet-note' });
    const section = h('section', { class: 'facet', dataset: { field } }, h('h3', null, t(`field.${field}`), ' ', h('code', null, field)), list, note);
    return { field, list, note, section };
  });
  const sidebar = h(
    'aside',
    { class: 'facets', 'aria-labelledby': 'facets-h' },
    h('h2', { id: 'facets-h' }, t('search.fields')),
    h('p', { class: 'hint' }, t('search.fieldsHelp')),
    facets.map((f) => f.section),
  );

  const el = h(
    'section',
    { class: 'search-page' },
    h('h1', { class: 'visually-hidden' }, t('search.title')),
    form,
    h('p', { id: 'q-hint', class: 'hint' }, t('search.hint')),
    qError,
    exportStatus,
    h('div', { class: 'search-body' }, sidebar, h('div', { class: 'results' }, histBox, resultsTable, h('div', { class: 'more' }, moreBtn), moreError)),
  );

  // ------------------------------------------------------------ behaviour

  function syncControls() {
    qInput.value = st.q;
    if (PRESETS.includes(st.from) && st.to === 'now') {
      rangeSel.value = st.from;
      custom.hidden = true;
    } else {
      rangeSel.value = 'custom';
      custom.hidden = false;
      fromIn.value = toLocalInput(resolveTime(st.from));
      toIn.value = toLocalInput(resolveTime(st.to));
    }
  }

  function onRangeChange() {
    showError(qError, null);
    if (rangeSel.value === 'custom') {
      custom.hidden = false;
      fromIn.value = toLocalInput(resolveTime(st.from));
      toIn.value = toLocalInput(resolveTime(st.to));
      fromIn.focus();
    } else {
      custom.hidden = true;
      submit();
    }
  }

  function submit() {
    let from;
    let to;
    if (rangeSel.value === 'custom') {
      const start = fromIn.value ? new Date(fromIn.value) : null;
      const end = toIn.value ? new Date(toIn.value) : null;
      if (!start || !end || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || start >= end) {
        showError(qError, t('range.invalid'));
        fromIn.setAttribute('aria-invalid', 'true');
        fromIn.focus();
        return;
      }
      fromIn.removeAttribute('aria-invalid');
      from = start.toISOString();
      to = end.toISOString();
    } else {
      from = rangeSel.value;
      to = 'now';
    }
    go({ q: qInput.value, from, to });
  }

  /** Search: the hash holds the state (history, links); its change runs the search. */
  function go(next) {
    st = next;
    // Busy at once: the hash change that runs the search arrives a moment later.
    el.querySelector('.results').setAttribute('aria-busy', 'true');
    ctx.navigate(searchHash(st));
  }

  /** Add a field clause from the sidebar or an expanded row, and search. */
  function filter(field, value, exclude) {
    go({ ...st, q: addClause(qInput.value, field, value, exclude) });
  }

  /** Show an API error in `slot`; a query that does not parse is shown next to the query bar. */
  function failed(slot, error) {
    if (isAbort(error) || (error instanceof ApiError && error.status === 401)) return;
    if (error instanceof ApiError && error.status === 400) {
      showError(qError, error);
      qInput.setAttribute('aria-invalid', 'true');
      return;
    }
    showError(slot, error);
  }

  function run() {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    const params = apiParams(st);
    showError(qError, null);
    showError(moreError, null);
    showError(histError, null);
    qInput.removeAttribute('aria-invalid');
    el.querySelector('.results').setAttribute('aria-busy', 'true');
    summaryEl.textContent = t('loading');

    api('/api/v1/search', { query: { ...params, size: PAGE_SIZE }, signal }).then(
      (data) => renderResults(data, false),
      (error) => {
        if (!isAbort(error)) {
          tbody.replaceChildren();
          moreBtn.hidden = true;
          summary('');
          el.querySelector('.results').removeAttribute('aria-busy');
        }
        // A search error belongs next to the controls that caused it.
        failed(qError, error);
      },
    );
    api('/api/v1/aggregate/histogram', { query: { ...params, buckets: BUCKETS }, signal }).then(
      (data) => renderHistogram(data),
      (error) => {
        if (!isAbort(error)) histChart.replaceChildren();
        failed(histError, error);
      },
    );
    for (const facet of facets) {
      facet.list.replaceChildren(h('li', { class: 'muted' }, t('loading')));
      facet.note.replaceChildren();
      api('/api/v1/aggregate/terms', { query: { ...params, field: facet.field, size: FACET_SIZE }, signal }).then(
        (data) => renderFacet(facet, data),
        (error) => {
          if (!isAbort(error)) facet.list.replaceChildren();
          failed(facet.note, error);
        },
      );
    }
  }

  function summary(text) {
    summaryEl.textContent = text;
  }

  function updateSummary(total, took) {
    summary(t('search.summary', { total: fmtNumber(total ?? shown), shown: fmtNumber(shown), took: fmtNumber(took ?? 0) }));
  }

  let lastTotal = 0;
  let lastTook = 0;

  function renderResults(data, append) {
    el.querySelector('.results').removeAttribute('aria-busy');
    const hits = Array.isArray(data?.hits) ? data.hits : [];
    if (!append) {
      tbody.replaceChildren();
      shown = 0;
    }
    for (const ev of hits) tbody.append(eventRow(ev));
    shown += hits.length;
    cursor = data?.next_cursor ?? null;
    moreBtn.hidden = !cursor;
    if (!append) {
      lastTotal = data?.total;
      lastTook = data?.took_ms;
    }
    updateSummary(lastTotal, lastTook);
    if (!append && hits.length === 0) {
      tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: COLUMNS }, st.q.trim() ? t('noResults') : t('search.none'))));
    }
  }

  async function loadMore() {
    if (!cursor) return;
    moreBtn.disabled = true;
    showError(moreError, null);
    try {
      const data = await api('/api/v1/search', { query: { ...apiParams(st), size: PAGE_SIZE, cursor }, signal: controller?.signal });
      const firstNew = tbody.children.length;
      renderResults(data, true);
      // Keep keyboard users in place: focus the first new row's toggle.
      tbody.children[firstNew]?.querySelector('button.toggle')?.focus();
    } catch (error) {
      failed(moreError, error);
    } finally {
      moreBtn.disabled = false;
    }
  }

  function eventRow(ev) {
    const toggleBtn = h('button', { type: 'button', class: 'toggle', 'aria-expanded': 'false', 'aria-label': t('search.expand'), title: t('search.expand') }, h('span', { class: 'chev', 'aria-hidden': 'true' }, '▸'));
    const tr = h(
      'tr',
      { class: 'ev', dataset: { id: ev.id } },
      h('td', { class: 'c-toggle' }, toggleBtn),
      h('td', { class: 'c-time' }, h('time', { datetime: ev.timestamp ?? '' }, fmtTime(ev.timestamp))),
      h('td', { class: 'c-host' }, ev.host ?? ''),
      h('td', { class: 'c-agency' }, ev.agency ?? ''),
      h('td', { class: 'c-type' }, ev.source_type ?? ''),
      h('td', { class: 'c-sev' }, ev.severity ? levelBadge(ev.severity) : ''),
      h('td', { class: 'c-raw' }, ev.raw ?? ''),
    );
    toggleBtn.addEventListener('click', () => toggleRow(tr, toggleBtn, ev));
    tr.addEventListener('click', (event) => {
      // Mouse convenience: a click anywhere on the row, unless on a control or selecting text.
      if (event.target.closest('button, a, input')) return;
      if (String(window.getSelection?.() ?? '')) return;
      toggleRow(tr, toggleBtn, ev);
    });
    return tr;
  }

  function toggleRow(tr, btn, ev, open) {
    const isOpen = btn.getAttribute('aria-expanded') === 'true';
    const want = open ?? !isOpen;
    if (want === isOpen) return;
    if (want) {
      const id = nextId('ev-detail');
      const detail = h('tr', { class: 'detail', id }, h('td', { colspan: COLUMNS }, eventDetail(ev, { onFilter: filter })));
      tr.after(detail);
      btn.setAttribute('aria-controls', id);
    } else {
      const detail = tr.nextElementSibling;
      if (detail?.classList.contains('detail')) detail.remove();
      btn.removeAttribute('aria-controls');
    }
    btn.setAttribute('aria-expanded', String(want));
    tr.classList.toggle('open', want);
  }

  function renderHistogram(data) {
    const buckets = Array.isArray(data?.buckets) ? data.buckets : [];
    const interval = Number(data?.interval_ms) || 0;
    histReadout.textContent = '';
    if (!buckets.length) {
      histMeta.textContent = '';
      histChart.replaceChildren(h('p', { class: 'muted' }, t('search.none')));
      return;
    }
    const counts = buckets.map((b) => Number(b.count) || 0);
    const max = Math.max(...counts);
    const width = buckets.length * 10;
    const height = 100;
    const first = Date.parse(buckets[0].start);
    const last = Date.parse(buckets[buckets.length - 1].start) + interval;
    const withDate = new Date(first).toDateString() !== new Date(last - 1).toDateString();
    const label = (i) => fmtTime(buckets[i].start, { date: withDate });
    histMeta.textContent = `${interval ? t('search.interval', { interval: fmtDuration(interval) }) : ''} · ${t('search.max', { count: fmtNumber(max) })}`;

    let focusIndex = Math.max(0, counts.findIndex((c) => c > 0));
    const bars = buckets.map((bucket, i) => {
      const barHeight = max ? Math.max(counts[i] ? 2 : 0, (counts[i] / max) * (height - 4)) : 0;
      const text = t('search.bar', { start: label(i), count: fmtNumber(counts[i]) });
      return s(
        'g',
        { class: ['bar', counts[i] ? '' : 'zero'], role: 'button', tabindex: i === focusIndex ? '0' : '-1', 'aria-label': text, dataset: { index: i, count: counts[i] } },
        s('title', null, text),
        s('rect', { class: 'hit', x: i * 10, y: 0, width: 10, height }),
        s('rect', { class: 'fill', x: i * 10 + 1, y: height - barHeight, width: 8, height: barHeight }),
      );
    });
    const svg = s(
      'svg',
      { class: 'hist', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'group', 'aria-label': t('search.histogram'), 'aria-describedby': histHelpId, focusable: 'false' },
      s('line', { class: 'baseline', x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5 }),
      bars,
    );
    const narrow = (i) => {
      const start = new Date(Date.parse(buckets[i].start));
      const end = new Date(start.getTime() + (interval || 60000));
      go({ ...st, q: qInput.value, from: start.toISOString(), to: end.toISOString() });
    };
    const indexOf = (target) => {
      const g = target instanceof Element ? target.closest('g.bar') : null;
      return g ? Number(g.dataset.index) : -1;
    };
    const show = (i) => {
      histReadout.textContent = i >= 0 ? t('search.bar', { start: label(i), count: fmtNumber(counts[i]) }) : '';
    };
    svg.addEventListener('click', (event) => {
      const i = indexOf(event.target);
      if (i >= 0) narrow(i);
    });
    svg.addEventListener('mouseover', (event) => show(indexOf(event.target)));
    svg.addEventListener('mouseleave', () => show(-1));
    svg.addEventListener('focusin', (event) => show(indexOf(event.target)));
    svg.addEventListener('keydown', (event) => {
      const i = indexOf(event.target);
      if (i < 0) return;
      let next = null;
      if (event.key === 'ArrowRight') next = Math.min(bars.length - 1, i + 1);
      else if (event.key === 'ArrowLeft') next = Math.max(0, i - 1);
      else if (event.key === 'Home') next = 0;
      else if (event.key === 'End') next = bars.length - 1;
      else if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        narrow(i);
        return;
      } else return;
      event.preventDefault();
      bars[focusIndex].setAttribute('tabindex', '-1');
      focusIndex = next;
      bars[next].setAttribute('tabindex', '0');
      bars[next].focus();
    });
    const ticks = [0, 0.25, 0.5, 0.75].map((f) => Math.floor(f * buckets.length));
    const axis = h(
      'div',
      { class: 'hist-axis', 'aria-hidden': 'true' },
      ticks.map((i) => h('span', null, label(i))),
      h('span', null, fmtTime(new Date(last).toISOString(), { date: withDate })),
    );
    histChart.replaceChildren(svg, axis);
  }

  function renderFacet(facet, data) {
    const buckets = Array.isArray(data?.buckets) ? data.buckets : [];
    const other = Number(data?.other) || 0;
    const denominator = buckets.reduce((sum, b) => sum + (Number(b.count) || 0), 0) + other || 1;
    if (!buckets.length) {
      facet.list.replaceChildren(h('li', { class: 'muted' }, t('search.noValues')));
      facet.note.replaceChildren();
      return;
    }
    facet.list.replaceChildren(
      ...buckets.map((bucket) => {
        const value = display(bucket.value);
        const meter = h('span', { class: 'meter', 'aria-hidden': 'true' });
        meter.style.width = `${Math.max(1, Math.round((100 * (Number(bucket.count) || 0)) / denominator))}%`;
        const forLabel = t('search.filterFor', { field: facet.field, value });
        const outLabel = t('search.filterOut', { field: facet.field, value });
        return h(
          'li',
          { dataset: { value } },
          h(
            'button',
            { type: 'button', class: 'facet-in', title: forLabel, 'aria-label': `${forLabel} (${fmtNumber(bucket.count)})`, onclick: (e) => filter(facet.field, value, e.altKey || e.shiftKey) },
            h('span', { class: 'v' }, value === '' ? t('empty') : value),
            h('span', { class: 'n' }, fmtNumber(bucket.count)),
            meter,
          ),
          h('button', { type: 'button', class: 'mini facet-out', title: outLabel, 'aria-label': outLabel, onclick: () => filter(facet.field, value, true) }, '−'),
        );
      }),
    );
    facet.note.replaceChildren(other ? h('p', { class: 'muted' }, t('search.other', { count: fmtNumber(other) })) : '');
    if (facet.field === 'rule_id') showRuleTitles(facet);
  }

  // Rule ids are UUIDs: show their titles (from /api/v1/rules, fetched once per page).
  let ruleTitles = null;
  function showRuleTitles(facet) {
    ruleTitles ??= api('/api/v1/rules').then(
      (data) => new Map((data?.rules ?? []).map((rule) => [rule.id, rule.title])),
      () => new Map(),
    );
    ruleTitles.then((titles) => {
      for (const li of facet.list.querySelectorAll('li[data-value]')) {
        const title = titles.get(li.dataset.value);
        const label = li.querySelector('.v');
        if (title && label) {
          label.textContent = title;
          label.title = li.dataset.value;
        }
      }
    });
  }

  async function doExport() {
    if (exportBusy) return;
    exportBusy = true;
    exportBtn.disabled = true;
    exportBtn.setAttribute('aria-busy', 'true');
    exportStatus.replaceChildren(h('p', { class: 'notice', role: 'status' }, t('search.exporting')));
    try {
      const response = await api('/api/v1/export', { query: apiParams(st), raw: true });
      const blob = await response.blob();
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = `haidang-export-${stamp}.ndjson`;
      const url = URL.createObjectURL(blob);
      const link = h('a', { href: url, download: file, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      exportStatus.replaceChildren(h('p', { class: 'notice', role: 'status' }, t('search.exported', { file })));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) showError(exportStatus, error);
    } finally {
      exportBusy = false;
      exportBtn.disabled = false;
      exportBtn.removeAttribute('aria-busy');
    }
  }

  syncControls();
  run();

  return {
    title: t('nav.search'),
    el,
    update(query) {
      st = readParams(query);
      syncControls();
      exportStatus.replaceChildren();
      run();
    },
    focusQuery() {
      qInput.focus();
      qInput.select();
    },
    escape() {
      const open = [...tbody.querySelectorAll('tr.ev.open')];
      if (!open.length) return false;
      const active = document.activeElement;
      let refocus = null;
      for (const tr of open) {
        const btn = tr.querySelector('button.toggle');
        const detail = tr.nextElementSibling;
        if (detail?.contains(active) || btn === active) refocus = btn;
        btn.click();
      }
      refocus?.focus();
      return true;
    },
    destroy() {
      controller?.abort();
    },
  };
}

// ---------------------------------------------------------------- event page

export function eventPage(ctx) {
  const id = ctx.params[0];
  const body = h('div', { 'aria-live': 'polite' }, loading());
  const el = h(
    'section',
    { class: 'event-page' },
    h('p', { class: 'crumbs' }, h('a', { href: ctx.lastSearch() }, `← ${t('event.back')}`)),
    h('h1', null, `${t('event.title')} `, h('code', null, id)),
    body,
  );
  const controller = new AbortController();
  api(`/api/v1/events/${encodeURIComponent(id)}`, { signal: controller.signal }).then(
    (ev) => {
      const around = (ts) => {
        const at = Date.parse(ts);
        if (Number.isNaN(at)) return {};
        return { from: new Date(at - 15 * 60000).toISOString(), to: new Date(at + 15 * 60000).toISOString() };
      };
      const onFilter = (field, value, exclude) => ctx.navigate(hashFor('/search', { q: addClause('', field, value, exclude), ...around(ev.timestamp) }));
      body.replaceChildren(eventDetail(ev, { onFilter, links: false }));
    },
    (error) => {
      if (isAbort(error) || (error instanceof ApiError && error.status === 401)) return;
      if (error instanceof ApiError && error.status === 404) showError(body, t('event.notFound'));
      else showError(body, error);
    },
  );
  return { title: `${t('event.title')} ${id}`, el, destroy: () => controller.abort() };
}
