// The browser scenario of the analysts' UI: Debian's Chromium through playwright-core, or with
// BROWSER=firefox Debian's firefox-esr through puppeteer-core (firefox.mjs gives it the part of
// Playwright's API used here).
// Usage: node scenario.mjs CONTEXT_JSON SEED_JSON   (run.sh writes both)
//
// Each step logs its name, saves a screenshot to the artifacts folder, and fails the run with a
// clear message. Console errors (other than the expected failed requests), uncaught exceptions
// and Content-Security-Policy violations fail the step they happen in.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UI_DIR = path.resolve(HERE, '../../collector/ui');
const [contextFile, seedFile] = process.argv.slice(2);
if (!contextFile || !seedFile) {
  console.error('usage: node scenario.mjs CONTEXT_JSON SEED_JSON');
  process.exit(2);
}
const ctx = JSON.parse(fs.readFileSync(contextFile, 'utf8'));
const seed = JSON.parse(fs.readFileSync(seedFile, 'utf8'));
const ARTIFACTS = ctx.artifacts ?? path.join(HERE, 'artifacts');
fs.mkdirSync(ARTIFACTS, { recursive: true });
const { STRINGS } = await import(path.join(UI_DIR, 'i18n.js'));
const VI = STRINGS.vi;
const EN = STRINGS.en;
const TIMEOUT = 15000;
const CSP = "default-src 'self'";

// ---------------------------------------------------------------- harness

class Failure extends Error {}
const expect = (condition, message) => {
  if (!condition) throw new Failure(message);
};

let stepNo = 0;
let page;
const problems = [];
const warnings = [];
const screenshots = [];

