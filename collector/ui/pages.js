// The reference pages: rules (with the load report and the admin's enable switch), hosts
// (agents and syslog senders), and the audit log (admin only).

import { api, ApiError } from './api.js';
import { h, hashFor, levelBadge, levelClass, loading, quoteValue, showError } from './dom.js';
import { fmtNumber, fmtRelative, fmtTime, t, tMaybe } from './i18n.js';

const LEVEL_ORDER = { critical: 0, high: 1, medium: 2, low: 3, informational: 4, unknown: 5 };

function isQuiet(error) {
  return error?.name === 'AbortError' || (error instanceof ApiError && error.status === 401);
}

/** A text box that hides the rows of `tbody` whose text does not contain what is typed. */
function filterBox(id, label, tbody, onChange) {
  const input = h('input', {
    id,
    type: 'text',
    class: 'filter-box',
    autocomplete: 'off',
    placeholder: label,
    oninput: () => {
      const needle = input.value.trim().toLowerCase();
      for (const tr of tbody.rows) {
        if (!tr.dataset.text) continue;
        tr.hidden = needle !== '' && !tr.dataset.text.includes(needle);
      }
      onChange?.();
    },
  });
  return h('span', { class: 'field' }, h('label', { for: id, class: 'visually-hidden' }, label), input);
}

function timeCell(value) {
  return h('time', { datetime: value ?? '', title: fmtTime(value) }, value ? `${fmtTime(value)} (${fmtRelative(value)})` : t('dash'));
}

// ---------------------------------------------------------------- rules

export function rulesPage(ctx) {
  const controller = new AbortController();
  const isAdmin = ctx.user.role === 'admin';
  const summary = h('p', { class: 'summary', role: 'status' });
  const error = h('div', { class: 'error-slot' });
  const failures = h('div', { class: 'failures' });
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: 7 }, loading())));
  const el = h(
    'section',
    { class: 'rules-page' },
    h('div', { class: 'page-head' }, h('h1', null, t('rules.title')), summary),
    failures,
    h('div', { class: 'toolbar' }, filterBox('rules-filter', t('rules.filter'), tbody), isAdmin ? null : h('span', { class: 'muted' }, t('rules.readOnly'))),
    error,
    h(
      'table',
      { class: 'grid rules', id: 'rules' },
      h('caption', { class: 'visually-hidden' }, t('rules.title')),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col', class: 'c-level' }, t('col.level')),
          h('th', { scope: 'col' }, t('col.title')),
          h('th', { scope: 'col' }, t('col.kind')),
          h('th', { scope: 'col' }, t('col.tags')),
          h('th', { scope: 'col', class: 'num' }, t('col.hits')),
          h('th', { scope: 'col' }, t('col.enabled')),
          h('th', { scope: 'col' }, t('col.id')),
        ),
      ),
      tbody,
    ),
  );
  let rules = [];

  function updateSummary() {
    summary.textContent = t('rules.summary', { count: fmtNumber(rules.length), enabled: fmtNumber(rules.filter((r) => r.enabled).length) });
  }

  function switchFor(rule, slot) {
    if (!isAdmin) return h('span', { class: ['state', rule.enabled ? 'on' : 'off'] }, rule.enabled ? t('rules.on') : t('rules.off'));
    const button = h(
      'button',
      {
        type: 'button',
        role: 'switch',
        class: ['switch', rule.enabled ? 'on' : 'off'],
        'aria-checked': String(Boolean(rule.enabled)),
        'aria-label': t('rules.toggle', { title: rule.title ?? rule.id }),
        onclick: async () => {
          button.disabled = true;
          showError(slot, null);
          try {
            const action = rule.enabled ? 'disable' : 'enable';
            const updated = await api(`/api/v1/rules/${encodeURIComponent(rule.id)}/${action}`, { method: 'POST' });
            Object.assign(rule, updated ?? { enabled: !rule.enabled });
            const fresh = switchFor(rule, slot);
            button.replaceWith(fresh);
            fresh.focus();
            updateSummary();
            ctx.announce(`${rule.title ?? rule.id}: ${rule.enabled ? t('rules.on') : t('rules.off')}`);
          } catch (err) {
            if (!isQuiet(err)) showError(slot, err);
            button.disabled = false;
          }
        },
      },
      h('span', { class: 'knob', 'aria-hidden': 'true' }),
      h('span', null, rule.enabled ? t('rules.on') : t('rules.off')),
    );
    return button;
  }

  function row(rule) {
    const slot = h('div', { class: 'error-slot' });
    return h(
      'tr',
      { dataset: { id: rule.id ?? '', text: `${rule.title ?? ''} ${rule.id ?? ''} ${(rule.tags ?? []).join(' ')} ${rule.level ?? ''}`.toLowerCase() }, class: rule.enabled ? '' : 'disabled' },
      h('td', { class: 'c-level' }, levelBadge(rule.level)),
      h('td', null, rule.title ?? ''),
      h('td', null, tMaybe('kind.', rule.kind)),
      h('td', { class: 'tags' }, (rule.tags ?? []).map((tag) => h('span', { class: 'tag' }, tag))),
      h('td', { class: 'num' }, fmtNumber(rule.hits ?? 0)),
      h('td', { class: 'c-switch' }, switchFor(rule, slot), slot),
      h('td', null, h('code', { class: 'rule-id' }, rule.id ?? '')),
    );
  }

  api('/api/v1/rules', { signal: controller.signal }).then(
    (data) => {
      rules = Array.isArray(data?.rules) ? data.rules : [];
      rules.sort(
        (a, b) =>
          (b.hits ?? 0) - (a.hits ?? 0) ||
          LEVEL_ORDER[levelClass(a.level)] - LEVEL_ORDER[levelClass(b.level)] ||
          String(a.title ?? '').localeCompare(String(b.title ?? '')),
      );
      tbody.replaceChildren(...rules.map(row));
      if (!rules.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: 7 }, t('noResults'))));
      updateSummary();
      const failed = Array.isArray(data?.failures) ? data.failures : [];
      failures.replaceChildren(
        failed.length
          ? h(
              'section',
              { class: 'panel warn', 'aria-labelledby': 'failures-h' },
              h('h2', { id: 'failures-h' }, t('rules.failures', { count: fmtNumber(failed.length) })),
              h(
                'table',
                { class: 'grid compact', id: 'rule-failures' },
                h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('col.path')), h('th', { scope: 'col' }, t('col.reason')))),
                h('tbody', null, failed.map((f) => h('tr', null, h('td', null, h('code', null, f.path ?? '')), h('td', { class: 'reason' }, f.reason ?? '')))),
              ),
            )
          : h('p', { class: 'ok' }, t('rules.noFailures')),
      );
    },
    (err) => {
      if (isQuiet(err)) return;
      tbody.replaceChildren();
      showError(error, err);
    },
  );
  return { title: t('nav.rules'), el, destroy: () => controller.abort() };
}

