// Firefox for the browser scenario: the part of Playwright's API that scenario.mjs uses, on
// puppeteer-core, which drives Debian's stock firefox-esr through WebDriver BiDi. (Playwright needs
// its own patched Firefox build; its experimental BiDi mode sends commands firefox-esr 153 lacks.)
//
// Only what the scenario calls is here, with Playwright's meaning: locators are resolved again on
// every use, wait the default timeout for their element, and a locator that is not narrowed with
// first(), nth() or last() must match one element (Playwright's strict mode); page.click(),
// page.fill() and the like take the first match. HTTP checks use Playwright's own request context,
// which needs no browser.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { request } from 'playwright-core';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Firefox's own setting for prefers-color-scheme in pages: 0 dark, 1 light.
const COLOR_PREF = 'layout.css.prefers-color-scheme.content-override';

export async function launchFirefox({ executablePath }) {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    acceptInsecureCerts: true,
    // Lets the test set a preference at run time (dark mode, see emulateMedia): Firefox 153 has no
    // WebDriver BiDi command for prefers-color-scheme.
    args: ['-remote-allow-system-access'],
    extraPrefsFirefox: { [COLOR_PREF]: 1 },
  });
  if (typeof browser.connection?.send !== 'function') {
    await browser.close();
    throw new Error('this puppeteer-core does not expose its WebDriver BiDi connection (browser.connection)');
  }
  return new FirefoxBrowser(browser);
}

class FirefoxBrowser {
  constructor(browser) {
    this.browser = browser;
    this.contexts = [];
  }

  async newContext({ viewport, timezoneId, locale, colorScheme }) {
    const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'haidang-ui-downloads-'));
    const context = await this.browser.createBrowserContext({ downloadBehavior: { policy: 'allow', downloadPath: downloads } });
    // navigator.language and Intl's default, as Playwright sets them (puppeteer has no call for it).
    if (locale) await this.browser.connection.send('emulation.setLocaleOverride', { locale, userContexts: [context.userContext.id] });
    const wrapped = new FirefoxContext(this.browser, context, { viewport, timezoneId, colorScheme, downloads });
    wrapped.request = await request.newContext({ ignoreHTTPSErrors: true });
    this.contexts.push(wrapped);
    return wrapped;
  }

  async close() {
    for (const context of this.contexts) {
      await context.request.dispose().catch(() => {});
      fs.rmSync(context.options.downloads, { recursive: true, force: true });
    }
    await this.browser.close();
  }
}

class FirefoxContext {
  constructor(browser, context, options) {
    this.browser = browser;
    this.context = context;
    this.options = options;
    this.timeout = 30000;
    this.initScripts = [];
  }

  setDefaultTimeout(ms) {
    this.timeout = ms;
  }

  async addInitScript(fn) {
    this.initScripts.push(fn);
  }

  async route() {
    throw new Error('context.route() is not available with Firefox: make the trial run with Chromium');
  }

  async newPage() {
    const page = await this.context.newPage();
    page.setDefaultTimeout(this.timeout);
    const { viewport, timezoneId, colorScheme } = this.options;
    if (viewport) await page.setViewport(viewport);
    if (timezoneId) await page.emulateTimezone(timezoneId);
    for (const fn of this.initScripts) await page.evaluateOnNewDocument(fn);
    const wrapped = new FirefoxPage(this, page);
    if (colorScheme) await wrapped.emulateMedia({ colorScheme });
    return wrapped;
  }
}

