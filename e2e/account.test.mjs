// Account basics in the browser: "Forgot your password?" sends a link by
// email (to a local SMTP sink, scripts/smtp-sink.py) that sets a new
// password once; without SMTP the page says to ask the clinic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, review, startSmtpSink, mailText, signUpAs, selfCarePatient } from './helpers.mjs';

const DAY0 = '2026-11-02';

async function submit(page, selector = 'form.form button[type=submit]') {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

test('a forgotten password is set again with a link sent by email', async () => {
  const sink = await startSmtpSink();
  const server = await startServer(DAY0, { args: (base) => ['--smtp-url', sink.url, '--public-url', base] });
  const browser = await launch();
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signUpAs(page, server.base, 'Robin', 'robin@example.org', 'my first long password');
    await submit(page, 'header button.linklike');

    await page.goto(`${server.base}/login`);
    await Promise.all([page.waitForNavigation(), page.click('text=Forgot your password?')]);
    assert.equal((await page.textContent('h1')).trim(), 'Forgot your password?');
    await review(page, 'account-01-forgot');
    await page.fill('#email', 'robin@example.org');
    await submit(page);
    assert.match(await page.textContent('main'), /an email with a link to set a new password is on its way/);
    await review(page, 'account-02-forgot-sent');

    const mail = mailText(await sink.waitFor(1));
    assert.match(mail, /^To: robin@example\.org/m);
    const link = mail.match(/(http:\/\/127\.0\.0\.1:\d+\/reset\/[0-9a-f]+)/)[1];
    assert.ok(link.startsWith(server.base), link);
    await page.goto(link);
    assert.equal((await page.textContent('h1')).trim(), 'Set a new password');
    await page.fill('#new_password', 'my second long password');
    await page.fill('#new_password_again', 'my second long password');
    await submit(page);
    assert.match(await page.textContent('main'), /Your new password is set/);
    await page.fill('#email', 'robin@example.org');
    await page.fill('#password', 'my second long password');
    await submit(page);
    assert.doesNotMatch(page.url(), /\/login/, 'logged in with the new password');
    // The link works once.
    await page.context().clearCookies();
    await page.goto(link);
    assert.equal((await page.textContent('h1')).trim(), 'This link no longer works');
    await ctx.close();
  } finally {
    await browser.close();
    await server.stop();
    await sink.stop();
  }
});

test('without email the forgotten-password page says to ask the clinic', async () => {
  const server = await startServer(DAY0, { args: ['--contact', 'Knee Clinic, 01234 567890'] });
  const browser = await launch();
  try {
    const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    await page.goto(`${server.base}/password/forgot`);
    const text = await page.textContent('main');
    assert.match(text, /does not send email/);
    assert.match(text, /Knee Clinic, 01234 567890/);
    assert.equal(await page.$('input[name=email]'), null);
    await review(page, 'account-03-forgot-no-email');
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('a check-in reminder reaches the mail sink at the chosen time (test clock)', async () => {
  const sink = await startSmtpSink();
  // The server's clock starts at 17:59:35 UTC and runs on.
  const start = Date.parse('2026-11-02T17:59:35Z');
  const server = await startServer(null, {
    args: (base) => ['--smtp-url', sink.url, '--public-url', base, '--now', new Date(start).toISOString()],
  });
  const began = Date.now();
  const fakeNow = () => start + (Date.now() - began);
  const browser = await launch();
  try {
    const ctx = await browser.newContext({ timezoneId: 'UTC', viewport: { width: 390, height: 844 } });
    const page = await ctx.newPage();
    await selfCarePatient(page, server.base, 'Sam', 'sam@example.org');

    await page.goto(`${server.base}/account#reminder`);
    assert.match(await page.textContent('#reminder'), /where you live \(UTC\)/);
    await page.check('input[name=reminder]');
    await page.fill('#reminder_time', '18:00');
    await submit(page, '#reminder button[type=submit]');
    assert.match(await page.textContent('#reminder'), /a reminder comes at 18:00 each day/);
    await review(page, 'account-04-reminder');
    if (fakeNow() < Date.parse('2026-11-02T18:00:00Z') - 1000) {
      assert.equal(sink.mails().length, 0, 'nothing before 18:00');
    }
    const mail = mailText(await sink.waitFor(1, 60000));
    assert.ok(fakeNow() >= Date.parse('2026-11-02T18:00:00Z') - 1000, 'sent at 18:00 or after');
    assert.match(mail, /^To: sam@example\.org/m);
    assert.match(mail, /Time for today's kneepath check-in/);
    assert.ok(mail.includes(`${server.base}/checkin`), mail);
    await ctx.close();
  } finally {
    await browser.close();
    await server.stop();
    await sink.stop();
  }
});