// ---------------------------------------------------------------- hosts

export function hostsPage() {
  const controller = new AbortController();
  const summary = h('p', { class: 'summary', role: 'status' });
  const error = h('div', { class: 'error-slot' });
  const tbody = h('tbody', null, h('tr', null, h('td', { colspan: 8 }, loading())));
  const columns = ['col.host', 'col.type', 'col.connected', 'col.lastActivity', 'col.agency', 'col.system', 'col.grade', 'col.sourceTypes'];
  const el = h(
    'section',
    { class: 'hosts-page' },
    h('div', { class: 'page-head' }, h('h1', null, t('hosts.title')), summary),
    h('div', { class: 'toolbar' }, filterBox('hosts-filter', t('hosts.filter'), tbody)),
    error,
    h(
      'table',
      { class: 'grid hosts', id: 'hosts' },
      h('caption', { class: 'visually-hidden' }, t('hosts.title')),
      h('thead', null, h('tr', null, columns.map((key) => h('th', { scope: 'col', class: key === 'col.grade' ? 'num' : '' }, t(key))))),
      tbody,
    ),
  );
  api('/api/v1/hosts', { signal: controller.signal }).then(
    (data) => {
      const hosts = Array.isArray(data?.hosts) ? data.hosts : [];
      hosts.sort((a, b) => String(b.last_seen ?? '').localeCompare(String(a.last_seen ?? '')) || String(a.host).localeCompare(String(b.host)));
      tbody.replaceChildren(
        ...hosts.map((host) => {
          const isAgent = Boolean(host.agent_id);
          const text = `${host.host ?? ''} ${host.agent_id ?? ''} ${host.agency ?? ''} ${host.system ?? ''} ${(host.source_types ?? []).join(' ')}`.toLowerCase();
          return h(
            'tr',
            { dataset: { host: host.host ?? '', text } },
            h('td', null, h('a', { href: hashFor('/search', { q: `host:${quoteValue(host.host ?? '')}` }), title: t('hosts.searchHost', { host: host.host ?? '' }) }, host.host ?? '')),
            h('td', null, isAgent ? h('span', { title: host.agent_id }, t('hosts.agent')) : t('hosts.syslog')),
            h(
              'td',
              null,
              isAgent ? h('span', { class: ['conn', host.connected ? 'up' : 'down'] }, host.connected ? t('hosts.connected') : t('hosts.disconnected')) : t('dash'),
            ),
            h('td', { class: 'c-time' }, timeCell(host.last_seen)),
            h('td', null, host.agency ?? ''),
            h('td', null, host.system ?? ''),
            h('td', { class: 'num' }, host.grade ?? ''),
            h('td', { class: 'tags' }, (host.source_types ?? []).map((type) => h('span', { class: 'tag' }, type))),
          );
        }),
      );
      if (!hosts.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, t('noResults'))));
      summary.textContent = t('hosts.summary', { count: fmtNumber(hosts.length), connected: fmtNumber(hosts.filter((x) => x.agent_id && x.connected).length) });
    },
    (err) => {
      if (isQuiet(err)) return;
      tbody.replaceChildren();
      showError(error, err);
    },
  );
  return { title: t('nav.hosts'), el, destroy: () => controller.abort() };
}

