// Browser end-to-end test of a clinician's day in headless Chromium: two
// patients invited and linked, one getting worse; the dashboard puts the
// worsening one first; the clinician opens the timeline, enters
// measurements (the factor turns `measured`), edits the plan (the patient
// sees it), sees the patient's KOOS scored, and prints the PDF report
// (first page rendered to PNG). The admin sees the audit trail. axe on
// every page; screenshots in e2e/artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launch, review, next, dayPlus, openMore, newSigns, ARTIFACTS, BIN } from './helpers.mjs';

const DAY0 = '2026-11-02';
const PASSWORD = 'a long enough password';

async function submit(page, selector = 'form.form button[type=submit]') {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function radio(page, name, value) {
  await page.check(`input[name="${name}"][value="${value}"]`, { force: true });
}

async function login(browser, base, email, password = PASSWORD) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await submit(page, 'main button[type=submit]');
  return page;
}

/** Sign up through an invitation link, accept, then take a self-care
 * assessment (unless `assess` is false). */
async function invitedPatient(browser, invite, name, email, { assess = true } = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(invite);
  assert.match(await page.textContent('h1'), /invites you/);
  await Promise.all([page.waitForNavigation(), page.click('main a:has-text("Create an account")')]);
  await page.fill('#display_name', name);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await submit(page);
  // Back on the invitation, logged in: accept.
  assert.match(page.url(), /\/invite\//);
  await submit(page, 'main form button[type=submit]');
  assert.match(page.url(), /\/account/);
  assert.match(await page.textContent('#care'), /Dr Lee/);
  if (!assess) return page;
  // A self-care assessment.
  await page.goto(invite.replace(/\/invite\/.*/, '/assess/1'));
  await page.fill('#age', '31');
  await next(page);
  await radio(page, 'onset', 'gradual');
  await page.fill('#days_since_onset', '20');
  await radio(page, 'mechanism', 'overuse');
  await next(page);
  await page.fill('#pain_now', '3');
  await page.fill('#pain_activity', '3');
  await page.check('input[name=pain_location][value=back_of_knee]');
  await radio(page, 'pain_trend', 'same');
  await next(page);
  await next(page); // no warning signs
  await radio(page, 'weight_bearing', 'normal');
  await radio(page, 'knee_flex_90', 'yes');
  for (let i = 0; i < 8 && !/\/assessments\//.test(page.url()); i++) await next(page);
  assert.match(page.url(), /\/assessments\//);
  return page;
}

async function checkIn(page, base, day, pain) {
  await page.goto(`${base}/checkin?day=${day}`);
  await page.fill('#day', day);
  await newSigns(page);
  await radio(page, 'pain_now', pain);
  await radio(page, 'stiffness', 2);
  const boxes = await page.$$('input[name=done]');
  for (const box of boxes) await box.check();
  // Asked once an exercise is ticked.
  if (boxes.length) await radio(page, 'exercise_pain', Math.min(pain, 5));
  await openMore(page);
  await radio(page, 'morning_pain', Math.max(0, pain - 1));
  await radio(page, 'full_range', 'yes');
  await page.fill('#sleep_hours', '7');
  await submit(page);
  assert.match(page.url(), /\/checkin\/saved\?day=/, `check-in ${day}: ${await page.textContent('main')}`);
}

test("a clinician's day: caseload by need, timeline, measurements, plan edit, KOOS, PDF report, audit", async () => {
  const server = await startServer(DAY0);
  const addUser = (email, name, role) => execFileSync(BIN, ['user', 'add', '--database', server.database,
    '--email', email, '--name', name, '--role', role, '--password-stdin'], { input: PASSWORD, encoding: 'utf8' });
  addUser('lee@clinic.example', 'Dr Lee', 'clinician');
  const browser = await launch();
  try {
    // The clinician makes two invitation links.
    const c = await login(browser, server.base, 'lee@clinic.example');
    assert.match(c.url(), /\/clinic$/);
    await review(c, 'clinic-01-empty-caseload');
    const invites = [];
    for (let i = 0; i < 2; i++) {
      await submit(c, 'form[action="/clinic/invites"] button');
      invites.push((await c.textContent('#invite-url')).trim());
    }
    await review(c, 'clinic-02-invite');

    const worse = await invitedPatient(browser, invites[0], 'Wren', 'wren@example.org');
    const steady = await invitedPatient(browser, invites[1], 'Sol', 'sol@example.org');
    // A used invitation does not work twice.
    const reuse = await worse.goto(invites[0]);
    assert.equal(reuse.status(), 410);

    // Two weeks of check-ins: Wren's pain rises in the second week.
    await server.restart(dayPlus(DAY0, 13));
    for (let d = 0; d <= 13; d++) {
      await checkIn(worse, server.base, dayPlus(DAY0, d), d < 7 ? 2 : 5);
      await checkIn(steady, server.base, dayPlus(DAY0, d), 2);
    }

    // The dashboard: the worsening patient first.
    await c.goto(`${server.base}/clinic`);
    const first = await c.textContent('table.caseload tbody tr:first-child');
    assert.match(first, /Wren/);
    assert.match(first, /Worsening/);
    assert.match(await c.textContent('table.caseload tbody tr:nth-child(2)'), /Sol/);
    await review(c, 'clinic-03-caseload');
    // Filter by need.
    await c.selectOption('#need', 'on_track');
    await submit(c, 'form.filters button');
    assert.doesNotMatch(await c.textContent('main'), /Wren/);

    // Timeline, then measurements: strength imbalance becomes measured.
    await c.goto(`${server.base}/clinic`);
    await Promise.all([c.waitForNavigation(), c.click('table.caseload a:has-text("Wren")')]);
    assert.match(await c.textContent('#timeline ~ ol.events'), /See a professional/);
    await review(c, 'clinic-04-timeline');
    assert.doesNotMatch(await c.textContent('#factors ~ ul'), /Strength imbalance/);
    await radio(c, 'painful_side', 'right');
    await c.fill('#m-ham_left', '120');
    await c.fill('#m-ham_right', '84');
    await c.fill('#m-quad_left', '200');
    await c.fill('#m-quad_right', '190');
    await c.fill('#m-slr_left', '80');
    await c.fill('#m-slr_right', '78');
    await submit(c, '#measure button[type=submit]');
    const factors = await c.textContent('#factors ~ ul');
    assert.match(factors, /measured\s*Strength imbalance/);
    assert.match(await c.textContent('ol.events'), /Strength imbalance between the front and back of the thigh: not present → measured/);
    await review(c, 'clinic-05-measured');

    // Plan edit: a new dosage with the reason; Wren sees it.
    const exercise = await c.$eval('#plan ~ ul li strong', (e) => e.textContent.trim());
    await c.selectOption('#p-kind', 'dosage');
    await c.selectOption('#p-exercise', { label: exercise });
    await c.fill('#p-dosage', '2 x 6, slow and easy');
    await c.fill('#p-reason', 'pain rose this week');
    await submit(c, '#planedit button[type=submit]');
    assert.match(await c.textContent('[role=status]'), /Plan updated/);
    await worse.goto(`${server.base}/plan`);
    const plan = await worse.textContent('main');
    assert.match(plan, /2 x 6, slow and easy/);
    assert.match(plan, /pain rose this week/);
    assert.match(plan, /Questionnaire due/);
    await review(worse, 'clinic-06-patient-plan-edited');

    // Wren fills in the KOOS (due: baseline); the clinician sees it scored.
    await worse.goto(`${server.base}/outcomes`);
    assert.match(await worse.textContent('main'), /Due now/);
    await review(worse, 'clinic-07-outcomes');
    await worse.goto(`${server.base}/outcomes/koos`);
    for (const item of await worse.$$eval('fieldset.item', (fs) => fs.map((f) => f.id.replace('item-', '')))) {
      await radio(worse, item, 1);
    }
    await review(worse, 'clinic-08-koos-form');
    await submit(worse, 'form.questionnaire button[type=submit]');
    assert.match(await worse.textContent('[role=status]'), /saved and scored/);
    await c.reload();
    const scores = await c.textContent('#outh ~ div table');
    assert.match(scores, /Pain\s*Symptoms/);
    assert.match(scores, /75\.0/);

    // The PDF report, its first page as PNG.
    const pdf = await c.request.get(`${c.url().split('?')[0]}/report.pdf`);
    assert.equal(pdf.status(), 200);
    assert.equal(pdf.headers()['content-type'], 'application/pdf');
    const bytes = await pdf.body();
    assert.equal(bytes.subarray(0, 4).toString(), '%PDF');
    const pdfPath = join(ARTIFACTS, 'clinic-report.pdf');
    writeFileSync(pdfPath, bytes);
    execFileSync('pdftoppm', ['-png', '-r', '80', '-f', '1', '-l', '1', '-singlefile', pdfPath, join(ARTIFACTS, 'clinic-report-page1')]);
    assert.ok(existsSync(join(ARTIFACTS, 'clinic-report-page1.png')), 'first page rendered');
    await c.goto(`${c.url().split('?')[0]}/report`);
    await review(c, 'clinic-09-report');

    // A patient linked before any assessment: nothing to edit or move yet.
    await c.goto(`${server.base}/clinic`);
    await submit(c, 'form[action="/clinic/invites"] button');
    const third = (await c.textContent('#invite-url')).trim();
    const ash = await invitedPatient(browser, third, 'Ash', 'ash@example.org', { assess: false });
    await c.goto(`${server.base}/clinic`);
    await Promise.all([c.waitForNavigation(), c.click('table.caseload a:has-text("Ash")')]);
    assert.match(await c.textContent('#plan ~ p'), /No home plan \(no assessment yet\)/);
    assert.equal(await c.$('form[action$="/phase#phase"]'), null);
    assert.equal(await c.$('form[action$="/plan#planedit"]'), null);
    await review(c, 'clinic-12-no-home-plan');
    await ash.context().close();

    // The admin sees who read Wren's record.
    addUser('admin@clinic.example', 'Admin', 'admin');
    const a = await login(browser, server.base, 'admin@clinic.example');
    assert.match(a.url(), /\/admin\/users$/);
    await review(a, 'clinic-10-admin-users');
    await a.goto(`${server.base}/admin/audit?subject=wren%40example.org&actor=lee%40clinic.example`);
    const audit = await a.textContent('table.audit');
    for (const what of ['timeline', 'measurement', 'plan', 'report']) assert.match(audit, new RegExp(what));
    await review(a, 'clinic-11-admin-audit');
  } finally {
    await browser.close();
    await server.stop();
  }
});
