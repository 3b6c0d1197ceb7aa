// The browser check: builds tests/browser/page.tsx with esbuild (Grafana's UI, Monaco included), serves it with
// Grafana's icons over HTTP, opens it in headless Chromium (Debian's, see the README) and uses the editors as a
// person would, in both themes and at two widths, saving screenshots under .cache/browser.
import { build } from 'esbuild';
import { createReadStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, '.cache/browser');
const icons = join(root, 'node_modules/@grafana/ui/dist/public/img/icons');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(root, 'tests/browser/page.tsx')],
  bundle: true,
  outfile: join(out, 'page.js'),
  format: 'iife',
  define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
  loader: { '.svg': 'text', '.woff2': 'empty', '.woff': 'empty', '.ttf': 'file', '.png': 'empty' },
  logLevel: 'error',
});
writeFileSync(
  join(out, 'index.html'),
  '<!doctype html><html><head><link rel="stylesheet" href="page.css"><script>window.__grafana_public_path__ = "/public/";</script></head>' +
    '<body><div id="root"></div><script src="page.js"></script></body></html>'
);

// The page and its assets, and Grafana's icons where Grafana serves them (public/build/img/icons).
const types = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.ttf': 'font/ttf',
};
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://page').pathname);
  const file = path.startsWith('/public/build/img/icons/')
    ? join(icons, normalize(path.slice('/public/build/img/icons/'.length)))
    : join(out, normalize(path === '/' ? '/index.html' : path));
  if (!(file.startsWith(icons) || file.startsWith(out)) || !existsSync(file)) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const base = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const page = await browser.newPage({ viewport: { width: 1600, height: 1400 } });
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
await page.goto(base);

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message.split('\n').slice(0, 12).join('\n')}`);
  }
}
const state = async (id) => JSON.parse(await page.getByTestId(`${id}-state`).textContent());
const expectTrue = (cond, message) => {
  if (!cond) {
    throw new Error(message);
  }
};
// eventually waits for an editor's state to satisfy ok, as a busy machine may take a while to render.
const eventually = async (id, ok, message) => {
  let s;
  for (const deadline = Date.now() + 15000; Date.now() < deadline; await page.waitForTimeout(50)) {
    s = await state(id);
    if (ok(s)) {
      return;
    }
  }
  throw new Error(message(s));
};
const query = page.locator('#query');
const shot = (locator, name) => locator.screenshot({ path: join(out, `${name}.png`) });

await check(
  'the config editor shows the region, credentials, the permissions to grant, and bad input in place',
  async () => {
    await page.getByText('READ on org.audits', { exact: false }).first().waitFor({ timeout: 10000 });
    await page.getByPlaceholder('ABCD1234').fill('abcd 1234!');
    await page.getByText('Letters and digits only, e.g. ABCD1234.').waitFor();
    await page.getByPlaceholder('ABCD1234').fill('ORG12345');
    expectTrue((await state('config')).jsonData.orgKey === 'ORG12345', 'the org key did not reach the settings');
    await shot(page.locator('#config'), 'config-editor');
  }
);

await check('builder: three filters, values from the suggestions', async () => {
  await query.getByRole('button', { name: 'Add filter' }).click();
  await query.getByRole('combobox', { name: 'Actor values' }).click();
  await page.getByText('bob.analyst@acme.example').click();
  await page.keyboard.press('Escape');
  await eventually(
    'query',
    (s) => s.query.criteria?.actor?.[0] === 'bob.analyst@acme.example',
    (s) => `criteria ${JSON.stringify(s.query.criteria)}`
  );
  await query.getByRole('button', { name: 'Add filter' }).click();
  await query.getByRole('combobox', { name: 'Filter 2 operator' }).click();
  await page.getByRole('option', { name: /^is not/ }).click();
  await query.getByRole('combobox', { name: 'Actor IP values' }).click();
  await page.getByText('203.0.113.10').click();
  await page.keyboard.press('Escape');
  await query.getByRole('button', { name: 'Add filter' }).click();
  await query.getByRole('combobox', { name: 'Description values' }).fill('Login failed');
  await page
    .getByRole('option', { name: /Login failed/ })
    .first()
    .click();
  await page.keyboard.press('Escape');
  await eventually(
    'query',
    (s) =>
      s.query.exclusions?.actor_ip?.[0] === '203.0.113.10' && s.query.criteria?.description?.[0] === 'Login failed',
    (s) => `filters ${JSON.stringify([s.query.criteria, s.query.exclusions])}`
  );
  // Each row still shows what it was made as: rows do not jump or swap their operators as they fill.
  const shown = [];
  for (const n of [1, 2, 3]) {
    for (const part of ['field', 'operator']) {
      shown.push(await query.getByRole('combobox', { name: `Filter ${n} ${part}` }).inputValue());
    }
  }
  expectTrue(
    JSON.stringify(shown) === JSON.stringify(['Actor', 'is', 'Actor IP', 'is not', 'Description', 'is']),
    `rows show ${JSON.stringify(shown)}`
  );
  // One height for every control of a row, so rows line up.
  const heights = [];
  for (const control of [
    query.getByRole('combobox', { name: 'Filter 1 field' }).locator('xpath=..'),
    query.getByRole('combobox', { name: 'Filter 1 operator' }).locator('xpath=..'),
    query.locator('div[title="bob.analyst@acme.example"]'),
  ]) {
    heights.push(Math.round((await control.boundingBox()).height));
  }
  expectTrue(new Set(heights).size === 1, `a row's controls are ${heights.join(', ')} px high`);
  await shot(query, 'builder-three-filters');
});

