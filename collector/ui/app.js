// The shell of the analysts' UI: session (login, /me, logout), the header and navigation, hash
// routing to the pages, the language switch, global keyboard shortcuts.
//
// A page is a function `(ctx) => ({title, el, update?, escape?, destroy?, focusQuery?})`; ctx holds
// the user, the route parameters, the hash query, and helpers (navigate, announce).

import { api, ApiError, setCsrf, setUnauthorizedHandler } from './api.js';
import { h } from './dom.js';
import { LANGS, getLang, setLang, t } from './i18n.js';
import { searchPage, eventPage } from './search.js';
import { alertListPage, alertPage } from './alerts.js';
import { rulesPage, hostsPage, auditPage } from './pages.js';

const ROUTES = [
  { path: /^\/search$/, page: searchPage, nav: 'search' },
  { path: /^\/events\/(.+)$/, page: eventPage, nav: 'search' },
  { path: /^\/alerts$/, page: alertListPage, nav: 'alerts' },
  { path: /^\/alerts\/([^/]+)$/, page: alertPage, nav: 'alerts' },
  { path: /^\/rules$/, page: rulesPage, nav: 'rules' },
  { path: /^\/hosts$/, page: hostsPage, nav: 'hosts' },
  { path: /^\/audit$/, page: auditPage, nav: 'audit', admin: true },
];
const NAV = ['search', 'alerts', 'rules', 'hosts', 'audit'];

const state = {
  user: null,
  current: null, // {route, key, page}
  lastSearch: '#/search',
  focusQueryAfterRender: false,
  loginNotice: null,
};

const root = document.getElementById('app');
const live = h('div', { class: 'visually-hidden', 'aria-live': 'polite', role: 'status' });

/** Tell screen reader users what happened (and nothing visible). */
function announce(message) {
  live.textContent = '';
  // A new text node after a tick is announced even when the text repeats.
  setTimeout(() => {
    live.textContent = message;
  }, 50);
}

function parseHash() {
  const hash = window.location.hash.replace(/^#/, '') || '/search';
  const mark = hash.indexOf('?');
  const path = mark < 0 ? hash : hash.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? '' : hash.slice(mark + 1));
  return { path, query };
}

function navigate(hash, { replace = false } = {}) {
  if (window.location.hash === hash) {
    route({ sameHash: true });
  } else if (replace) {
    window.history.replaceState(null, '', hash);
    route();
  } else {
    window.location.hash = hash;
  }
}

function langSelect() {
  const id = 'lang-select';
  return h(
    'span',
    { class: 'lang' },
    h('label', { for: id }, t('lang.label')),
    h(
      'select',
      {
        id,
        value: getLang(),
        onchange: (event) => {
          setLang(event.target.value);
          document.documentElement.lang = getLang();
          if (state.user) renderShell(true);
          else renderLogin();
          document.getElementById(id)?.focus();
        },
      },
      LANGS.map((lang) => h('option', { value: lang, lang }, lang === 'vi' ? 'Tiếng Việt' : 'English')),
    ),
  );
}

function skipLink() {
  return h(
    'a',
    {
      class: 'skip',
      href: '#main',
      onclick: (event) => {
        event.preventDefault();
        document.getElementById('main')?.focus();
      },
    },
    t('skip'),
  );
}

function brand() {
  return h(
    'a',
    { class: 'brand', href: '#/search' },
    h('img', { src: '/ui/icon.svg', alt: '', width: 20, height: 20 }),
    h('span', null, t('app.name')),
  );
}

// ---------------------------------------------------------------- login

