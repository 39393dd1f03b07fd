// Browser end-to-end tests: the patient's journey in real headless Chromium,
// with axe-core on every page and screenshots at phone and desktop width
// (e2e/artifacts/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launch, review, next, nextAsIs, dayPlus, openMore, newSigns, selfCarePatient, ARTIFACTS } from './helpers.mjs';

const DAY0 = '2026-11-02'; // a Monday

async function submit(page) {
  await Promise.all([page.waitForNavigation(), page.click('form.form button[type=submit]:not([value=back])')]);
}

async function signUp(page, base, name, email) {
  await page.goto(`${base}/signup`);
  await page.fill('#display_name', name);
  await page.fill('#email', email);
  await page.fill('#password', 'a long enough password');
  await submit(page);
  assert.match(page.url(), /\/assess\/1$/);
}

async function radio(page, name, value) {
  await page.check(`input[name="${name}"][value="${value}"]`, { force: true });
}

async function checkIn(page, base, day, { pain = 2, exercise = 2, morning = 1 } = {}) {
  await page.goto(`${base}/checkin?day=${day}`);
  await page.fill('#day', day);
  await newSigns(page);
  await radio(page, 'pain_now', pain);
  await radio(page, 'stiffness', 1);
  const boxes = await page.$$('input[name=done]');
  for (const box of boxes) await box.check();
  // Asked once an exercise is ticked.
  if (boxes.length) await radio(page, 'exercise_pain', exercise);
  await openMore(page);
  await radio(page, 'morning_pain', morning);
  await radio(page, 'full_range', 'yes');
  await page.fill('#sleep_hours', '7.5');
  await submit(page);
  assert.match(page.url(), /\/checkin\/saved\?day=/, `check-in for ${day} was not saved: ${await page.textContent('main')}`);
}

