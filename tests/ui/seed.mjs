// Sends the test events to the collector's HTTP ingest (POST /ingest/lines) and waits until the
// UI API returns them from search and alerts. Writes what the scenario needs (ids) to the seed
// file. Usage: node seed.mjs CONTEXT_JSON SEED_JSON
//
// The lines are BSD syslog with the current time in the collector's default offset (+07:00), so
// that they fall in the UI's default time range.

import fs from 'node:fs';
import { request } from 'playwright-core';

const [contextFile, seedFile] = process.argv.slice(2);
if (!contextFile || !seedFile) {
  console.error('usage: node seed.mjs CONTEXT_JSON SEED_JSON');
  process.exit(2);
}
const ctx = JSON.parse(fs.readFileSync(contextFile, 'utf8'));
const OFFSET_MS = 7 * 3600 * 1000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Nov 27 15:31:02` for `minutesAgo` before now, in +07:00. */
function stamp(minutesAgo) {
  const d = new Date(Date.now() - minutesAgo * 60000 + OFFSET_MS);
  const two = (n) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

export const SUDO_RULE_ID = 'bb5d1812-af84-4838-bf42-ee6697ca18d1';

const web = ctx.hosts.other; // web01: another agency than the viewer's
const mail = ctx.hosts.viewer; // mail01: the viewer's agency
const batches = [
  {
    host: web,
    lines: [
      `${stamp(9)} ${web} sudo:  alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx`,
      `${stamp(6)} ${web} sudo:  alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash`,
      ...[0, 1, 2, 3, 4, 5].map((i) => `${stamp(5 - i / 6)} ${web} sshd[4242]: Failed password for root from 203.0.113.7 port ${40000 + i} ssh2`),
      // Attacker-controlled text: must show as text, never run.
      `${stamp(3)} ${web} portal[77]: login failed for user "<img src=x onerror=window.__hdXss=1>" <script>window.__hdXss=2</script> <b>bold</b>`,
    ],
  },
  {
    host: mail,
    lines: [
      `${stamp(8)} ${mail} sshd[5151]: Failed password for invalid user admin from 198.51.100.9 port 51000 ssh2`,
      `${stamp(8)} ${mail} sshd[5151]: Failed password for invalid user admin from 198.51.100.9 port 51002 ssh2`,
      `${stamp(7)} ${mail} sshd[5152]: Accepted password for bob from 10.10.3.50 port 51111 ssh2`,
      `${stamp(2)} ${mail} sudo:  bob : TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash`,
    ],
  },
];

const total = batches.reduce((n, b) => n + b.lines.length, 0);

for (const batch of batches) {
  const url = `${ctx.ingestUrl}/ingest/lines?host=${encodeURIComponent(batch.host)}`;
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: `${batch.lines.join('\n')}\n` });
  const text = await response.text();
  if (!response.ok) {
    console.error(`seed: POST ${url} answered ${response.status}: ${text}`);
    process.exit(1);
  }
  console.log(`seed: ${batch.lines.length} lines for ${batch.host}: ${text.trim()}`);
}

// Wait (as admin) until search and alerts return the events.
const api = await request.newContext({ baseURL: ctx.baseUrl, ignoreHTTPSErrors: true });
const login = await api.post('/api/v1/login', { data: { username: ctx.users.admin.name, password: ctx.users.admin.password } });
if (!login.ok()) {
  console.error(`seed: admin login answered ${login.status()}: ${await login.text()}`);
  process.exit(1);
}

const deadline = Date.now() + (Number(process.env.HD_SEED_TIMEOUT_S) || 60) * 1000;
let last = '';
let seed = null;
while (Date.now() < deadline) {
  try {
    const all = await (await api.get('/api/v1/search', { params: { q: '*', from: 'now-1h', size: 100 } })).json();
    const sudo = await (await api.get('/api/v1/search', { params: { q: 'sudo', from: 'now-1h', size: 100 } })).json();
    const alerts = await (await api.get('/api/v1/alerts', { params: { limit: 100 } })).json();
    const bash = (sudo.hits ?? []).find((ev) => ev.host === web && /COMMAND=\/bin\/bash/.test(ev.raw ?? ''));
    const sudoAlerts = (alerts.alerts ?? []).filter((a) => a.rule_id === SUDO_RULE_ID || /Interactive Shell/i.test(a.rule_title ?? ''));
    const webAlert = sudoAlerts.find((a) => a.host === web);
    const mailAlert = sudoAlerts.find((a) => a.host === mail);
    last = `search * total=${all.total}, sudo hits=${(sudo.hits ?? []).length}, sudo alerts=${sudoAlerts.map((a) => `${a.id}@${a.host}`).join(',') || 'none'}`;
    if ((all.total ?? 0) >= total && bash && webAlert && mailAlert) {
      seed = { total, webSudoEventId: bash.id, webAlertId: webAlert.id, mailAlertId: mailAlert.id, sudoRuleId: webAlert.rule_id, sudoRuleTitle: webAlert.rule_title };
      break;
    }
  } catch (error) {
    last = String(error.message ?? error);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
await api.post('/api/v1/logout', { headers: { 'X-CSRF-Token': (await login.json()).csrf_token ?? '' } }).catch(() => {});
await api.dispose();
if (!seed) {
  console.error(`seed: the collector did not return the ${total} test events and both sudo alerts in time (last: ${last})`);
  process.exit(1);
}
fs.writeFileSync(seedFile, JSON.stringify(seed, null, 2));
console.log(`seed: ready (${last})`);
