// The alert list (#/alerts?status=&severity=&agency=&rule=) and one alert (#/alerts/<id>): details,
// triage (acknowledge, assign, close, reopen, comment), history, matched events.

import { api, ApiError } from './api.js';
import { h, hashFor, levelBadge, loading, quoteValue, showError, statusBadge } from './dom.js';
import { fmtNumber, fmtRelative, fmtTime, t, tMaybe } from './i18n.js';

const STATUSES = ['new', 'acknowledged', 'assigned', 'closed'];
const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'];
const PAGE_SIZE = 100;

function isAbort(error) {
  return error?.name === 'AbortError';
}

function isAuth(error) {
  return error instanceof ApiError && error.status === 401;
}

function timeCell(value) {
  return h('time', { datetime: value ?? '', title: fmtRelative(value) }, fmtTime(value));
}

// ---------------------------------------------------------------- list

function readFilters(query) {
  return {
    status: query.get('status') ?? '',
    severity: query.get('severity') ?? '',
    agency: query.get('agency') ?? '',
    rule: query.get('rule') ?? '',
  };
}

export function alertListPage(ctx) {
  let filters = readFilters(ctx.query);
  let cursor = null;
  let controller = null;
  const agencies = new Set(ctx.user.agencies ?? []);

  const statusSel = h('select', { id: 'f-status', onchange: () => apply() }, h('option', { value: '' }, t('all')), STATUSES.map((st) => h('option', { value: st }, t(`status.${st}`))));
  const severitySel = h('select', { id: 'f-severity', onchange: () => apply() }, h('option', { value: '' }, t('all')), LEVELS.map((lv) => h('option', { value: lv }, t(`sev.${lv}`))));
  const agencyList = h('datalist', { id: 'agency-list' });
  const agencyIn = h('input', { id: 'f-agency', list: 'agency-list', placeholder: t('alerts.agencyPlaceholder'), autocomplete: 'off' });
  const ruleIn = h('input', { id: 'f-rule', placeholder: t('alerts.rulePlaceholder'), autocomplete: 'off' });
  const formError = h('div', { class: 'error-slot', id: 'alerts-error' });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': t('alerts.filters'), onsubmit: (e) => { e.preventDefault(); apply(); } },
    h('span', { class: 'field' }, h('label', { for: 'f-severity' }, t('col.level')), severitySel),
    h('span', { class: 'field' }, h('label', { for: 'f-status' }, t('col.status')), statusSel),
    h('span', { class: 'field' }, h('label', { for: 'f-agency' }, t('col.agency')), agencyIn, agencyList),
    h('span', { class: 'field' }, h('label', { for: 'f-rule' }, t('col.rule')), ruleIn),
    h('button', { type: 'submit', class: 'primary' }, t('filter')),
  );
  const count = h('p', { class: 'summary', role: 'status' });
  const tbody = h('tbody');
  const moreBtn = h('button', { type: 'button', id: 'alerts-more', hidden: true, onclick: () => load(true) }, t('loadMore'));
  const moreError = h('div', { class: 'error-slot' });
  const columns = [
    ['col.level', 'c-level'],
    ['col.rule', 'c-rule'],
    ['col.host', 'c-host'],
    ['col.agency', 'c-agency'],
    ['col.count', 'num'],
    ['col.firstSeen', 'c-time'],
    ['col.lastSeen', 'c-time'],
    ['col.status', 'c-status'],
    ['col.assignee', 'c-assignee'],
  ];
  const el = h(
    'section',
    { class: 'alerts-page' },
    h('div', { class: 'page-head' }, h('h1', null, t('alerts.title')), count),
    form,
    formError,
    h(
      'table',
      { class: 'grid alerts', id: 'alerts' },
      h('caption', { class: 'visually-hidden' }, t('alerts.title')),
      h('thead', null, h('tr', null, columns.map(([key, cls]) => h('th', { scope: 'col', class: cls }, t(key))))),
      tbody,
    ),
    h('div', { class: 'more' }, moreBtn),
    moreError,
  );

  function sync() {
    statusSel.value = filters.status;
    severitySel.value = filters.severity;
    agencyIn.value = filters.agency;
    ruleIn.value = filters.rule;
  }

  function apply() {
    ctx.navigate(hashFor('/alerts', { status: statusSel.value, severity: severitySel.value, agency: agencyIn.value.trim(), rule: ruleIn.value.trim() }));
  }

  function row(alert) {
    if (alert.agency) agencies.add(alert.agency);
    const link = h('a', { href: `#/alerts/${encodeURIComponent(alert.id)}`, title: alert.rule_id ?? '' }, alert.rule_title || alert.rule_id || `#${alert.id}`);
    const tr = h(
      'tr',
      { dataset: { id: alert.id, status: alert.status, rule: alert.rule_id ?? '' }, class: `st-row-${alert.status}` },
      h('td', { class: 'c-level' }, levelBadge(alert.level)),
      h('td', { class: 'c-rule' }, link),
      h('td', { class: 'c-host' }, alert.host ?? ''),
      h('td', { class: 'c-agency' }, alert.agency ?? ''),
      h('td', { class: 'num' }, fmtNumber(alert.count)),
      h('td', { class: 'c-time' }, timeCell(alert.first_seen)),
      h('td', { class: 'c-time' }, timeCell(alert.last_seen)),
      h('td', { class: 'c-status' }, statusBadge(alert.status)),
      h('td', { class: 'c-assignee' }, alert.assignee ?? ''),
    );
    tr.addEventListener('click', (event) => {
      if (event.target.closest('a, button') || String(window.getSelection?.() ?? '')) return;
      link.click();
    });
    return tr;
  }

  async function load(more = false) {
    if (!more) {
      controller?.abort();
      controller = new AbortController();
      cursor = null;
      tbody.replaceChildren(h('tr', null, h('td', { colspan: columns.length }, loading())));
      count.textContent = '';
    }
    showError(formError, null);
    showError(moreError, null);
    moreBtn.disabled = true;
    try {
      const data = await api('/api/v1/alerts', { query: { ...filters, limit: PAGE_SIZE, cursor: more ? cursor : undefined }, signal: controller.signal });
      const alerts = Array.isArray(data?.alerts) ? data.alerts : [];
      if (!more) tbody.replaceChildren();
      const first = tbody.children.length;
      tbody.append(...alerts.map(row));
      if (!tbody.children.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, t('alerts.none'))));
      cursor = data?.next_cursor ?? null;
      moreBtn.hidden = !cursor;
      count.textContent = t('alerts.shown', { count: fmtNumber(tbody.querySelectorAll('tr[data-id]').length) });
      agencyList.replaceChildren(...[...agencies].sort().map((a) => h('option', { value: a })));
      if (more) tbody.children[first]?.querySelector('a')?.focus();
    } catch (error) {
      if (isAbort(error) || isAuth(error)) return;
      if (!more) tbody.replaceChildren();
      showError(more ? moreError : formError, error);
    } finally {
      moreBtn.disabled = false;
    }
  }

  sync();
  load();
  return {
    title: t('alerts.title'),
    el,
    update(query) {
      filters = readFilters(query);
      sync();
      load();
    },
    destroy: () => controller?.abort(),
  };
}