for (const js of [true, false]) {
  const mode = js ? 'js' : 'nojs';

  test(`self-care journey (${mode}): sign up, assess, plan, check in until the phase moves, see the chart`, async () => {
    const server = await startServer(DAY0);
    const browser = await launch();
    try {
      // The browser lives in Auckland: with JavaScript the sign-up form
      // reports that zone; without it the account starts with none.
      const ctx = await browser.newContext({
        javaScriptEnabled: js,
        timezoneId: 'Pacific/Auckland',
        viewport: { width: 1280, height: 900 },
      });
      const page = await ctx.newPage();
      const base = server.base;

      await page.goto(`${base}/`);
      await review(page, `${mode}-01-home`, { axe: js });

      // Sign-up with bad input first: inline messages, nothing created.
      await page.goto(`${base}/signup`);
      await review(page, `${mode}-02-signup`, { axe: js });
      await page.fill('#display_name', 'Sam');
      await page.fill('#email', 'not-an-email');
      await page.fill('#password', 'short');
      await submit(page);
      const errors = await page.textContent('.errorsummary');
      assert.match(errors, /email address like/);
      assert.match(errors, /at least 10 characters/);
      await review(page, `${mode}-03-signup-errors`, { axe: js });
      await page.fill('#email', `sam-${mode}@example.org`);
      await page.fill('#password', 'a long enough password');
      await submit(page);
      assert.match(page.url(), /\/assess\/1$/);

      // Step 1, with an out-of-range age first.
      await page.fill('#age', '130');
      await nextAsIs(page);
      assert.match(await page.textContent('.errorsummary'), /Age: 130 is out of range/);
      await review(page, `${mode}-04-wizard-error`, { axe: js });
      await page.fill('#age', '29');
      await page.check('input[name=sports][value=running]');
      await next(page);
      // Step 2: how it started.
      await radio(page, 'onset', 'gradual');
      await page.fill('#days_since_onset', '20');
      await radio(page, 'mechanism', 'overuse');
      await review(page, `${mode}-05-wizard-onset`, { axe: js });
      await next(page);
      // Step 3: pain.
      await page.fill('#pain_now', '3');
      await page.fill('#pain_activity', '3');
      await page.check('input[name=pain_location][value=back_of_knee]');
      await radio(page, 'pain_trend', 'improving');
      await next(page);
      // Step 4: warning signs — none.
      await review(page, `${mode}-06-wizard-warning`, { axe: js });
      await next(page);
      // Step 5: function.
      await radio(page, 'weight_bearing', 'normal');
      await radio(page, 'knee_flex_90', 'yes');
      await next(page);
      await next(page); // examination
      await next(page); // self-care
      // Step 8: sport and training (shown because a sport was named).
      await radio(page, 'warm_up', 'always');
      await radio(page, 'hamstrings_feel_tight', 'yes');
      await next(page);
      // Back keeps the answers.
      await Promise.all([page.waitForNavigation(), page.click('button[name=nav][value=back]')]);
      assert.ok(await page.isChecked('input[name=warm_up][value=always]'), 'answer kept when going back');
      await next(page);
      await review(page, `${mode}-07-wizard-measurements`, { axe: js });
      await next(page);

      // Result: self-care, with the flexibility factor explained.
      assert.match(page.url(), /\/assessments\//);
      assert.equal((await page.textContent('h1')).trim(), 'Manage it at home');
      const result = await page.textContent('main');
      assert.match(result, /Tight hamstrings/);
      assert.match(result, /reported/);
      assert.match(result, /not a diagnosis/);
      await review(page, `${mode}-08-result-self-care`, { axe: js });

      // Plan: strengthen phase, exercise cards with figures.
      await Promise.all([page.waitForNavigation(), page.click('text=See your plan')]);
      assert.equal((await page.textContent('h1')).trim(), 'Strengthen');
      assert.ok((await page.$$('li.todo svg')).length >= 3, "today's exercises with illustrations");
      assert.match(await page.textContent('main'), /Warning signs to watch for/);
      await review(page, `${mode}-09-plan`, { axe: js });

      // Check-in with bad input first.
      await page.goto(`${base}/checkin`);
      await review(page, `${mode}-10-checkin`, { axe: js });
      await openMore(page);
      await page.fill('#sleep_hours', '30');
      await submit(page);
      const checkinErrors = await page.textContent('.errorsummary');
      assert.match(checkinErrors, /Pain now: please give a number/);
      assert.match(checkinErrors, /Sleep: "30" is not a number of hours/);
      await review(page, `${mode}-11-checkin-errors`, { axe: js });

      // Three good days: the first today, then two more on later days.
      await checkIn(page, base, DAY0);
      assert.match(await page.textContent('h1'), /check-in is saved/);
      await review(page, `${mode}-12-checkin-saved`, { axe: js });
      await server.restart(dayPlus(DAY0, 2));
      await checkIn(page, base, dayPlus(DAY0, 1));
      await checkIn(page, base, dayPlus(DAY0, 2));
      assert.match(await page.textContent('h1'), /on to the Return to activity phase/);
      await review(page, `${mode}-13-phase-moved`, { axe: js });

      // A wrong answer corrected from the saved page: the form shows the
      // stored answers, and the move the check-in made stands.
      await Promise.all([page.waitForNavigation(), page.click('text=Correct this check-in')]);
      assert.match(await page.textContent('h1'), /Correct your check-in/);
      assert.equal(await page.inputValue('#sleep_hours'), '7.5');
      assert.ok(await page.isChecked('input[name="pain_now"][value="2"]'));
      await review(page, `${mode}-13b-checkin-correct`, { axe: js });
      // No sign was stored: the question stays as the person left it.
      assert.equal(await page.$('input[name=any_new_sign]:checked'), null, 'no answer shown for the person');
      await page.fill('#sleep_hours', '6');
      await submit(page);
      assert.match(await page.textContent('h1'), /Correction saved: your plan is in the Return to activity phase/);

      await page.goto(`${base}/plan`);
      assert.equal((await page.textContent('h1')).trim(), 'Return to activity');

      await page.goto(`${base}/progress`);
      assert.ok((await page.$$('section.chart svg.plot')).length === 3, 'three charts');
      assert.match(await page.textContent('main'), /Return to activity/);
      assert.ok(await page.$(`a[href="/checkin?day=${dayPlus(DAY0, 2)}"]`), 'a logged day links to its correction');
      await review(page, `${mode}-14-progress`, { axe: js });

      await page.goto(`${base}/assessments`);
      await review(page, `${mode}-15-assessments`, { axe: js });
      await page.goto(`${base}/account`);
      await review(page, `${mode}-16-account`, { axe: js });
      const zone = await page.textContent('#tz');
      if (js) {
        assert.match(zone, /Your time zone is Pacific\/Auckland/);
        assert.equal(await page.inputValue('#time_zone'), 'Pacific/Auckland');
      } else {
        assert.match(zone, /You have not set one/);
        // Chosen by hand instead.
        await page.selectOption('#time_zone', 'Pacific/Auckland');
        await Promise.all([page.waitForNavigation(), page.click('#tz button[type=submit]')]);
        assert.match(await page.textContent('#tz'), /Your time zone is saved/);
        assert.match(await page.textContent('#tz'), /Your time zone is Pacific\/Auckland/);
      }
      // A new password: the form names a mistake, then takes the change.
      await page.fill('#current_password', 'a long enough password');
      await page.fill('#new_password', 'a different long password');
      await page.fill('#new_password_again', 'a different long passwort');
      await Promise.all([page.waitForNavigation(), page.click('#password button[type=submit]')]);
      assert.match(await page.textContent('#password'), /Type the same new password twice/);
      await review(page, `${mode}-16c-account-password-error`, { axe: js });
      await page.fill('#current_password', 'a long enough password');
      await page.fill('#new_password', 'a different long password');
      await page.fill('#new_password_again', 'a different long password');
      await Promise.all([page.waitForNavigation(), page.click('#password button[type=submit]')]);
      assert.match(await page.textContent('#password'), /Your password is changed/);
      // A private calendar link for the exercise schedule.
      await Promise.all([page.waitForNavigation(), page.click('text=Make a calendar link')]);
      const url = (await page.textContent('code.url')).trim();
      assert.match(url, /\/calendar\/[0-9a-f]{64}\.ics$/);
      await review(page, `${mode}-16b-account-calendar`, { axe: js });
      const ics = await (await page.request.get(url)).text();
      assert.match(ics, /^BEGIN:VCALENDAR\r\n/);
      assert.match(ics, /RRULE:FREQ=WEEKLY;BYDAY=/);
      assert.match(ics, /BEGIN:VALARM\r\n/);
      // At 18:00 where the person lives (Auckland, told by the browser with
      // JavaScript; the server's zone without).
      if (js) assert.match(ics, /DTSTART;TZID=Pacific\/Auckland:\d{8}T180000\r\n/);
      // Parsed by the icalendar package in scripts/test-all.
      writeFileSync(join(ARTIFACTS, `plan-${mode}.ics`), ics);
      const exported = await page.request.get(`${base}/account/export.json`);
      assert.equal(exported.status(), 200);
      const data = await exported.json();
      assert.equal(data.checkins.length, 3);
      assert.equal(data.checkin_revisions.length, 1, 'the answers the correction replaced are kept');
      assert.equal(data.assessments.length, 1);

      await Promise.all([page.waitForNavigation(), page.click('button.linklike')]);
      await page.goto(`${base}/login`);
      await review(page, `${mode}-17-login`, { axe: js });
      // Back in with the new password.
      await page.fill('#email', `sam-${mode}@example.org`);
      await page.fill('#password', 'a different long password');
      await submit(page);
      assert.match(page.url(), /\/plan$/);
      await ctx.close();
    } finally {
      await browser.close();
      await server.stop();
    }
  });

  test(`urgent journey (${mode}): a pop while sprinting gives advice to see a doctor and no exercises`, async () => {
    const server = await startServer(DAY0);
    const browser = await launch();
    try {
      const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 390, height: 900 } });
      const page = await ctx.newPage();
      await signUp(page, server.base, 'Jo', `jo-${mode}@example.org`);
      await page.fill('#age', '34');
      await page.check('input[name=sports][value=football]');
      await next(page);
      await radio(page, 'onset', 'sudden');
      await page.fill('#days_since_onset', '1');
      await radio(page, 'mechanism', 'sprint');
      await radio(page, 'pop_at_injury', 'yes');
      await next(page);
      for (let i = 3; i <= 9; i++) await next(page);
      assert.equal((await page.textContent('h1')).trim(), 'See a doctor today');
      const text = await page.textContent('main');
      assert.match(text, /Possible hamstring tear/);
      assert.match(text, /rule U6/);
      assert.match(text, /Protect the knee until you are seen/);
      assert.doesNotMatch(text, /See your plan/);
      await review(page, `${mode}-20-result-urgent`, { axe: js });

      await page.goto(`${server.base}/plan`);
      assert.equal((await page.$$('.card.exercise, li.todo')).length, 0, 'no exercises at urgent');
      assert.match(await page.textContent('main'), /No exercise plan for now/);
      await review(page, `${mode}-21-plan-urgent`, { axe: js });
      // Waiting to be seen, the person can still log how they are: the
      // check-in has no exercises, and says what it is for.
      assert.match(await page.textContent('main'), /While you wait to be seen/);
      await page.click('a[href="/checkin"].button');
      assert.match(page.url(), /\/checkin$/);
      assert.equal((await page.textContent('h1')).trim(), 'How are you while you wait?');
      assert.equal(await page.$('input[name=done]'), null, 'no exercises while waiting');
      await review(page, `${mode}-22-checkin-waiting`, { axe: js });
      await radio(page, 'pain_now', 6);
      await radio(page, 'stiffness', 5);
      await submit(page);
      assert.match(page.url(), /\/checkin\/saved\?day=/, await page.textContent('main'));
      assert.match(await page.textContent('main'), /You still need to be seen/);
      await review(page, `${mode}-23-checkin-waiting-saved`, { axe: js });
      await ctx.close();
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}

test('a warning sign ticked in a check-in re-runs triage and replaces the plan', async () => {
  const server = await startServer(DAY0);
  const browser = await launch();
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signUp(page, server.base, 'Lee', 'lee@example.org');
    await page.fill('#age', '45');
    await next(page);
    for (let i = 2; i <= 9; i++) await next(page);
    assert.equal((await page.textContent('h1')).trim(), 'Manage it at home');
    await page.goto(`${server.base}/checkin`);
    await newSigns(page, 'calf_swelling_tenderness');
    await radio(page, 'pain_now', 3);
    await radio(page, 'stiffness', 2);
    await submit(page);
    assert.match(await page.textContent('h1'), /A warning sign: See a doctor today/);
    assert.match(await page.textContent('main'), /Possible blood clot in the leg/);
    await review(page, 'warning-sign-retriage');
    await page.goto(`${server.base}/plan`);
    assert.match(await page.textContent('main'), /No exercise plan for now/);
    await ctx.close();
  } finally {
    await browser.close();
    await server.stop();
  }
});