function renderLogin() {
  state.current?.page.destroy?.();
  state.current = null;
  document.title = `${t('login.title')} — ${t('app.name')}`;
  const error = h('div', { class: 'error-slot', id: 'login-error' });
  const notice = state.loginNotice ? h('p', { class: 'notice', role: 'status' }, state.loginNotice) : null;
  const username = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true, 'aria-describedby': 'login-error' });
  const password = h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));

  const onSubmit = async (event) => {
    event.preventDefault();
    error.replaceChildren();
    notice?.remove();
    state.loginNotice = null;
    if (!username.value || !password.value) {
      error.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('login.required')));
      return;
    }
    submit.disabled = true;
    submit.textContent = t('login.busy');
    try {
      const me = await api('/api/v1/login', { method: 'POST', body: { username: username.value, password: password.value } });
      password.value = '';
      state.loginNotice = null;
      await startSession(me);
    } catch (err) {
      let message = err.message;
      let cls = 'error';
      if (err instanceof ApiError && err.status === 401) message = t('login.failed');
      if (err instanceof ApiError && err.status === 429) {
        const seconds = Number(err.retryAfter);
        const minutes = Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds / 60) : 5;
        message = t('login.tooMany', { minutes });
        cls = 'error locked';
      }
      error.replaceChildren(h('p', { class: cls, role: 'alert', dataset: { status: err.status ?? '' } }, message));
      submit.disabled = false;
      submit.textContent = t('login.submit');
      password.select();
      password.focus();
    }
  };

  root.replaceChildren(
    skipLink(),
    h('header', { class: 'top login-top' }, brand(), h('span', { class: 'spacer' }), langSelect()),
    h(
      'main',
      { id: 'main', tabindex: '-1', class: 'login-main' },
      h(
        'form',
        { class: 'login panel', onsubmit: onSubmit, 'aria-labelledby': 'login-h', novalidate: true },
        h('h1', { id: 'login-h' }, t('login.title')),
        h('p', { class: 'muted' }, t('login.intro')),
        notice,
        h('label', { for: 'login-user' }, t('login.username')),
        username,
        h('label', { for: 'login-pass' }, t('login.password')),
        password,
        error,
        submit,
      ),
    ),
    live,
  );
  username.focus();
}

async function startSession(me) {
  state.user = me;
  setCsrf(me.csrf_token);
  renderShell(false);
}

function sessionExpired() {
  if (!state.user) return;
  state.user = null;
  setCsrf('');
  state.loginNotice = t('login.expired');
  renderLogin();
}

async function logout() {
  try {
    await api('/api/v1/logout', { method: 'POST' });
  } catch {
    // the session may already be gone; either way we show the login form
  }
  state.user = null;
  setCsrf('');
  state.loginNotice = t('login.loggedOut');
  state.lastSearch = '#/search';
  window.history.replaceState(null, '', '#/search');
  renderLogin();
}

// ---------------------------------------------------------------- shell

let helpDialog = null;

function openHelp() {
  if (!helpDialog || !helpDialog.isConnected) {
    const row = (keys, text) => h('tr', null, h('th', { scope: 'row' }, keys.map((k) => h('kbd', null, k))), h('td', null, text));
    helpDialog = h(
      'dialog',
      { class: 'help', 'aria-labelledby': 'help-h' },
      h('h2', { id: 'help-h' }, t('help.title')),
      h(
        'table',
        { class: 'grid compact' },
        h(
          'tbody',
          null,
          row(['/'], t('help.slash')),
          row(['Enter'], t('help.enter')),
          row(['Esc'], t('help.esc')),
          row(['←', '→'], t('help.arrows')),
          row(['Alt', 'Shift'], t('help.click')),
          row(['?'], t('help.question')),
        ),
      ),
      h('form', { method: 'dialog' }, h('button', { class: 'primary' }, t('close'))),
    );
    root.append(helpDialog);
  }
  if (!helpDialog.open) helpDialog.showModal();
}