// ---------------------------------------------------------------- one alert

function actionsFor(status) {
  const actions = [];
  if (status === 'new') actions.push('acknowledge');
  if (status !== 'closed') actions.push('assign', 'close');
  if (status === 'closed') actions.push('reopen');
  actions.push('comment');
  return actions;
}

export function alertPage(ctx) {
  const id = ctx.params[0];
  const controller = new AbortController();
  const body = h('div', null, loading());
  const heading = h('h1', null, t('alert.title', { id }));
  const el = h('section', { class: 'alert-page' }, h('p', { class: 'crumbs' }, h('a', { href: '#/alerts' }, `← ${t('alert.back')}`)), heading, body);
  const canTriage = ctx.user.role !== 'agency_viewer';
  // The matched events are fetched once per view (a triage action re-renders the alert).
  let matched = { key: null, request: null };

  function render(alert, notice) {
    heading.replaceChildren(t('alert.title', { id: alert.id ?? id }), ' ', h('span', { class: 'rule-title' }, alert.rule_title ?? ''));
    const statusLine = h(
      'p',
      { class: 'status-line', id: 'alert-status', tabindex: '-1', dataset: { status: alert.status } },
      levelBadge(alert.level),
      ' ',
      statusBadge(alert.status),
      ' ',
      h('span', { class: 'visually-hidden' }, t('alert.statusLine', { status: tMaybe('status.', alert.status) })),
      alert.assignee ? h('span', { class: 'assignee' }, t('alert.assignedTo', { user: alert.assignee })) : null,
    );

    const kv = (label, value) => [h('dt', null, label), h('dd', null, value === undefined || value === null || value === '' ? t('dash') : value)];
    const details = h(
      'section',
      { class: 'panel details', 'aria-labelledby': 'alert-details-h' },
      h('h2', { id: 'alert-details-h' }, t('alert.details')),
      h(
        'dl',
        { class: 'kv' },
        kv(t('col.ruleId'), alert.rule_id ? h('code', null, alert.rule_id) : ''),
        kv(t('col.level'), levelBadge(alert.level)),
        kv(t('col.tags'), (alert.tags ?? []).length ? h('span', { class: 'tags' }, alert.tags.map((tag) => h('span', { class: 'tag' }, tag))) : ''),
        kv(t('col.host'), alert.host ? h('a', { href: hashFor('/search', { q: `host:${quoteValue(alert.host)}` }) }, alert.host) : ''),
        kv(t('col.agency'), alert.agency),
        kv(t('col.system'), alert.system),
        kv(t('col.grade'), alert.grade),
        kv(t('col.groupKey'), alert.group_key ? h('code', null, alert.group_key) : ''),
        kv(t('col.firstSeen'), timeCell(alert.first_seen)),
        kv(t('col.lastSeen'), timeCell(alert.last_seen)),
        kv(t('col.count'), fmtNumber(alert.count)),
        kv(t('col.status'), statusBadge(alert.status)),
        kv(t('col.assignee'), alert.assignee),
      ),
    );

    const triage = canTriage ? triagePanel(alert, notice) : h('section', { class: 'panel triage' }, h('h2', null, t('alert.triage')), h('p', { class: 'muted' }, t('alert.readOnly')));
    const history = historySection(alert);
    const events = eventsSection(alert);
    body.replaceChildren(statusLine, h('div', { class: 'alert-cols' }, details, triage), history, events);
    return statusLine;
  }

  function triagePanel(alert, notice) {
    const comment = h('textarea', { id: 'triage-comment', rows: '3', 'aria-describedby': 'triage-comment-hint triage-error' });
    const assignee = h('input', { id: 'triage-assignee', autocomplete: 'off', value: alert.assignee ?? '', 'aria-describedby': 'triage-error' });
    const error = h('div', { class: 'error-slot', id: 'triage-error' });
    const buttons = actionsFor(alert.status).map((action) =>
      h('button', { type: 'button', class: action === 'acknowledge' || action === 'reopen' ? 'primary' : '', dataset: { action }, onclick: () => act(action) }, t(`action.${action}`)),
    );

    async function act(action) {
      showError(error, null);
      const text = comment.value.trim();
      const payload = {};
      if (text) payload.comment = text;
      if (action === 'assign') {
        const who = assignee.value.trim();
        if (!who) {
          showError(error, t('alert.needAssignee'));
          assignee.setAttribute('aria-invalid', 'true');
          assignee.focus();
          return;
        }
        payload.assignee = who;
      }
      if (action === 'comment' && !text) {
        showError(error, t('alert.needComment'));
        comment.focus();
        return;
      }
      for (const b of buttons) b.disabled = true;
      try {
        const updated = await api(`/api/v1/alerts/${encodeURIComponent(alert.id ?? id)}/${action}`, { method: 'POST', body: payload });
        const message = t('alert.done', { action: t(`action.${action}`), status: tMaybe('status.', updated?.status) });
        const statusLine = render(updated, message);
        ctx.announce(message);
        statusLine.focus();
      } catch (err) {
        if (isAuth(err)) return;
        showError(error, err);
        for (const b of buttons) b.disabled = false;
      }
    }

    return h(
      'section',
      { class: 'panel triage', 'aria-labelledby': 'triage-h' },
      h('h2', { id: 'triage-h' }, t('alert.triage')),
      notice ? h('p', { class: 'notice', id: 'triage-notice' }, notice) : null,
      h('label', { for: 'triage-comment' }, t('alert.comment')),
      comment,
      h('p', { class: 'hint', id: 'triage-comment-hint' }, t('alert.commentHint')),
      alert.status !== 'closed' ? h('span', { class: 'field' }, h('label', { for: 'triage-assignee' }, t('alert.assignee')), assignee) : null,
      h('div', { class: 'buttons' }, buttons),
      error,
    );
  }

  function historySection(alert) {
    const entries = Array.isArray(alert.history) ? alert.history : [];
    return h(
      'section',
      { class: 'history', 'aria-labelledby': 'history-h' },
      h('h2', { id: 'history-h' }, t('alert.history')),
      entries.length
        ? h(
            'table',
            { class: 'grid', id: 'history' },
            h('thead', null, h('tr', null, ['col.time', 'col.user', 'col.action', 'col.comment'].map((key) => h('th', { scope: 'col' }, t(key))))),
            h(
              'tbody',
              null,
              entries.map((entry) =>
                h(
                  'tr',
                  { dataset: { action: entry.action ?? '', user: entry.user ?? '' } },
                  h('td', { class: 'c-time' }, timeCell(entry.time)),
                  h('td', null, entry.user ?? ''),
                  h('td', null, tMaybe('act.', entry.action)),
                  h('td', { class: 'comment' }, entry.comment ?? ''),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, t('alert.noHistory')),
    );
  }

  function eventsSection(alert) {
    const ids = Array.isArray(alert.event_ids) ? alert.event_ids : [];
    const section = h('section', { class: 'matched', 'aria-labelledby': 'matched-h' }, h('h2', { id: 'matched-h' }, t('alert.events', { count: fmtNumber(ids.length) })));
    if (!ids.length) {
      section.append(h('p', { class: 'muted' }, t('alert.noEvents')));
      return section;
    }
    const q = ids.map((eventId) => `id:${quoteValue(eventId)}`).join(' OR ');
    const first = Date.parse(alert.first_seen);
    const last = Date.parse(alert.last_seen);
    const day = 86400000;
    const range = Number.isNaN(first) || Number.isNaN(last) ? { from: 'now-30d' } : { from: new Date(first - day).toISOString(), to: new Date(last + day).toISOString() };
    const tbody = h('tbody', null, h('tr', null, h('td', { colspan: 4 }, loading())));
    const rest = h('div', { class: 'id-list' });
    const error = h('div', { class: 'error-slot' });
    section.append(
      h('p', null, h('a', { href: hashFor('/search', { q, ...range }), id: 'matched-search' }, t('alert.searchEvents'))),
      h(
        'table',
        { class: 'grid events compact', id: 'matched-events' },
        h('thead', null, h('tr', null, ['col.time', 'col.host', 'col.raw', 'col.id'].map((key) => h('th', { scope: 'col' }, t(key))))),
        tbody,
      ),
      error,
      rest,
    );
    const idLink = (eventId) => h('a', { href: `#/events/${encodeURIComponent(eventId)}`, class: 'event-link' }, h('code', null, eventId));
    const key = ids.join('\n');
    if (matched.key !== key) {
      matched = { key, request: api('/api/v1/search', { query: { q, ...range, size: Math.min(ids.length, 100), sort: 'asc' }, signal: controller.signal }) };
    }
    matched.request.then(
      (data) => {
        const hits = Array.isArray(data?.hits) ? data.hits : [];
        const found = new Set(hits.map((ev) => ev.id));
        tbody.replaceChildren(
          ...hits.map((ev) =>
            h(
              'tr',
              { dataset: { id: ev.id } },
              h('td', { class: 'c-time' }, timeCell(ev.timestamp)),
              h('td', null, ev.host ?? ''),
              h('td', { class: 'c-raw' }, ev.raw ?? ''),
              h('td', null, idLink(ev.id)),
            ),
          ),
        );
        const missing = ids.filter((eventId) => !found.has(eventId));
        if (!hits.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: 4 }, t('noResults'))));
        if (missing.length) rest.replaceChildren(h('ul', { class: 'ids' }, missing.map((eventId) => h('li', null, idLink(eventId)))));
      },
      (err) => {
        if (isAbort(err) || isAuth(err)) return;
        tbody.replaceChildren();
        showError(error, err);
        rest.replaceChildren(h('ul', { class: 'ids' }, ids.map((eventId) => h('li', null, idLink(eventId)))));
      },
    );
    return section;
  }

  api(`/api/v1/alerts/${encodeURIComponent(id)}`, { signal: controller.signal }).then(
    (alert) => render(alert),
    (error) => {
      if (isAbort(error) || isAuth(error)) return;
      showError(body, error instanceof ApiError && error.status === 404 ? t('alert.notFound') : error);
    },
  );

  return { title: t('alert.title', { id }), el, destroy: () => controller.abort() };
}