for (const js of [true, false]) {
  const mode = js ? 'js' : 'nojs';
  test(`the check-in fits two phone screens, warning signs behind one question (${mode})`, async () => {
    const server = await startServer(DAY0);
    const browser = await launch();
    try {
      const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 390, height: 844 } });
      const page = await ctx.newPage();
      await selfCarePatient(page, server.base, 'Kim', `kim-${mode}@example.org`);
      await page.goto(`${server.base}/checkin`);
      await page.screenshot({ path: join(ARTIFACTS, `checkin-phone-${mode}.png`), fullPage: true });
      const tall = await page.evaluate(() => document.documentElement.scrollHeight);
      assert.ok(tall <= 2 * 844, `the check-in is ${tall} px tall at 390 px`);
      assert.equal(await page.isVisible('input[name=sign]'), false, 'the warning signs are folded');
      assert.equal(await page.isVisible('#sleep_hours'), false, 'optional answers are folded');
      for (const span of await page.$$('#f-pain_now .scale-row span')) {
        const box = await span.boundingBox();
        assert.ok(box.width >= 44 && box.height >= 44, `a scale target is ${box.width} x ${box.height}`);
      }

      // "Yes" opens the list (CSS, with or without JavaScript).
      await page.check('input[name=any_new_sign][value=yes]');
      assert.ok(await page.isVisible('input[name=sign][value=calf_swelling_tenderness]'));
      // "Yes" with nothing ticked is asked about, and nothing is saved.
      await radio(page, 'pain_now', 3);
      await radio(page, 'stiffness', 2);
      await submit(page);
      assert.match(await page.textContent('.errorsummary'), /You answered yes: tick which of these is new today/);
      assert.ok(await page.isVisible('input[name=sign]'), 'the list stays open to answer');
      // A sign ticked, then "no": asked about, not acted on, not dropped.
      await page.check('input[name=sign][value=calf_swelling_tenderness]');
      await page.check('input[name=any_new_sign][value=no]');
      await submit(page);
      assert.match(await page.textContent('.errorsummary'), /You answered no, but ticked "One calf swollen, tender, red or warm"/);
      assert.ok(await page.isChecked('input[name=sign][value=calf_swelling_tenderness]'), 'the tick is kept');
      await review(page, `checkin-sign-question-${mode}`, { axe: js });
      await page.goto(`${server.base}/plan`);
      assert.ok((await page.$$('li.todo')).length > 0, 'the plan stands: nothing was acted on');
      // Answered "no" with nothing ticked: saved.
      await page.goto(`${server.base}/checkin`);
      await newSigns(page);
      await radio(page, 'pain_now', 3);
      await radio(page, 'stiffness', 2);
      await submit(page);
      assert.match(page.url(), /\/checkin\/saved\?day=/, await page.textContent('main'));
      await ctx.close();
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}

