// Shared helpers for the browser tests: start kneepath on a free port with a
// fresh SQLite file, drive Debian's Chromium with playwright-core, run axe on
// every page and save screenshots.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const here = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = join(here, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

export const BIN = process.env.KNEEPATH_BIN
  || join(process.env.CARGO_TARGET_DIR || join(here, '..', 'target'), 'debug', 'kneepath');

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** A kneepath server on a fresh SQLite database (or on `database` when
 * given), with `args` added to `serve`'s (or `args(base)`, given the
 * server's address); `restart(today)` keeps the data. */
export async function startServer(today, { database, args: extra = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kneepath-e2e-'));
  const db = database || `sqlite://${join(dir, 'e2e.db')}`;
  const port = await freePort();
  const server = { base: `http://127.0.0.1:${port}`, proc: null, database: db };
  server.start = async (day) => {
    const more = typeof extra === 'function' ? extra(server.base) : extra;
    const args = ['serve', '--addr', `127.0.0.1:${port}`, '--database', db, ...(day ? ['--today', day] : []), ...more];
    server.proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    server.proc.stdout.on('data', (d) => { log += d; });
    server.proc.stderr.on('data', (d) => { log += d; });
    for (let i = 0; i < 100; i++) {
      try {
        const r = await fetch(`${server.base}/healthz`);
        if (r.ok) return;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`kneepath did not start: ${log}`);
  };
  server.stop = async () => {
    if (!server.proc) return;
    const p = server.proc;
    server.proc = null;
    await new Promise((resolve) => { p.on('exit', resolve); p.kill('SIGTERM'); });
  };
  server.restart = async (day) => { await server.stop(); await server.start(day); };
  await server.start(today);
  return server;
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
}

/** Fail on any serious or critical axe violation of WCAG 2.x A/AA. */
export async function checkA11y(page, label) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    const detail = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`).join('\n');
    throw new Error(`axe found ${bad.length} serious/critical violation(s) on ${label}:\n${detail}`);
  }
}

/** Screenshot the current page at phone and desktop width. */
export async function shoot(page, name) {
  const original = page.viewportSize();
  for (const [tag, width] of [['phone', 390], ['desktop', 1280]]) {
    await page.setViewportSize({ width, height: 900 });
    // Nothing may make the page scroll sideways (tables scroll in their box).
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    if (wide > width + 1) throw new Error(`${name} is ${wide} px wide at ${width} px (${tag})`);
    // On a desktop every table's header cells stand over its columns (on a
    // phone, tables of class `cards` hide their header by design).
    if (tag === 'desktop') {
      const skewed = await page.evaluate(() => {
        const out = [];
        for (const t of document.querySelectorAll('table')) {
          const head = t.tHead && t.tHead.rows[0];
          const body = t.tBodies[0] && t.tBodies[0].rows[0];
          if (!head || !body || head.cells.length !== body.cells.length) continue;
          for (let i = 0; i < head.cells.length; i++) {
            const a = head.cells[i].getBoundingClientRect();
            const b = body.cells[i].getBoundingClientRect();
            if (Math.abs(a.left - b.left) > 2 || Math.abs(a.width - b.width) > 2) {
              out.push(`table.${t.className.replace(/ /g, '.')}: "${head.cells[i].textContent.trim()}" at x=${Math.round(a.left)}, ${Math.round(a.width)} px wide; its column at x=${Math.round(b.left)}, ${Math.round(b.width)} px wide`);
              break;
            }
          }
        }
        return out;
      });
      if (skewed.length) throw new Error(`${name}: a table's header is not over its columns at ${width} px:\n${skewed.join('\n')}`);
    }
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${tag}.png`), fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

/** Checks done on every page: axe (axe runs in the page, so only where
 * JavaScript is on; the app sends no script, so the no-JavaScript pages are
 * the same documents) and screenshots. */
export async function review(page, name, { axe = true } = {}) {
  if (axe) await checkA11y(page, name);
  await shoot(page, name);
}

/** The answers of a person with nothing wrong to the questions the wizard
 * requires, where the test has not answered them: the reassuring answer
 * to every yes/no question ("yes" where "no" is the warning sign), a
 * gradual onset with nothing that brought it on. */
const CALM = { knee_flex_90: 'yes', could_continue_activity: 'yes', onset: 'gradual', mechanism: 'none' };

export async function calm(page) {
  const groups = await page.$$eval('fieldset.field', (sets) => sets
    .filter((f) => f.querySelector('legend .req') && f.querySelector('input[type=radio], input[type=checkbox]'))
    .map((f) => ({
      name: f.querySelector('input').name,
      answered: !!f.querySelector('input:checked'),
      yesNo: !!f.querySelector('input[value=unsure]'),
    })));
  for (const g of groups) {
    if (g.answered) continue;
    const value = CALM[g.name] || (g.yesNo ? 'no' : null);
    if (!value) throw new Error(`no calm answer for the required question ${g.name}`);
    await page.check(`input[name="${g.name}"][value="${value}"]`, { force: true });
  }
}

/** Answer what the step still requires as a person with nothing wrong
 * would (`calm`), then click Next and wait for the next page. */
export async function next(page) {
  await calm(page);
  await nextAsIs(page);
}

/** Click the wizard's Next button as the page stands. */
export async function nextAsIs(page) {
  await Promise.all([page.waitForNavigation(), page.click('button[name=nav][value=next]')]);
}

export function dayPlus(iso, n) {
  const d = new Date(`${iso}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Open the check-in's folded optional answers ("More about today"). */
export async function openMore(page) {
  if (!(await page.$eval('details.more', (d) => d.open))) await page.click('details.more > summary');
}

/** Answer the check-in's "Any of these new today?" and, for yes, tick
 * `signs` in the list it opens. */
export async function newSigns(page, ...signs) {
  await page.check(`input[name=any_new_sign][value=${signs.length ? 'yes' : 'no'}]`);
  for (const s of signs) await page.check(`input[name=sign][value=${s}]`);
}

/** A local SMTP sink (scripts/smtp-sink.py, aiosmtpd from PyPI, run by
 * KNEEPATH_PYTHON: scripts/test-all sets it to its venv). `mails()` reads
 * the messages taken so far; `waitFor(n)` waits for the nth. */
export async function startSmtpSink() {
  const python = process.env.KNEEPATH_PYTHON
    || join(process.env.HOME || '', '.cache', 'kneepath-fhir-venv', 'bin', 'python');
  const dir = mkdtempSync(join(tmpdir(), 'kneepath-mail-'));
  const proc = spawn(python, [join(here, '..', 'scripts', 'smtp-sink.py'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => { out += d; const m = /port (\d+)/.exec(out); if (m) resolve(Number(m[1])); });
    proc.stderr.on('data', (d) => { out += d; });
    proc.on('exit', () => reject(new Error(`the SMTP sink stopped (pip install aiosmtpd into ${python}'s venv): ${out}`)));
    proc.on('error', reject);
  });
  const mails = () => readdirSync(dir).filter((f) => f.endsWith('.eml')).sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'));
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async waitFor(n, ms = 10000) {
      for (let t = 0; t < ms; t += 100) {
        const got = mails();
        if (got.length >= n) return got[n - 1];
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no message ${n} reached the SMTP sink`);
    },
    stop: () => new Promise((resolve) => { proc.on('exit', resolve); proc.kill('SIGTERM'); }),
  };
}

/** A message's text with quoted-printable soft line breaks joined. */
export function mailText(raw) {
  return raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
}

/** Sign up (name, email, password) from the sign-up page. */
export async function signUpAs(page, base, name, email, password = 'a long enough password') {
  await page.goto(`${base}/signup`);
  await page.fill('#display_name', name);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form.form button[type=submit]')]);
}

/** Sign up and answer the assessment as a 30-year-old with nothing
 * alarming: a self-care result with a home plan. */
export async function selfCarePatient(page, base, name, email) {
  await signUpAs(page, base, name, email);
  await page.fill('#age', '30');
  await next(page);
  for (let i = 2; i <= 9; i++) await next(page);
  if ((await page.textContent('h1')).trim() !== 'Manage it at home') {
    throw new Error(`not a self-care result: ${await page.textContent('main')}`);
  }
}
