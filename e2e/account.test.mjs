// Account basics in the browser: "Forgot your password?" sends a link by
// email (to a local SMTP sink, scripts/smtp-sink.py) that sets a new
// password once; without SMTP the page says to ask the clinic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, review, startSmtpSink, mailText } from './helpers.mjs';

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
    await page.goto(`${server.base}/signup`);
    await page.fill('#display_name', 'Robin');
    await page.fill('#email', 'robin@example.org');
    await page.fill('#password', 'my first long password');
    await submit(page);
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