// ---------------------------------------------------------------- audit

const AUDIT_LIMITS = ['200', '1000', '5000'];

export function auditPage(ctx) {
  let controller = null;
  let limit = AUDIT_LIMITS.includes(ctx.query.get('limit')) ? ctx.query.get('limit') : '200';
  const summary = h('p', { class: 'summary', role: 'status' });
  const error = h('div', { class: 'error-slot' });
  const tbody = h('tbody');
  const columns = ['col.time', 'col.user', 'col.address', 'col.action', 'col.target', 'col.detail'];
  const limitSel = h(
    'select',
    { id: 'audit-limit', value: limit, onchange: () => ctx.navigate(hashFor('/audit', { limit: limitSel.value === '200' ? '' : limitSel.value })) },
    AUDIT_LIMITS.map((n) => h('option', { value: n }, n)),
  );
  const filter = filterBox('audit-filter', t('audit.filter'), tbody, () => {
    summary.textContent = t('audit.shown', { count: fmtNumber([...tbody.rows].filter((r) => r.dataset.text && !r.hidden).length) });
  });
  const el = h(
    'section',
    { class: 'audit-page' },
    h('div', { class: 'page-head' }, h('h1', null, t('audit.title')), summary),
    h(
      'div',
      { class: 'toolbar' },
      filter,
      h('span', { class: 'field' }, h('label', { for: 'audit-limit' }, t('audit.limit')), limitSel),
      h('button', { type: 'button', onclick: () => load() }, t('refresh')),
    ),
    error,
    h(
      'table',
      { class: 'grid audit', id: 'audit' },
      h('caption', { class: 'visually-hidden' }, t('audit.title')),
      h('thead', null, h('tr', null, columns.map((key) => h('th', { scope: 'col' }, t(key))))),
      tbody,
    ),
  );

  async function load() {
    controller?.abort();
    controller = new AbortController();
    showError(error, null);
    tbody.replaceChildren(h('tr', null, h('td', { colspan: columns.length }, loading())));
    try {
      const data = await api('/api/v1/audit', { query: { limit }, signal: controller.signal });
      const entries = Array.isArray(data?.entries) ? data.entries : [];
      tbody.replaceChildren(
        ...entries.map((entry) =>
          h(
            'tr',
            {
              dataset: {
                action: entry.action ?? '',
                user: entry.user ?? '',
                text: `${entry.user ?? ''} ${entry.address ?? ''} ${entry.action ?? ''} ${tMaybe('act.', entry.action)} ${entry.target ?? ''} ${entry.detail ?? ''}`.toLowerCase(),
              },
              class: entry.action === 'login_failed' ? 'warn-row' : '',
            },
            h('td', { class: 'c-time' }, h('time', { datetime: entry.time ?? '' }, fmtTime(entry.time))),
            h('td', null, entry.user ?? ''),
            h('td', null, h('code', null, entry.address ?? '')),
            h('td', { title: entry.action ?? '' }, tMaybe('act.', entry.action)),
            h('td', { class: 'target' }, entry.target ?? ''),
            h('td', { class: 'detail' }, entry.detail ?? ''),
          ),
        ),
      );
      if (!entries.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, t('noResults'))));
      summary.textContent = t('audit.shown', { count: fmtNumber(entries.length) });
      el.querySelector('#audit-filter')?.dispatchEvent(new Event('input'));
    } catch (err) {
      if (isQuiet(err)) return;
      tbody.replaceChildren();
      showError(error, err);
    }
  }

  if (ctx.user.role === 'admin') load();
  else error.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('audit.adminOnly')));
  return {
    title: t('audit.title'),
    el,
    update(query) {
      limit = AUDIT_LIMITS.includes(query.get('limit')) ? query.get('limit') : '200';
      limitSel.value = limit;
      load();
    },
    destroy: () => controller?.abort(),
  };
}