/** Runs in the page: the elements that a locator's steps select, and what `op` asks of them. */
function inPage(steps, strict, op, arg) {
  const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim().toLowerCase();
  let found = [document];
  for (const step of steps) {
    if (step.css) found = [...new Set(found.flatMap((root) => [...root.querySelectorAll(step.css)]))];
    if (step.hasText) found = found.filter((el) => norm(el.textContent).includes(norm(step.hasText)));
    if (step.index !== undefined) found = found.at(step.index) ? [found.at(step.index)] : [];
  }
  if (op === 'count') return found.length;
  if (strict && found.length > 1) return { error: `strict mode violation: ${found.length} elements match` };
  const el = found[0];
  const visible = (e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
  };
  if (op === 'hidden') return !el || !visible(el);
  if (!el) return null;
  switch (op) {
    case 'element':
      return el;
    case 'visible':
      return visible(el) ? { value: true } : null;
    case 'actionable': // visible and enabled (Playwright also waits until it stops moving)
      return visible(el) && !el.matches(':disabled') ? { value: true } : null;
    case 'text':
      return { value: el.textContent };
    case 'attribute':
      return { value: el.getAttribute(arg) };
    case 'value':
      return { value: el.value };
    case 'fill': // as Playwright: select what is there, then insert the text as typed input
      if (!visible(el) || el.matches(':disabled') || el.readOnly) return null;
      el.focus();
      el.select();
      if (arg) document.execCommand('insertText', false, arg);
      else document.execCommand('delete');
      return { value: el.value === arg };
    default:
      return { error: `unknown operation ${op}` };
  }
}

class Locator {
  constructor(page, steps, strict = true) {
    this.page = page;
    this.steps = steps;
    this.strict = strict;
  }

  get description() {
    return this.steps.map((s) => s.css ?? (s.hasText !== undefined ? `[hasText=${JSON.stringify(s.hasText)}]` : `[${s.index}]`)).join(' >> ');
  }

  locator(css, { hasText } = {}) {
    return new Locator(this.page, [...this.steps, { css, hasText }], this.strict);
  }

  filter({ hasText }) {
    return new Locator(this.page, [...this.steps, { hasText }], this.strict);
  }

  nth(index) {
    return new Locator(this.page, [...this.steps, { index }], this.strict);
  }

  first() {
    return this.nth(0);
  }

  last() {
    return this.nth(-1);
  }

  async count() {
    return this.page.pp.evaluate(inPage, this.steps, false, 'count');
  }

  async isHidden() {
    const answer = await this.page.pp.evaluate(inPage, this.steps, this.strict, 'hidden');
    if (answer?.error) throw new Error(`${this.description}: ${answer.error}`);
    return answer;
  }

  /** Retries `op` until the page answers (element there and ready), like Playwright's waits. */
  async until(op, arg, { timeout } = {}) {
    const ms = timeout ?? this.page.context.timeout;
    const deadline = Date.now() + ms;
    let failed = null;
    for (;;) {
      // A navigation can take the page's script context away between two tries: try again.
      const answer = await this.page.pp.evaluate(inPage, this.steps, this.strict, op, arg).catch((error) => {
        failed = error;
        return null;
      });
      if (answer?.error) throw new Error(`${this.description}: ${answer.error}`);
      if (answer) return answer.value;
      if (Date.now() > deadline) {
        throw new Error(`${this.description}: "${op}" not met in ${ms} ms${failed ? ` (last error: ${failed.message})` : ''}`);
      }
      await sleep(50);
    }
  }

  async waitFor({ state = 'visible', timeout } = {}) {
    if (state !== 'visible') throw new Error(`waitFor state ${state} is not available with Firefox`);
    await this.until('visible', undefined, { timeout });
  }

  async textContent(options) {
    return this.until('text', undefined, options);
  }

  async getAttribute(name, options) {
    return this.until('attribute', name, options);
  }

  async inputValue(options) {
    return this.until('value', undefined, options);
  }

  async fill(value, options) {
    if (!(await this.until('fill', value, options))) throw new Error(`${this.description}: fill did not set the value`);
  }

  async element(options) {
    await this.until('actionable', undefined, options);
    const handle = await this.page.pp.evaluateHandle(inPage, this.steps, this.strict, 'element');
    const element = handle.asElement();
    if (!element) throw new Error(`${this.description}: the element went away`);
    return element;
  }

  async click({ modifiers = [], timeout } = {}) {
    const element = await this.element({ timeout });
    const keyboard = this.page.pp.keyboard;
    for (const key of modifiers) await keyboard.down(key);
    try {
      await element.click();
    } finally {
      for (const key of modifiers.toReversed()) await keyboard.up(key);
      await element.dispose();
    }
  }

