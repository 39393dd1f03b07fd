// The about and privacy pages: open to anyone, linked from every page's
// footer, with the emergency number as a tel: link; axe-core and
// screenshots at phone and desktop widths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, review } from './helpers.mjs';

test('about and privacy pages, open to anyone and linked from the footer', async () => {
  const server = await startServer('2026-11-02');
  const browser = await launch();
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    // Every page's footer, error pages too, calls the number by a tap.
    for (const path of ['/', '/login', '/no-such-page']) {
      await page.goto(`${server.base}${path}`);
      assert.equal(await page.getAttribute('footer a[href^="tel:"]', 'href'), 'tel:112', path);
    }
    await page.goto(`${server.base}/`);
    await page.click('footer a[href="/about"]');
    assert.equal((await page.textContent('h1')).trim(), 'About kneepath');
    const about = await page.textContent('main');
    assert.match(about, /Not a diagnosis/);
    assert.match(about, /version 2 of/);
    assert.ok(await page.$('main a[href^="tel:"]'), 'the emergency number is a tel: link');
    assert.ok((await page.$$('ol.sources li')).length > 10, 'the sources are listed');
    await review(page, 'info-01-about');
    await page.click('footer a[href="/privacy"]');
    assert.equal((await page.textContent('h1')).trim(), 'Privacy');
    assert.match(await page.textContent('main'), /How long it is kept/);
    await review(page, 'info-02-privacy');
    await ctx.close();
  } finally {
    await browser.close();
    await server.stop();
  }
});
