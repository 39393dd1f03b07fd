// A real FHIR form renderer: NLM's LHC-Forms (npm `lforms`) in headless
// Chromium renders kneepath's assessment Questionnaire, evaluates its
// enableWhen, and produces the QuestionnaireResponse for each dev case; the
// response is imported through the JSON API and must give the case's
// expected triage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launch, BIN, ARTIFACTS } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const LFORMS_VERSION = '40.1.3';
const CASES = process.env.KNEEPATH_CASES || join(here, '..', '..', 'shared', 'cases', 'dev');

/** The LHC-Forms distribution (the package tarball only: its built files
 * need none of its dependencies). */
function lforms() {
  const dir = join(here, '.lforms');
  const dist = join(dir, 'package', 'dist', 'lforms');
  if (!existsSync(join(dist, 'webcomponent', 'lhc-forms.js'))) {
    mkdirSync(dir, { recursive: true });
    const tgz = execFileSync('npm', ['pack', `lforms@${LFORMS_VERSION}`, '--pack-destination', dir, '--silent'],
      { encoding: 'utf8' }).trim().split('\n').pop();
    execFileSync('tar', ['xzf', join(dir, tgz), '-C', dir]);
  }
  return dist;
}

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>LHC-Forms</title>
<link rel="stylesheet" href="/lforms/webcomponent/styles.css">
</head><body><main><div id="form"></div></main>
<script src="/lforms/webcomponent/assets/lib/zone.min.js"></script>
<script src="/lforms/webcomponent/lhc-forms.js"></script>
<script src="/lforms/fhir/R4/lformsFHIR.min.js"></script>
</body></html>`;

const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.html': 'text/html' };

function staticServer(dist) {
  return new Promise((resolve) => {
    const s = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(PAGE);
        return;
      }
      const file = join(dist, path.replace(/^\/lforms\//, ''));
      if (!path.startsWith('/lforms/') || file.includes('..') || !existsSync(file)) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
      res.end(readFileSync(file));
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

test('LHC-Forms renders the assessment Questionnaire with enableWhen, and its responses import with the expected triage', async () => {
  const dist = lforms();
  const web = await staticServer(dist);
  const server = await startServer('2026-11-24');
  const run = (args, input) => execFileSync(BIN, args, { encoding: 'utf8', input });
  run(['user', 'add', '--database', server.database, '--email', 'lf@example.org', '--name', 'LF', '--role', 'patient', '--password-stdin'], 'a long enough password');
  const token = run(['user', 'token', '--database', server.database, '--email', 'lf@example.org', '--name', 'lforms', '--scope', 'write']).trim();
  const questionnaire = JSON.parse(run(['fhir', 'questionnaire']));
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${web.address().port}/`);
    await page.waitForFunction(() => window.LForms && window.LForms.Util && LForms.FHIR);

    // enableWhen: the swelling-timing question shows only after swelling.
    const all = questionnaire.item.flatMap((g) => g.item);
    const hoursText = all.find((i) => i.linkId === 'swelling_within_hours').text;
    const render = (qr) => page.evaluate(async ({ q, qr }) => {
      let lf = LForms.Util.convertFHIRQuestionnaireToLForms(q, 'R4');
      if (qr) lf = LForms.Util.mergeFHIRDataIntoLForms('QuestionnaireResponse', qr, lf, 'R4');
      await LForms.Util.addFormToPage(lf, 'form');
      return LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4', document.getElementById('form'));
    }, { q: questionnaire, qr });
    await render(null);
    const ageText = all.find((i) => i.linkId === 'age').text;
    assert.ok((await page.textContent('#form')).includes(ageText), 'the form rendered');
    assert.ok(!(await page.textContent('#form')).includes(hoursText), 'hidden until there is swelling');
    // Policy v2: the pop question is asked whatever the onset (R8).
    const popText = all.find((i) => i.linkId === 'pop_at_injury').text;
    assert.ok((await page.textContent('#form')).includes(popText), 'the pop question is always asked');
    // Choose "mild swelling" in the form itself, as a person would.
    const swelling = page.locator('input[id="swelling/1/1"]');
    await swelling.click();
    await page.click('li:has-text("Mild swelling")');
    await page.waitForFunction((t) => document.querySelector('#form').textContent.includes(t), hoursText);
    await page.screenshot({ path: join(ARTIFACTS, 'lforms-assessment.png'), fullPage: false });

    // Every dev case: our response merged into the form, the form's own
    // response imported through the API.
    const files = readdirSync(CASES).filter((f) => f.endsWith('.toml')).sort();
    assert.ok(files.length > 0);
    let checked = 0;
    for (const f of files) {
      const text = readFileSync(join(CASES, f), 'utf8');
      const expected = text.match(/^triage\s*=\s*"([a-z_]+)"/m)?.[1];
      const ours = JSON.parse(run(['fhir', 'response', '--facts', join(CASES, f)]));
      const theirs = await render(ours);
      assert.equal(theirs.resourceType, 'QuestionnaireResponse');
      const res = await fetch(`${server.base}/api/v1/fhir/QuestionnaireResponse`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
        body: JSON.stringify(theirs),
      });
      const body = await res.json();
      if (checked === 0) writeFileSync(join(ARTIFACTS, `lforms-${f.replace('.toml', '')}-response.json`), JSON.stringify(theirs, null, 2));
      assert.equal(res.status, 201, `${f}: ${JSON.stringify(body)}`);
      if (expected) assert.equal(body.assessments[0].level, expected, `${f}: triage from the LHC-Forms response`);
      checked++;
    }
    assert.deepEqual(errors, [], 'no script errors in the page');
    console.log(`# LHC-Forms ${LFORMS_VERSION}: ${checked} dev cases rendered, answered and imported with the expected triage`);
  } finally {
    await browser.close();
    await server.stop();
    web.close();
  }
});
