// Several stateless instances on one PostgreSQL database: a session made on
// one instance works on the other, and so does everything it saved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './helpers.mjs';

const PG = process.env.KNEEPATH_TEST_PG_URL;

function cookieFrom(res, name) {
  const c = res.headers.getSetCookie().find((x) => x.startsWith(`${name}=`));
  return c ? c.split(';')[0] : null;
}

function csrfIn(html) {
  const m = html.match(/name="csrf" value="([^"]+)"/);
  return m ? m[1] : null;
}

async function form(url, cookie, body) {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams(body).toString(),
  });
}

test('two instances on one PostgreSQL database serve one session alternately',
  { skip: PG ? false : 'KNEEPATH_TEST_PG_URL is not set (scripts/test-all starts a PostgreSQL server)' },
  async () => {
    const a = await startServer('2026-11-02', { database: PG });
    const b = await startServer('2026-11-02', { database: PG });
    try {
      // Sign up on A.
      const page = await fetch(`${a.base}/signup`);
      const anon = cookieFrom(page, 'kp_csrf');
      const email = `two-${Date.now()}@example.org`;
      const signup = await form(`${a.base}/signup`, anon, {
        csrf: csrfIn(await page.text()), display_name: 'Two', email, password: 'a long enough password',
      });
      assert.equal(signup.status, 303);
      const session = cookieFrom(signup, 'kp_session');
      assert.ok(session);

      // B knows the session, and saves an answer.
      const plan = await fetch(`${b.base}/plan`, { headers: { cookie: session }, redirect: 'manual' });
      assert.equal(plan.status, 200);
      assert.match(await plan.text(), /Start the assessment/);
      const account = await (await fetch(`${b.base}/account`, { headers: { cookie: session } })).text();
      const csrf = csrfIn(account);
      const step = await form(`${b.base}/assess/1`, session, { csrf, nav: 'next', age: '41' });
      assert.equal(step.status, 303);
      assert.equal(step.headers.get('location'), '/assess/2');

      // A sees the answer B saved.
      const back = await (await fetch(`${a.base}/assess/1`, { headers: { cookie: session } })).text();
      assert.match(back, /id="age" name="age"[^>]*value="41"/);

      // Logging out on A ends the session on B too.
      const out = await form(`${a.base}/logout`, session, { csrf });
      assert.equal(out.status, 303);
      const after = await fetch(`${b.base}/plan`, { headers: { cookie: session }, redirect: 'manual' });
      assert.equal(after.status, 303);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