  async press(key, options) {
    const element = await this.element(options);
    await element.focus();
    await element.dispose();
    await this.page.pp.keyboard.press(key);
  }

  async selectOption(value, options) {
    const element = await this.element(options);
    const selected = await element.select(value);
    await element.dispose();
    if (!selected.includes(value)) throw new Error(`${this.description}: no option ${value}`);
  }
}

class FirefoxPage {
  constructor(context, page) {
    this.context = context;
    this.pp = page;
    this.keyboard = page.keyboard;
  }

  on(event, handler) {
    this.pp.on(event, handler);
  }

  url() {
    return this.pp.url();
  }

  async goto(url) {
    return this.pp.goto(url);
  }

  async goBack() {
    return this.pp.goBack();
  }

  async reload() {
    return this.pp.reload();
  }

  async screenshot(options) {
    return this.pp.screenshot(options);
  }

  async evaluate(fn, arg) {
    return this.pp.evaluate(fn, arg);
  }

  async $$eval(selector, fn) {
    return this.pp.$$eval(selector, fn);
  }

  async waitForFunction(fn, arg, { timeout } = {}) {
    return this.pp.waitForFunction(fn, { timeout: timeout ?? this.context.timeout }, arg);
  }

  locator(css, options) {
    return new Locator(this, []).locator(css, options);
  }

  // The page-level actions take the first match, as in Playwright.
  #first(css) {
    return new Locator(this, [{ css }], false);
  }

  fill(css, value) {
    return this.#first(css).fill(value);
  }

  click(css, options) {
    return this.#first(css).click(options);
  }

  press(css, key) {
    return this.#first(css).press(key);
  }

  getAttribute(css, name) {
    return this.#first(css).getAttribute(name);
  }

  inputValue(css) {
    return this.#first(css).inputValue();
  }

  selectOption(css, value) {
    return this.#first(css).selectOption(value);
  }

  /** prefers-color-scheme, through Firefox's preference in the browser's privileged scope. */
  async emulateMedia({ colorScheme }) {
    const value = { dark: 0, light: 1 }[colorScheme];
    if (value === undefined) throw new Error(`colorScheme ${colorScheme} is not available with Firefox`);
    const connection = this.context.browser.connection;
    const tree = await connection.send('browsingContext.getTree', { 'moz:scope': 'chrome', maxDepth: 0 });
    const chrome = tree.result.contexts[0]?.context;
    if (!chrome) throw new Error('Firefox shows no browser window to set the colour scheme in');
    await connection.send('script.evaluate', {
      expression: `Services.prefs.setIntPref(${JSON.stringify(COLOR_PREF)}, ${value})`,
      target: { context: chrome },
      awaitPromise: false,
    });
    // The preference reaches the page's process a moment later.
    if (this.pp.url() !== 'about:blank') {
      await this.waitForFunction((dark) => matchMedia('(prefers-color-scheme: dark)').matches === dark, colorScheme === 'dark');
    }
  }

  /** Only 'download': the next file that Firefox finishes saving. */
  async waitForEvent(event, { timeout } = {}) {
    if (event !== 'download') throw new Error(`waitForEvent ${event} is not available with Firefox`);
    const connection = this.context.browser.connection;
    let listener;
    const done = new Promise((resolve, reject) => {
      listener = (e) => (e.status === 'complete' ? resolve(e.filepath) : reject(new Error(`the download ended with status ${e.status}`)));
      connection.on('browsingContext.downloadEnd', listener);
    });
    let timer;
    const expired = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no download in ${timeout ?? this.context.timeout} ms`)), timeout ?? this.context.timeout);
    });
    try {
      const file = await Promise.race([done, expired]);
      return { saveAs: async (to) => fs.copyFileSync(file, to) };
    } finally {
      clearTimeout(timer);
      connection.off('browsingContext.downloadEnd', listener);
    }
  }
}
