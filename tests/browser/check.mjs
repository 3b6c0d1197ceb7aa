// The browser check: builds tests/browser/page.tsx with esbuild, opens it in headless Chromium (Debian's, see
// the README) and uses the editors as a person would, saving screenshots under .cache/browser.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, '.cache/browser');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(root, 'tests/browser/page.tsx')],
  bundle: true,
  outfile: join(out, 'page.js'),
  format: 'iife',
  define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
  loader: { '.svg': 'text', '.woff2': 'empty', '.woff': 'empty', '.ttf': 'empty', '.png': 'empty' },
  logLevel: 'error',
});
writeFileSync(
  join(out, 'index.html'),
  '<!doctype html><html><body style="margin:0"><div id="root"></div><script src="page.js"></script></body></html>'
);

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
const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
await page.goto(pathToFileURL(join(out, 'index.html')).href);

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
const state = async () => JSON.parse(await page.getByTestId('state').textContent());
const expectTrue = (cond, message) => {
  if (!cond) {
    throw new Error(message);
  }
};
// eventually waits for the editor's state to satisfy ok, as a busy machine may take a while to render.
const eventually = async (ok, message) => {
  let s;
  for (const deadline = Date.now() + 15000; Date.now() < deadline; await page.waitForTimeout(50)) {
    s = await state();
    if (ok(s)) {
      return;
    }
  }
  throw new Error(message(s));
};

await check('the config editor shows the region, credentials and the permissions to grant', async () => {
  await page.getByText('READ on org.audits', { exact: false }).first().waitFor({ timeout: 10000 });
  await page.getByPlaceholder('ABCD1234').fill('ORG12345');
  expectTrue((await state()).jsonData.orgKey === 'ORG12345', 'the org key did not reach the settings');
  await page.locator('#config').screenshot({ path: join(out, 'config-editor.png') });
});

await check('typing a query runs it on Enter', async () => {
  const input = page.getByLabel('Query', { exact: true });
  await input.fill('description:"Login failed"');
  expectTrue((await state()).runs === 0, 'the query ran while typing');
  await input.press('Enter');
  const s = await state();
  expectTrue(s.query.query === 'description:"Login failed"' && s.runs === 1, `query state ${JSON.stringify(s)}`);
});

await check('an actor chip is added from the suggestions', async () => {
  await page.locator('#criteria-actor').click();
  await page.getByText('bob.analyst@acme.example').click();
  await eventually(
    (s) => s.query.criteria?.actor?.[0] === 'bob.analyst@acme.example',
    (s) => `criteria ${JSON.stringify(s.query.criteria)}`
  );
  await page.keyboard.press('Escape');
});

await check('the export action offers a format, follows progress and offers the download', async () => {
  await page.getByRole('button', { name: 'Export' }).click();
  await page.getByText('JSON', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Start export' }).click();
  await page.getByText('Download 1200 events (CSV)').waitFor({ timeout: 10000 });
  await page.locator('#query').screenshot({ path: join(out, 'query-editor-export.png') });
});

await check('switching to a count shows group by and interval', async () => {
  await page.getByRole('radio', { name: 'Count over time' }).click();
  await page.getByText('Group by').waitFor();
  expectTrue((await state()).query.queryType === 'count', 'the query type did not change');
  await page.locator('#query').screenshot({ path: join(out, 'query-editor-count.png') });
});

await check('the page raised no errors', async () => {
  expectTrue(errors.length === 0, errors.join('; '));
});

await page.screenshot({ path: join(out, 'editors.png'), fullPage: true });
await browser.close();
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