async function shot(name) {
  const file = path.join(ARTIFACTS, `${String(stepNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  screenshots.push(path.basename(file));
}

async function step(name, fn) {
  stepNo += 1;
  const started = Date.now();
  process.stdout.write(`ui: ${String(stepNo).padStart(2, '0')} ${name} … `);
  try {
    await fn();
    const csp = await page.evaluate(() => window.__hdCsp ?? []).catch(() => []);
    for (const v of csp) problems.push(`CSP violation: ${v}`);
    await page.evaluate(() => { window.__hdCsp = []; }).catch(() => {});
    if (problems.length) throw new Failure(problems.join('\n   '));
    await shot(name);
    console.log(`ok (${Date.now() - started} ms)`);
  } catch (error) {
    console.log('FAILED');
    const where = error instanceof Failure ? '' : `\n   ${error.stack ?? error}`;
    console.error(`ui: step ${stepNo} "${name}" failed: ${error.message}${where}`);
    console.error(`   page: ${page?.url()}`);
    try {
      await shot(`${name}-FAILED`);
      console.error(`   screenshot: ${path.join(ARTIFACTS, screenshots.at(-1))}`);
    } catch {
      // the browser may be gone
    }
    throw error;
  }
}

/** Wait for `fn` (evaluated in the page) to return a truthy value; fail with `message`. */
async function waitFor(fn, arg, message) {
  try {
    return await page.waitForFunction(fn, arg, { timeout: TIMEOUT });
  } catch {
    throw new Failure(message);
  }
}

async function visible(selector, message) {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout: TIMEOUT });
  } catch {
    throw new Failure(message ?? `${selector} did not appear`);
  }
}

async function text(selector) {
  return (await page.locator(selector).first().textContent({ timeout: TIMEOUT })) ?? '';
}

async function login(user) {
  await visible('#login-user', 'the login form is not shown');
  await page.fill('#login-user', user.name);
  await page.fill('#login-pass', user.password);
  await page.click('form.login button[type=submit]');
  await visible('#logout', `logging in as ${user.name} did not reach the application`);
}

async function logout() {
  await page.click('#logout');
  await visible('#login-user', 'logging out did not show the login form');
}

async function searchFor(query) {
  await page.fill('#q', query);
  await page.press('#q', 'Enter');
  await waitFor((q) => (new URLSearchParams(location.hash.split('?')[1] ?? '').get('q') ?? '') === q, query.trim(), `the search for "${query}" did not start`);
  await settled();
}

/** The results table has its answer for the current query (rows or the empty line). */
async function settled() {
  await waitFor(() => {
    const results = document.querySelector('.results');
    if (!results || results.hasAttribute('aria-busy')) return false;
    return document.querySelector('#results tbody tr') || document.querySelector('#q-error .error');
  }, null, 'the search did not answer');
}

async function rowTexts(selector = '#results tbody tr.ev') {
  return page.$$eval(selector, (rows) => rows.map((r) => r.textContent));
}

// ---------------------------------------------------------------- static checks

function staticChecks() {
  const missing = [
    ...Object.keys(VI).filter((k) => !(k in EN)).map((k) => `"${k}" has no English text`),
    ...Object.keys(EN).filter((k) => !(k in VI)).map((k) => `"${k}" has no Vietnamese text`),
  ];
  expect(!missing.length, `i18n.js: ${missing.join(', ')}`);
  const files = fs.readdirSync(UI_DIR);
  for (const file of files) {
    const source = fs.readFileSync(path.join(UI_DIR, file), 'utf8');
    const forbidden = [
      [/\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/, 'builds HTML from strings or evaluates code'],
      [/https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'refers to an external URL (offline, CSP self)'],
      [/setAttribute\(\s*['"]style['"]/, 'sets an inline style attribute (CSP)'],
    ];
    for (const [pattern, why] of forbidden) {
      const found = source.match(pattern);
      expect(!found, `collector/ui/${file} ${why}: ${found?.[0]}`);
    }
    if (file.endsWith('.html')) {
      expect(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(source), `collector/ui/${file} has an inline script (CSP)`);
      expect(!/\sstyle=|<style/i.test(source), `collector/ui/${file} has inline styles (CSP)`);
      expect(!/\son[a-z]+=/i.test(source), `collector/ui/${file} has an inline event handler (CSP)`);
    }
  }
}

// ---------------------------------------------------------------- run

const BROWSER = process.env.BROWSER || 'chromium';
const FIREFOX = BROWSER === 'firefox';
if (!['chromium', 'firefox'].includes(BROWSER)) {
  console.error(`ui: BROWSER=${BROWSER}: chromium or firefox`);
  process.exit(2);
}
const executablePath = FIREFOX ? (process.env.FIREFOX ?? '/usr/bin/firefox-esr') : (process.env.CHROMIUM ?? '/usr/bin/chromium');
let browser;
try {
  browser = FIREFOX
    ? await (await import('./firefox.mjs')).launchFirefox({ executablePath })
    : await chromium.launch({
        executablePath,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
} catch (error) {
  console.error(`ui: cannot start ${FIREFOX ? 'Firefox' : 'Chromium'} at ${executablePath}: ${String(error.message).split('\n')[0]}`);
  process.exit(1);
}
let status = 0;
try {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1440, height: 900 },
    timezoneId: 'Asia/Ho_Chi_Minh',
    locale: 'vi-VN',
    acceptDownloads: true,
    colorScheme: 'light',
  });
  context.setDefaultTimeout(TIMEOUT);
  await context.addInitScript(() => {
    window.__hdCsp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__hdCsp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
  });

  // The collector must send the CSP; if it does not, say so and add it, so that the UI is still
  // tested under it.
  const home = await context.request.get(`${ctx.baseUrl}/`);
  expect(home.ok(), `GET / answered ${home.status()}`);
  const served = home.headers()['content-security-policy'];
  if (!served) {
    warnings.push(`GET / has no Content-Security-Policy header; the test adds "${CSP}" itself`);
    await context.route(`${ctx.baseUrl}/`, async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': CSP } });
    });
  } else if (!/default-src 'self'/.test(served)) {
    warnings.push(`GET / sends Content-Security-Policy "${served}", not "${CSP}"`);
  }
  // Every file of collector/ui must be served under /ui/ with its type.
  const TYPES = { '.js': /^text\/javascript|^application\/javascript/, '.css': /^text\/css/, '.svg': /^image\/svg\+xml/, '.html': /^text\/html/ };
  const missing = [];
  for (const file of fs.readdirSync(UI_DIR).filter((f) => !f.startsWith('.'))) {
    const response = await context.request.get(`${ctx.baseUrl}/ui/${file}`);
    if (response.status() === 404) {
      missing.push(file);
      continue;
    }
    expect(response.ok(), `GET /ui/${file} answered ${response.status()}`);
    const type = response.headers()['content-type'] ?? '';
    const want = TYPES[path.extname(file)];
    expect(!want || want.test(type), `GET /ui/${file} has Content-Type "${type}"`);
  }
  if (missing.length) {
    const message = `the collector does not serve /ui/${missing.join(', /ui/')} (404): add them to UI_FILES in collector/src/serve/api.rs`;
    expect(process.env.HD_UI_SERVE_MISSING === '1', `${message} (HD_UI_SERVE_MISSING=1 serves them from collector/ui/ for a trial run)`);
    warnings.push(`${message}; served from collector/ui/ by the test (HD_UI_SERVE_MISSING=1)`);
    for (const file of missing) {
      await context.route(`${ctx.baseUrl}/ui/${file}`, (route) =>
        route.fulfill({
          status: 200,
          contentType: { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' }[path.extname(file)] ?? 'application/octet-stream',
          body: fs.readFileSync(path.join(UI_DIR, file)),
        }),
      );
    }
  }

  page = await context.newPage();
  // Firefox reports a script blocked by the CSP here too, as an error of the page.
  page.on('pageerror', (error) => problems.push(`uncaught exception: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Answers like 401 (not logged in), 404 (other agency), 429 (rate limit) are expected.
    // Chromium logs each as "Failed to load resource"; Firefox does not log them at all.
    if (/Failed to load resource/.test(message.text())) return;
    problems.push(`console error: ${message.text()}`);
  });

  const analyst = ctx.users.analyst;
  const admin = ctx.users.admin;
  const viewer = ctx.users.viewer;
  const web = ctx.hosts.other;
  const mail = ctx.hosts.viewer;
  let eventId = null;

  await step('static-checks', async () => {
    staticChecks();
    await page.goto(`${ctx.baseUrl}/`);
  });

  await step('login-page', async () => {
    await visible('#login-user');
    expect((await text('#login-h')) === VI['login.title'], 'the login form is not in Vietnamese by default');
    expect((await page.getAttribute('html', 'lang')) === 'vi', 'html lang is not "vi"');
    expect(await page.evaluate(() => document.activeElement?.id === 'login-user'), 'the user name field does not have the focus');
    // Start keyboard navigation from the top of the document.
    await page.evaluate(() => {
      document.documentElement.tabIndex = -1;
      document.documentElement.focus();
      document.documentElement.removeAttribute('tabindex');
    });
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.classList.contains('skip')), 'the first Tab stop is not the skip link');
    await page.click('#login-user');
  });

  await step('login-wrong-password', async () => {
    await page.fill('#login-user', analyst.name);
    await page.fill('#login-pass', 'not-the-password');
    await page.click('form.login button[type=submit]');
    await visible('#login-error .error', 'no error after a wrong password');
    expect((await text('#login-error .error')) === VI['login.failed'], `wrong message after a wrong password: ${await text('#login-error .error')}`);
  });

  await step('search-sudo', async () => {
    await page.fill('#login-pass', analyst.password);
    await page.click('form.login button[type=submit]');
    await visible('#q', 'the analyst did not land on the search page');
    await settled();
    await page.click('.hist-head'); // leave the query bar, then use the shortcut
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id === 'q'), '"/" did not focus the query bar');
    await page.keyboard.type('sudo');
    await page.keyboard.press('Enter');
    await waitFor(() => location.hash.includes('q=sudo'), null, 'Enter did not run the search');
    await settled();
    const rows = await rowTexts();
    expect(rows.length >= 3, `expected at least 3 sudo events, saw ${rows.length}`);
    expect(rows.every((r) => /sudo/.test(r)), 'a result row does not contain "sudo"');
    expect(rows.some((r) => r.includes('COMMAND=/bin/bash') && r.includes(web)), `the sudo bash event of ${web} is not in the results`);
    const bars = await page.$$eval('svg.hist g.bar', (gs) => gs.map((g) => Number(g.dataset.count)));
    expect(bars.length > 0 && bars.some((n) => n > 0), 'the histogram has no non-empty bar');
    await waitFor((host) => [...document.querySelectorAll('.facet[data-field="host"] li')].some((li) => li.dataset.value === host), web, `the host field sidebar does not list ${web}`);
    expect(/\d/.test(await text('#summary')), 'no hit count shown');
  });

  await step('search-dark-mode', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg !== 'rgb(244, 245, 247)', `dark mode did not change the background (${bg})`);
  });

  await step('expand-event', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    const row = page.locator('#results tbody tr.ev', { hasText: 'COMMAND=/bin/bash' }).filter({ hasText: web }).first();
    await row.locator('button.toggle').click();
    expect((await row.locator('button.toggle').getAttribute('aria-expanded')) === 'true', 'the toggle did not expand the row');
    await visible('#results tr.detail', 'the event details did not open');
    const user = await text('#results tr.detail tr[data-field="user.name"] td.value');
    expect(user === 'alice', `the expanded event shows user.name "${user}", not "alice"`);
    await page.keyboard.press('Escape');
    expect((await page.locator('#results tr.detail').count()) === 0, 'Esc did not collapse the expanded row');
    await row.locator('button.toggle').click();
    await visible('#results tr.detail');
  });

  await step('open-event-by-id', async () => {
    await page.click('#results tr.detail a.open-event');
    await waitFor(() => location.hash.startsWith('#/events/'), null, 'the open link did not go to the event page');
    eventId = decodeURIComponent(await page.evaluate(() => location.hash.slice('#/events/'.length)));
    await visible('.event-page pre.raw-full', 'the event page did not load the event');
    expect((await text('.event-page pre.raw-full')).includes('COMMAND=/bin/bash'), 'the event page shows another event');
    expect((await text('.event-page tr[data-field="id"] td.value')) === eventId, 'the event page id does not match the link');
    await page.goBack();
    await visible('#q');
    await settled();
  });

  await step('histogram-narrows-time', async () => {
    const before = await page.evaluate(() => location.hash);
    const index = await page.$$eval('svg.hist g.bar', (gs) => {
      const counts = gs.map((g) => Number(g.dataset.count));
      return counts.lastIndexOf(Math.max(...counts));
    });
    await page.locator('svg.hist g.bar').nth(index).click();
    await waitFor((prev) => location.hash !== prev && /from=\d{4}-/.test(location.hash), before, 'clicking a bar did not narrow the time range');
    await settled();
    expect((await page.inputValue('#range')) === 'custom', 'the time picker does not show the custom range');
    expect(!(await page.locator('#range-from').isHidden()), 'the custom from/to inputs are hidden');
    expect((await rowTexts()).length >= 1, 'no events in the narrowed bar');
    await page.selectOption('#range', 'now-24h');
    await settled();
  });

  await step('field-sidebar-filters', async () => {
    await waitFor((host) => document.querySelector(`.facet[data-field="host"] li[data-value="${host}"] button.facet-in`), mail, `the host sidebar does not list ${mail}`);
    await page.click(`.facet[data-field="host"] li[data-value="${mail}"] button.facet-in`, { modifiers: ['Alt'] });
    await waitFor(() => document.querySelector('#q').value.includes('NOT host:'), null, 'Alt-click did not add an exclusion');
    expect((await page.inputValue('#q')) === `sudo AND NOT host:"${mail}"`, `unexpected query after Alt-click: ${await page.inputValue('#q')}`);
    await settled();
    expect((await page.$$eval('#results tbody tr.ev td.c-host', (c) => c.map((x) => x.textContent))).every((h) => h !== mail), `${mail} still in the results after excluding it`);
    await waitFor((host) => document.querySelector(`.facet[data-field="host"] li[data-value="${host}"] button.facet-in`), web, `the host sidebar does not list ${web}`);
    await page.click(`.facet[data-field="host"] li[data-value="${web}"] button.facet-in`);
    await waitFor((host) => document.querySelector('#q').value.endsWith(`host:"${host}"`), web, 'clicking a value did not add it to the query');
    await settled();
    const hosts = await page.$$eval('#results tbody tr.ev td.c-host', (c) => c.map((x) => x.textContent));
    expect(hosts.length > 0 && hosts.every((h) => h === web), `results are not all from ${web}: ${hosts}`);
  });

  await step('bad-query-error', async () => {
    await searchFor('sudo AND (');
    await visible('#q-error .error', 'a query that does not parse shows no error next to the query bar');
    expect((await page.getAttribute('#q', 'aria-invalid')) === 'true', 'the query bar is not marked invalid');
    const message = await text('#q-error .error');
    expect(message.trim().length > 0, 'the error message is empty');
  });

  await step('export', async () => {
    await searchFor('sudo');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: TIMEOUT }), page.click('#export')]);
    const file = path.join(ARTIFACTS, 'export.ndjson');
    await download.saveAs(file);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines.length >= 3, `the export has ${lines.length} lines, expected at least 3`);
    const events = lines.map((line) => JSON.parse(line));
    expect(events.some((ev) => (ev.raw ?? '').includes('COMMAND=/bin/bash')), 'the export lacks the sudo bash event');
    await visible('#export-status .notice', 'no confirmation after the export');
  });

  await step('xss-shown-as-text', async () => {
    await searchFor('portal');
    const rows = await rowTexts();
    expect(rows.some((r) => r.includes('<img src=x onerror=window.__hdXss=1>')), 'the log line with HTML is not shown literally');
    await page.locator('#results tbody tr.ev button.toggle').first().click();
    await visible('#results tr.detail');
    const injected = await page.evaluate(() => ({
      xss: window.__hdXss ?? null,
      img: document.querySelectorAll('#results img, #results script, #results b').length,
    }));
    expect(injected.xss === null && injected.img === 0, `event text was rendered as HTML: ${JSON.stringify(injected)}`);
  });

  let alertHash = '';
  await step('alerts-list', async () => {
    await page.click('header nav a[data-nav="alerts"]');
    await visible('#alerts tbody tr[data-id]', 'the alert list is empty');
    await page.selectOption('#f-severity', 'medium');
    await waitFor(() => location.hash.includes('severity=medium'), null, 'the severity filter did not apply');
    await waitFor((id) => document.querySelector(`#alerts tbody tr[data-id="${id}"]`), String(seed.webAlertId), `the sudo alert #${seed.webAlertId} of ${web} is not listed`);
    const row = page.locator(`#alerts tbody tr[data-id="${seed.webAlertId}"]`);
    expect((await row.locator('td.c-host').textContent()) === web, 'the sudo alert row shows another host');
    expect((await row.locator('.badge[data-status]').getAttribute('data-status')) === 'new', 'the sudo alert is not new');
  });

  await step('alert-detail', async () => {
    await page.click(`#alerts tbody tr[data-id="${seed.webAlertId}"] td.c-rule a`);
    await visible('#alert-status', 'the alert view did not open');
    alertHash = await page.evaluate(() => location.hash);
    expect((await page.getAttribute('#alert-status', 'data-status')) === 'new', 'the alert view does not show status new');
    expect((await text('h1')).includes(seed.sudoRuleTitle ?? 'Sudo'), 'the alert view does not show the rule title');
    await waitFor(() => document.querySelectorAll('#matched-events tbody tr[data-id]').length > 0 || document.querySelector('.matched ul.ids a'), null, 'the alert shows no matched events');
    const matched = await page.locator('.matched').textContent();
    expect(matched.includes('COMMAND=/bin/bash') || matched.includes(eventId), 'the matched events do not include the sudo bash event');
  });

  await step('alert-acknowledge', async () => {
    const comment = 'Đã kiểm tra với alice: bảo trì theo kế hoạch';
    await page.fill('#triage-comment', comment);
    await page.click('.triage button[data-action="acknowledge"]');
    await waitFor(() => document.querySelector('#alert-status')?.dataset.status === 'acknowledged', null, 'the status did not change to acknowledged');
    const history = page.locator('#history tbody tr[data-action="acknowledge"]');
    expect((await history.count()) >= 1, 'no acknowledge entry in the history');
    const entry = await history.last().textContent();
    expect(entry.includes(analyst.name) && entry.includes(comment), `the history entry lacks the user or the comment: ${entry}`);
    expect(!(await page.locator('.triage button[data-action="acknowledge"]').count()), 'Acknowledge is still offered on an acknowledged alert');
  });

  await step('rules-analyst', async () => {
    await page.click('header nav a[data-nav="rules"]');
    await visible('#rules tbody tr[data-id]', 'the rules page lists no rule');
    expect((await page.locator(`#rules tbody tr[data-id="${seed.sudoRuleId}"]`).count()) === 1, 'the sudo rule is not listed');
    expect((await page.locator('#rules button.switch').count()) === 0, 'an analyst is offered the enable switch');
  });

  await step('hosts', async () => {
    await page.click('header nav a[data-nav="hosts"]');
    await visible(`#hosts tbody tr[data-host="${web}"]`, `${web} is not listed on the hosts page`);
    await visible(`#hosts tbody tr[data-host="${mail}"]`, `${mail} is not listed on the hosts page`);
    const row = await page.locator(`#hosts tbody tr[data-host="${mail}"]`).textContent();
    expect(row.includes(ctx.agencies.viewer), `${mail} does not show its agency from the inventory`);
  });

  await step('audit-hidden-for-analyst', async () => {
    expect((await page.locator('header nav a[data-nav="audit"]').count()) === 0, 'the analyst sees the audit link');
    await page.goto(`${ctx.baseUrl}/#/audit`);
    await visible('main .error', 'the audit page does not say it is for admins');
  });

  await step('language-english', async () => {
    await page.goto(`${ctx.baseUrl}/${alertHash}`);
    await visible('#alert-status');
    await page.selectOption('#lang-select', 'en');
    await waitFor((want) => document.querySelector('header nav a[data-nav="alerts"]')?.textContent === want, EN['nav.alerts'], 'the navigation did not switch to English');
    expect((await page.getAttribute('html', 'lang')) === 'en', 'html lang is not "en"');
    await page.reload();
    await visible('#alert-status');
    expect((await text('header nav a[data-nav="search"]')) === EN['nav.search'], 'English was not kept after a reload');
    expect((await text('#history-h')) === EN['alert.history'], 'the alert view is not in English');
  });

  await step('language-back-to-vietnamese', async () => {
    await page.selectOption('#lang-select', 'vi');
    await waitFor((want) => document.querySelector('header nav a[data-nav="alerts"]')?.textContent === want, VI['nav.alerts'], 'the navigation did not switch back to Vietnamese');
    await page.click('h1'); // out of the language select: shortcuts are off while typing
    await page.keyboard.press('?');
    await visible('dialog.help[open]', '"?" did not open the shortcut list');
    await page.keyboard.press('Escape');
    expect((await page.locator('dialog.help[open]').count()) === 0, 'Esc did not close the shortcut list');
  });

  await step('logout', async () => {
    await logout();
    expect((await text('form.login .notice')) === VI['login.loggedOut'], 'no "logged out" notice');
    await page.goto(`${ctx.baseUrl}/#/search`);
    await visible('#login-user', 'after logout the search page is still reachable');
  });

  await step('admin-audit', async () => {
    await login(admin);
    await expectAudit();
  });

  async function expectAudit() {
    await page.click('header nav a[data-nav="audit"]');
    await visible('#audit tbody tr[data-action]', 'the audit log is empty');
    const entries = await page.$$eval('#audit tbody tr[data-action]', (rows) => rows.map((r) => ({ user: r.dataset.user, action: r.dataset.action, text: r.textContent })));
    for (const action of ['login', 'login_failed', 'search', 'view_event', 'export', 'acknowledge']) {
      const users = action === 'login_failed' ? [analyst.name, ''] : [analyst.name];
      expect(entries.some((e) => e.action === action && users.includes(e.user)), `no "${action}" entry for ${analyst.name} in the audit log`);
    }
    const search = entries.find((e) => e.action === 'search' && e.user === analyst.name && e.text.includes('sudo'));
    expect(search, 'no audit entry of the analyst\'s "sudo" search');
  }

  await step('admin-rule-toggle', async () => {
    await page.click('header nav a[data-nav="rules"]');
    const sw = page.locator(`#rules tbody tr[data-id="${seed.sudoRuleId}"] button.switch`);
    await sw.waitFor({ timeout: TIMEOUT });
    expect((await sw.getAttribute('aria-checked')) === 'true', 'the sudo rule is not enabled');
    await sw.click();
    await waitFor((id) => document.querySelector(`#rules tr[data-id="${id}"] button.switch`)?.getAttribute('aria-checked') === 'false', seed.sudoRuleId, 'disabling the rule did not take');
    await page.locator(`#rules tbody tr[data-id="${seed.sudoRuleId}"] button.switch`).click();
    await waitFor((id) => document.querySelector(`#rules tr[data-id="${id}"] button.switch`)?.getAttribute('aria-checked') === 'true', seed.sudoRuleId, 'enabling the rule again did not take');
  });

  await step('admin-assign-close-reopen', async () => {
    await page.goto(`${ctx.baseUrl}/#/alerts/${seed.mailAlertId}`);
    await visible('#alert-status');
    await page.click('.triage button[data-action="assign"]');
    await visible('#triage-error .error', 'Assign without a user name shows no error');
    await page.fill('#triage-assignee', 'no-such-user');
    await page.click('.triage button[data-action="assign"]');
    await waitFor(() => document.querySelector('#triage-error .error')?.textContent.trim(), null, 'assigning to an unknown user shows no error next to the buttons');
    expect((await page.getAttribute('#alert-status', 'data-status')) === 'new', 'a failed assign changed the status');
    await page.fill('#triage-assignee', analyst.name);
    await page.fill('#triage-comment', 'Giao cho chuyên viên trực ca');
    await page.click('.triage button[data-action="assign"]');
    await waitFor(() => document.querySelector('#alert-status')?.dataset.status === 'assigned', null, 'the alert did not become assigned');
    expect((await text('#alert-status')).includes(analyst.name), 'the assignee is not shown');
    await page.fill('#triage-comment', 'Đã xử lý');
    await page.click('.triage button[data-action="close"]');
    await waitFor(() => document.querySelector('#alert-status')?.dataset.status === 'closed', null, 'the alert did not close');
    await page.click('.triage button[data-action="reopen"]');
    await waitFor(() => document.querySelector('#alert-status')?.dataset.status !== 'closed', null, 'the alert did not reopen');
    const actions = await page.$$eval('#history tbody tr[data-action]', (rows) => rows.map((r) => r.dataset.action));
    for (const action of ['assign', 'close', 'reopen']) expect(actions.includes(action), `no "${action}" entry in the history`);
    await logout();
  });

  await step('viewer-search-own-agency-only', async () => {
    await login(viewer);
    await visible('#q');
    await settled();
    await searchFor('');
    const hosts = await page.$$eval('#results tbody tr.ev td.c-host', (c) => c.map((x) => x.textContent));
    expect(hosts.length > 0, 'the agency viewer sees no events at all');
    expect(!hosts.includes(web), `the agency viewer sees events of ${web} (another agency)`);
    const agencies = await page.$$eval('#results tbody tr.ev td.c-agency', (c) => [...new Set(c.map((x) => x.textContent))]);
    expect(agencies.every((a) => a === ctx.agencies.viewer), `the agency viewer sees events of other agencies: ${agencies}`);
    await searchFor('sudo');
    const rows = await rowTexts();
    expect(rows.length >= 1 && rows.every((r) => r.includes(mail)), 'the viewer\'s sudo search shows another agency or nothing');
    await waitFor(() => document.querySelector('.facet[data-field="agency"] li[data-value]'), null, 'no agency values in the sidebar');
    const facetAgencies = await page.$$eval('.facet[data-field="agency"] li[data-value]', (lis) => lis.map((li) => li.dataset.value));
    expect(facetAgencies.every((a) => a === ctx.agencies.viewer), `the agency sidebar shows other agencies: ${facetAgencies}`);
  });

  await step('viewer-no-other-agency-event', async () => {
    await page.goto(`${ctx.baseUrl}/#/events/${encodeURIComponent(seed.webSudoEventId)}`);
    await visible('.event-page .error', `the viewer can open event ${seed.webSudoEventId} of ${web}`);
    expect((await text('.event-page .error')) === VI['event.notFound'], 'the event of another agency does not answer "not found"');
  });

  await step('viewer-alerts', async () => {
    await page.click('header nav a[data-nav="alerts"]');
    await visible('#alerts tbody tr', 'the alert list did not load');
    await waitFor(() => !document.querySelector('#alerts .loading'), null, 'the alert list did not finish loading');
    const hosts = await page.$$eval('#alerts tbody tr[data-id] td.c-host', (c) => c.map((x) => x.textContent));
    expect(!hosts.includes(web), `the agency viewer sees alerts of ${web}`);
    expect((await page.locator(`#alerts tbody tr[data-id="${seed.mailAlertId}"]`).count()) === 1, `the viewer does not see the alert of ${mail}`);
    await page.click(`#alerts tbody tr[data-id="${seed.mailAlertId}"] td.c-rule a`);
    await visible('#alert-status');
    expect((await page.locator('.triage button[data-action]').count()) === 0, 'the agency viewer is offered triage buttons');
    await page.goto(`${ctx.baseUrl}/#/alerts/${seed.webAlertId}`);
    await visible('.alert-page .error', `the viewer can open alert #${seed.webAlertId} of ${web}`);
    await page.goto(`${ctx.baseUrl}/#/hosts`);
    await visible('#hosts tbody tr', 'the hosts page did not load');
    await waitFor(() => !document.querySelector('#hosts .loading'), null, 'the hosts page did not finish loading');
    expect((await page.locator(`#hosts tbody tr[data-host="${web}"]`).count()) === 0, `the viewer sees host ${web} of another agency`);
    await logout();
  });

  await step('login-rate-limit', async () => {
    // Last: the limit also counts per client address, so no login works after this.
    let locked = false;
    for (let i = 0; i < 8 && !locked; i++) {
      await page.fill('#login-user', 'no-such-user');
      await page.fill('#login-pass', `wrong-${i}`);
      await page.click('form.login button[type=submit]');
      await visible('#login-error .error');
      await waitFor(() => !document.querySelector('form.login button[type=submit]').disabled, null, 'the login button stayed disabled');
      locked = (await page.locator('#login-error .error.locked').count()) > 0;
    }
    expect(locked, 'eight failed logins never showed the "too many attempts" message');
    expect((await page.getAttribute('#login-error .error', 'data-status')) === '429', 'the lock message is not from a 429');
  });
} catch (error) {
  status = 1;
  if (!(error instanceof Failure) && stepNo === 0) console.error(`ui: ${error.stack ?? error}`);
} finally {
  await browser.close().catch(() => {});
}

for (const warning of warnings) console.warn(`ui: warning: ${warning}`);
console.log(`ui: screenshots in ${ARTIFACTS}: ${screenshots.join(' ')}`);
const passed = status ? stepNo - 1 : stepNo;
console.log(`ui: ${passed} passed, ${status ? 1 : 0} failed`);
process.exit(status);