await check('builder → code → builder keeps every filter', async () => {
  const before = (await state('query')).query;
  await query.getByRole('radio', { name: 'Code' }).click();
  await query.getByText(/The builder's filters also apply/).waitFor();
  await query.getByRole('radio', { name: 'Builder' }).click();
  await query.getByRole('combobox', { name: 'Filter 3 field' }).waitFor();
  const after = (await state('query')).query;
  expectTrue(
    JSON.stringify([after.criteria, after.exclusions]) === JSON.stringify([before.criteria, before.exclusions]),
    `filters changed: ${JSON.stringify([before, after])}`
  );
});

await check('code: typing actor: completes a value from the backend', async () => {
  await query.getByRole('radio', { name: 'Code' }).click();
  const editor = query.locator('.monaco-editor').first();
  await editor.waitFor({ timeout: 20000 });
  await editor.click();
  await page.keyboard.type('actor:');
  const suggestion = page.locator('.suggest-widget .monaco-list-row', { hasText: 'alice.admin@acme.example' });
  await suggestion.waitFor({ timeout: 10000 });
  await shot(query, 'code-completion');
  await suggestion.click();
  const runs = (await state('query')).runs;
  await query.getByRole('button', { name: /Run query/ }).click();
  await eventually(
    'query',
    (s) => s.query.query === 'actor:alice.admin@acme.example' && s.runs > runs,
    (s) => `query ${JSON.stringify(s)}`
  );
});

await check('code: a syntax error shows in place and the query does not run', async () => {
  const editor = query.locator('.monaco-editor').first();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('description:"Login');
  await query.getByRole('alert').filter({ hasText: 'A quoted phrase is not closed' }).waitFor();
  await query.locator('.squiggly-error').first().waitFor({ timeout: 10000 });
  const runs = (await state('query')).runs;
  await page.keyboard.press('Shift+Enter');
  await page.waitForTimeout(200);
  expectTrue((await state('query')).runs === runs, 'a query with a syntax error ran');
  await shot(query, 'code-syntax-error');
  // A long query wraps onto more lines instead of being cut off.
  await page.keyboard.press('Control+A');
  await page.keyboard.type(
    `description:"Login failed" AND NOT actor_ip:(${Array.from({ length: 12 }, (_, i) => `10.0.0.${i}`).join(' OR ')})`
  );
  expectTrue((await query.locator('.view-line').count()) > 1, 'a long query stays on one cut-off line');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('description:"Login failed"');
  await page.keyboard.press('Shift+Enter');
  await eventually(
    'query',
    (s) => s.query.query === 'description:"Login failed"' && s.runs > runs,
    (s) => `query ${JSON.stringify(s)}`
  );
});

await check('code: >=now/d is marked with its fix, and the fix applies', async () => {
  const editor = query.locator('.monaco-editor').first();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('create_time:>=now/d');
  await query.getByRole('alert').filter({ hasText: 'must be escaped' }).waitFor();
  await query.locator('.squiggly-error').first().waitFor({ timeout: 10000 });
  await shot(query, 'code-quick-fix');
  await query.getByRole('button', { name: 'Escape the / as \\/' }).click();
  await editor.click();
  await page.keyboard.press('Shift+Enter');
  await eventually('query', (s) => s.query.query === 'create_time:>=now\\/d', (s) => `query ${JSON.stringify(s)}`);
});

await check('options: an invalid limit is refused in place', async () => {
  await query.getByText('Options', { exact: true }).click();
  await query.locator('#query-limit').fill('999999');
  await query.getByText(/Limit must be a whole number from 1 to 200000/).waitFor();
  await shot(query, 'options-invalid-limit');
  await query.locator('#query-limit').fill('500');
  await query.locator('#query-limit').press('Enter');
  await eventually(
    'query',
    (s) => s.query.limit === 500,
    (s) => `limit ${s.query.limit}`
  );
});

await check('export: a progress bar, then the download, and another start only as a secondary action', async () => {
  await query.getByRole('button', { name: 'Export' }).click();
  await query.getByText('JSON', { exact: true }).waitFor();
  await query.getByRole('button', { name: 'Start export' }).click();
  await query.getByRole('progressbar', { name: 'Export progress' }).waitFor({ timeout: 10000 });
  await shot(query, 'export-progress');
  await query.getByText('Download 495,315 events (CSV)').waitFor({ timeout: 10000 });
  await query.getByRole('button', { name: 'Start another export' }).waitFor();
  await shot(query, 'export-done');
});

await check('alerting: a count, no live queue, no export', async () => {
  const alerting = page.locator('#alerting');
  await alerting.getByText('Count over time').waitFor();
  expectTrue((await alerting.getByText('Live queue').count()) === 0, 'the live queue is offered in an alert rule');
  expectTrue(
    (await alerting.getByRole('button', { name: 'Export' }).count()) === 0,
    'export is offered in an alert rule'
  );
  await shot(alerting, 'alerting');
});

await check('both themes at 600 px and 1600 px render without errors', async () => {
  for (const theme of ['dark', 'light']) {
    for (const width of [600, 1600]) {
      await page.setViewportSize({ width, height: 1400 });
      await page.goto(`${base}?theme=${theme}`);
      await page.getByText('READ on org.audits', { exact: false }).first().waitFor({ timeout: 10000 });
      const icons = await page.locator('#query svg').count();
      expectTrue(icons > 0, `no icon rendered (${theme}, ${width} px)`);
      await page.screenshot({ path: join(out, `editors-${theme}-${width}.png`), fullPage: true });
    }
  }
});

await check('the page raised no errors', async () => {
  expectTrue(errors.length === 0, errors.join('; '));
});

await browser.close();
server.close();
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