function renderShell(keepPage) {
  const user = state.user;
  const isAdmin = user.role === 'admin';
  const nav = h(
    'nav',
    { 'aria-label': t('nav.label') },
    h(
      'ul',
      null,
      NAV.filter((name) => name !== 'audit' || isAdmin).map((name) =>
        h('li', null, h('a', { href: `#/${name}`, dataset: { nav: name } }, t(`nav.${name}`))),
      ),
    ),
  );
  const userLabel = t('user.label', { user: user.username, role: t(`role.${user.role}`) });
  const agencies = user.role === 'agency_viewer' && Array.isArray(user.agencies) && user.agencies.length ? ` · ${user.agencies.join(', ')}` : '';
  helpDialog = null;
  root.replaceChildren(
    skipLink(),
    h(
      'header',
      { class: 'top' },
      brand(),
      nav,
      h('span', { class: 'spacer' }),
      h('span', { class: 'who', id: 'who', title: userLabel + agencies }, userLabel + agencies),
      langSelect(),
      h('button', { type: 'button', class: 'icon', 'aria-label': t('help.open'), title: t('help.open'), onclick: openHelp }, '?'),
      h('button', { type: 'button', id: 'logout', onclick: logout }, t('logout')),
    ),
    h('main', { id: 'main', tabindex: '-1' }),
    live,
  );
  document.documentElement.lang = getLang();
  if (!keepPage) state.current = null;
  route({ force: true });
}

// ---------------------------------------------------------------- routing

function route({ force = false, sameHash = false } = {}) {
  if (!state.user) return;
  const { path, query } = parseHash();
  if (path === 'main') return; // the skip link without JavaScript handling
  let match = null;
  let found = null;
  for (const candidate of ROUTES) {
    match = candidate.path.exec(path);
    if (match) {
      found = candidate;
      break;
    }
  }
  if (!found) {
    navigate('#/search', { replace: true });
    return;
  }
  const params = match.slice(1).map(decodeURIComponent);
  const key = `${path}`;
  const main = document.getElementById('main');
  if (found.nav === 'search' && path === '/search') state.lastSearch = window.location.hash || '#/search';

  const current = state.current;
  if (!force && current && current.key === key && current.page.update) {
    current.page.update(query, { sameHash });
    return;
  }
  current?.page.destroy?.();

  const ctx = {
    user: state.user,
    params,
    query,
    navigate,
    announce,
    lastSearch: () => state.lastSearch,
  };
  let page;
  if (found.admin && state.user.role !== 'admin') {
    page = { title: t(`nav.${found.nav}`), el: h('section', null, h('h1', { tabindex: '-1' }, t(`nav.${found.nav}`)), h('p', { class: 'error', role: 'alert' }, t('audit.adminOnly'))) };
  } else {
    page = found.page(ctx);
  }
  state.current = { key, page };
  main.replaceChildren(page.el);
  document.title = `${page.title} — ${t('app.name')}`;
  for (const link of document.querySelectorAll('header nav a')) {
    if (link.dataset.nav === found.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (state.focusQueryAfterRender && page.focusQuery) {
    state.focusQueryAfterRender = false;
    page.focusQuery();
  } else if (!current && page.focusQuery) {
    page.focusQuery(); // first page after login: ready to type a query
  } else if (!force || current) {
    // Move focus to the new page's heading so keyboard and screen reader users start there.
    const heading = main.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
  }
}

// ---------------------------------------------------------------- keyboard

function isTyping(target) {
  if (!(target instanceof Element)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

document.addEventListener('keydown', (event) => {
  if (event.defaultPrevented || !state.user) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === '/' && !isTyping(event.target)) {
    event.preventDefault();
    const page = state.current?.page;
    if (page?.focusQuery) page.focusQuery();
    else {
      state.focusQueryAfterRender = true;
      navigate(state.lastSearch);
    }
  } else if (event.key === '?' && !isTyping(event.target)) {
    event.preventDefault();
    openHelp();
  } else if (event.key === 'Escape') {
    if (document.querySelector('dialog[open]')) return; // the dialog closes itself
    if (state.current?.page.escape?.()) event.preventDefault();
  }
});

window.addEventListener('hashchange', () => route());

// ---------------------------------------------------------------- start

setUnauthorizedHandler(sessionExpired);
document.documentElement.lang = getLang();

(async () => {
  try {
    const me = await api('/api/v1/me');
    await startSession(me);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) state.loginNotice = error.message;
    renderLogin();
  }
})();