for (const js of [true, false]) {
  const mode = js ? 'js' : 'nojs';
  test(`the plan opens on today: a checklist whose ticks go into the check-in (${mode})`, async () => {
    const server = await startServer(DAY0);
    const browser = await launch();
    try {
      const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 390, height: 844 } });
      const page = await ctx.newPage();
      await selfCarePatient(page, server.base, 'Ari', `ari-${mode}@example.org`);
      await page.goto(`${server.base}/plan`);
      assert.match(await page.textContent('#today'), /Today, Monday/);
      const items = await page.$$('li.todo');
      assert.ok(items.length >= 2, 'a checklist of today\'s exercises');
      // The day's time is the sum of its items'.
      const total = Number((await page.textContent('.daytotal')).match(/About (\d+) minutes/)[1]);
      const each = await page.$$eval('li.todo:not(.sport) summary .dose', (ds) => ds.map((d) => Number(d.textContent.match(/about (\d+) min/)[1])));
      assert.equal(total, each.reduce((a, b) => a + b, 0));
      const tall = await page.evaluate(() => document.documentElement.scrollHeight);
      assert.ok(tall < 4 * 844, `the plan page is ${tall} px tall`);
      await review(page, `today-01-${mode}`, { axe: js });

      // The first exercise counted in reps (no holds), done once a day.
      const once = '.tools[data-hold="0"]:not([data-reps="0"])[data-sessions="1"]';
      const id = await page.$eval(once, (t) => t.dataset.exercise);
      const sets = await page.$eval(`.tools[data-exercise="${id}"]`, (t) => Number(t.dataset.sets));
      const reps = await page.$eval(`.tools[data-exercise="${id}"]`, (t) => Number(t.dataset.reps));
      const ticked = [id];
      await page.click(`#ex-${id} summary`);
      if (js) {
        // The counter ticks the exercise once its last set is done.
        const tools = `.tools[data-exercise="${id}"]`;
        for (let n = 0; n < sets * reps; n++) {
          assert.equal(await page.isChecked(`#done-${id}`), false, 'not ticked before the last rep');
          await page.click(`${tools} button:has-text("+1 rep")`);
        }
        assert.match(await page.textContent(`${tools} .count`), /^All \d+ sets? done\. Ticked as done for today's check-in\.$/);
        assert.ok(await page.isChecked(`#done-${id}`), 'ticked by the counter');
        await review(page, `today-02-counter-${mode}`);
      } else {
        assert.equal(await page.$(`.tools[data-exercise="${id}"] button`), null, 'no counter without scripts');
        await page.check(`#done-${id}`);
      }
      await Promise.all([page.waitForNavigation(), page.click('.today-list button[type=submit]')]);
      assert.match(page.url(), /\/checkin\?done=/);
      for (const t of ticked) assert.ok(await page.isChecked(`input[name=done][value="${t}"]`), `the tick of ${t} came into the check-in`);
      assert.equal((await page.$$('input[name=done]:checked')).length, ticked.length, 'and only those');
      await newSigns(page);
      await radio(page, 'pain_now', 2);
      await radio(page, 'stiffness', 1);
      await radio(page, 'exercise_pain', 2);
      await submit(page);
      assert.match(page.url(), /\/checkin\/saved\?day=/, await page.textContent('main'));

      // The whole plan is one link away.
      await page.goto(`${server.base}/plan`);
      await Promise.all([page.waitForNavigation(), page.click('a[href="/plan/full"]')]);
      assert.match(await page.textContent('main'), /Other treatment options/);
      await review(page, `today-03-full-plan-${mode}`, { axe: js });
      await ctx.close();
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}

test('an exercise done twice a day is ticked after its second session, kept across visits', async () => {
  const server = await startServer(DAY0);
  const browser = await launch();
  try {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await ctx.newPage();
    await signUp(page, server.base, 'Bo', 'bo@example.org');
    // Pain 5 now: the plan starts by getting the knee moving (mobilise),
    // whose heel slides are done twice a day.
    await page.fill('#age', '30');
    await next(page);
    await next(page);
    await page.fill('#pain_now', '5');
    await next(page);
    for (let i = 4; i <= 9; i++) await next(page);
    await page.goto(`${server.base}/plan`);
    const two = await page.$eval('.tools[data-hold="0"]:not([data-reps="0"])[data-sessions="2"]', (t) => t.dataset.exercise);
    const tools = `.tools[data-exercise="${two}"]`;
    const n = await page.$eval(tools, (t) => Number(t.dataset.sets) * Number(t.dataset.reps));
    await page.click(`#ex-${two} summary`);
    for (let i = 0; i < n; i++) await page.click(`${tools} button:has-text("+1 rep")`);
    assert.match(await page.textContent(`${tools} .count`), /Session 1 of 2 done today/);
    assert.equal(await page.isChecked(`#done-${two}`), false, 'not ticked after one of two sessions');
    // The folded card says so too.
    assert.match(await page.textContent(`#ex-${two} summary .dose`), /1 of 2 done$/);
    await review(page, 'today-04-first-of-two');
    // A tick by hand is kept for the day as well.
    const other = await page.$eval(`input[name=done]:not([value="${two}"])`, (b) => b.value);
    await page.check(`#done-${other}`);
    // Later, the page opened again: the first session is remembered.
    await page.reload();
    assert.equal(await page.textContent(`${tools} .count`), 'Session 1 of 2 done today.');
    await page.click(`#ex-${two} summary`);
    for (let i = 0; i < n; i++) await page.click(`${tools} button:has-text("+1 rep")`);
    assert.match(await page.textContent(`${tools} .count`), /All 2 sessions done today\. Ticked as done/);
    assert.ok(await page.isChecked(`#done-${two}`), 'ticked after the second session');
    await page.reload();
    assert.ok(await page.isChecked(`#done-${two}`), 'still ticked when the page is opened again');
    assert.ok(await page.isChecked(`#done-${other}`), 'the tick by hand too');
    // "Start over" takes the last session back.
    await page.click(`#ex-${two} summary`);
    await page.click(`${tools} button:has-text("Start over")`);
    assert.equal(await page.isChecked(`#done-${two}`), false);
    await page.reload();
    assert.equal(await page.textContent(`${tools} .count`), 'Session 1 of 2 done today.');
  } finally {
    await browser.close();
    await server.stop();
  }
});
