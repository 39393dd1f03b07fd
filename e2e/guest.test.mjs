// The assessment before an account, in the browser: from the home page,
// without an account, through the questions to the result; then an account
// made from the result keeps it (and opens the plan), or the answers are
// deleted at once. With JavaScript on and off; axe and screenshots of the
// new pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, review, next } from './helpers.mjs';

const DAY0 = '2026-11-02';

async function click(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

/** From the home page, without an account, to a self-care result. */
async function answerAsGuest(page, base, shots) {
  await page.goto(base);
  await click(page, 'main a.button:has-text("Start the assessment")');
  assert.equal((await page.textContent('h1')).trim(), 'Start the assessment');
  if (shots) await review(page, 'guest-01-start');
  await click(page, 'button:has-text("Start without an account")');
  assert.match(page.url(), /\/assess\/1$/);
  // A guest's header: log in, leave (deleting the answers) or sign up; no
  // patient navigation.
  assert.equal(await page.locator('header a[href="/plan"]').count(), 0);
  assert.equal(await page.locator('header a[href="/guest/delete"]').count(), 1);
  assert.equal(await page.locator('header a[href="/login"]').count(), 1);
  await page.fill('#age', '30');
  await next(page);
  for (let i = 2; i <= 9; i++) await next(page);
  assert.equal((await page.textContent('h1')).trim(), 'Manage it at home');
  const id = page.url().match(/\/assessments\/([0-9a-f]+)/)[1];
  return id;
}

for (const js of [true, false]) {
  const mode = js ? 'js' : 'nojs';

  test(`a guest's assessment is kept by the account made from its result (${mode})`, async () => {
    const server = await startServer(DAY0);
    const browser = await launch();
    try {
      const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 390, height: 844 } });
      const page = await ctx.newPage();
      const id = await answerAsGuest(page, server.base, js);
      const keep = page.locator('section.keep');
      assert.match(await keep.textContent(), /deleted on \d{4}-\d{2}-\d{2} \d{2}:\d{2} \([^ )]+ time\) unless you create an account/);
      assert.equal(await page.locator('main a[href="/plan"]').count(), 0);
      if (js) await review(page, 'guest-02-result');

      // The plan asks for an account first.
      await page.goto(`${server.base}/plan`);
      assert.match(page.url(), /\/signup\?next=(%2F|\/)plan$/);

      await page.goto(`${server.base}/assessments/${id}`);
      await click(page, 'section.keep a.button');
      assert.match(await page.textContent('main'), /will be kept in this account/);
      if (js) await review(page, 'guest-03-signup');
      await page.fill('#display_name', 'Gus');
      await page.fill('#email', `gus-${mode}@example.org`);
      await page.fill('#password', 'a long enough password');
      await click(page, 'form.form button[type=submit]');
      // Back on the same result, now in the account.
      assert.ok(page.url().endsWith(`/assessments/${id}`), page.url());
      assert.equal(await page.locator('section.keep').count(), 0);
      assert.match(await page.textContent('header'), /Gus/);
      await click(page, 'main a[href="/plan"]');
      assert.match(page.url(), /\/plan$/);
      await page.goto(`${server.base}/assessments`);
      assert.equal(await page.locator(`main a[href="/assessments/${id}"]`).count(), 1);

      // The account logs in again later with the email and password.
      await ctx.clearCookies();
      await page.goto(`${server.base}/login`);
      await page.fill('#email', `gus-${mode}@example.org`);
      await page.fill('#password', 'a long enough password');
      await click(page, 'form.form button[type=submit]');
      await page.goto(`${server.base}/assessments/${id}`);
      assert.equal((await page.textContent('h1')).trim(), 'Manage it at home');
    } finally {
      await browser.close();
      server.stop();
    }
  });
}

test('a guest deletes the answers, from the result or the header, after a confirmation', async () => {
  const server = await startServer(DAY0);
  const browser = await launch();
  try {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const id = await answerAsGuest(page, server.base, false);
    await click(page, 'a:has-text("Delete my answers now")');
    // A confirmation first: a tap by mistake deletes nothing.
    assert.equal((await page.textContent('h1')).trim(), 'Delete your answers?');
    await review(page, 'guest-04-confirm');
    await click(page, 'button:has-text("Delete my answers and leave")');
    assert.match(await page.textContent('main'), /Your answers and their result have been deleted/);
    await review(page, 'guest-05-deleted');
    await page.goto(`${server.base}/assessments/${id}`);
    // No session any more: back to the start.
    assert.match(page.url(), /\/assess$/);
    // Halfway through the questions, the header's button does the same.
    await click(page, 'button:has-text("Start without an account")');
    await page.fill('#age', '30');
    await next(page);
    await page.goto(server.base);
    assert.match(await page.textContent('main'), /Continue your answers/);
    await click(page, 'header a:has-text("Leave")');
    await click(page, 'button:has-text("Delete my answers and leave")');
    assert.match(await page.textContent('main'), /Your answers and their result have been deleted/);
    await page.goto(`${server.base}/assess/2`);
    assert.match(page.url(), /\/assess$/);
  } finally {
    await browser.close();
    server.stop();
  }
});
