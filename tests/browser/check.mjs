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

const editorText = async () =>
  (await query.locator('.monaco-editor .view-lines').first().innerText()).replace(/\s+/g, ' ');

/** Every scenario, on a fresh page in one theme at one width; screenshots are named after both. */
async function scenarios(theme, width) {
  const tag = `${theme}-${width}`;
  await page.setViewportSize({ width, height: 1400 });
  await page.goto(`${base}?theme=${theme}`);
  const named = (name) => `${name} (${tag})`;
  const shotAs = (locator, name) => shot(locator, `${name}-${tag}`);

  await check(named('the config editor checks the org key in place, and the URL once it is left'), async () => {
    await page.getByText('READ on org.audits', { exact: false }).first().waitFor({ timeout: 10000 });
    await page.getByPlaceholder('ABCD1234').fill('abcd 1234!');
    await page.getByText('Letters and digits only, e.g. ABCD1234.').waitFor();
    await page.getByPlaceholder('ABCD1234').fill('ORG12345');
    expectTrue((await state('config')).jsonData.orgKey === 'ORG12345', 'the org key did not reach the settings');
    await page.locator('#config-region').click();
    await page.getByRole('option', { name: /Custom URL/ }).click();
    await page.getByPlaceholder('https://').fill('h');
    expectTrue((await page.getByText(/Not a URL/).count()) === 0, 'the URL was refused from its first letter');
    await page.keyboard.press('Tab');
    await page.getByText(/Not a URL/).waitFor();
    await page.getByPlaceholder('https://').fill('https://defense.conferdeploy.net');
    await shotAs(page.locator('#config'), 'config-editor');
  });

  await check(
    named('builder: three filters, values from the suggestions, a typed value kept on Enter and Tab'),
    async () => {
      await query.getByRole('button', { name: 'Add filter' }).click();
      await query.getByRole('combobox', { name: 'Actor values' }).click();
      await page.getByText('bob.analyst@acme.example').click();
      await page.keyboard.press('Escape');
      await eventually(
        'query',
        (s) => s.query.criteria?.actor?.[0] === 'bob.analyst@acme.example',
        (s) => `criteria ${JSON.stringify(s.query.criteria)}`
      );
      // A pasted value is kept by Enter, and another by Tab, without highlighting "Use custom value" first.
      await query.getByRole('combobox', { name: 'Actor values' }).click();
      await page.keyboard.type('eve@acme.example');
      await page.keyboard.press('Enter');
      await page.keyboard.type('mallory@acme.example');
      await page.keyboard.press('Tab');
      await eventually(
        'query',
        (s) =>
          JSON.stringify(s.query.criteria?.actor) ===
          JSON.stringify(['bob.analyst@acme.example', 'eve@acme.example', 'mallory@acme.example']),
        (s) => `typed values lost: ${JSON.stringify(s.query.criteria)}`
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
      // One height for every control of a row, so rows line up; the remove button stays on its row.
      const heights = [];
      for (const control of [
        query.getByRole('combobox', { name: 'Filter 1 field' }).locator('xpath=..'),
        query.getByRole('combobox', { name: 'Filter 1 operator' }).locator('xpath=..'),
      ]) {
        heights.push(Math.round((await control.boundingBox()).height));
      }
      expectTrue(new Set(heights).size === 1, `a row's controls are ${heights.join(', ')} px high`);
      const field = await query.getByRole('combobox', { name: 'Filter 1 field' }).boundingBox();
      const remove = await query.getByRole('button', { name: 'Remove the Actor filter' }).boundingBox();
      expectTrue(
        remove.y < field.y + field.height && remove.x > field.x,
        'the remove button wrapped away from its row'
      );
      // Every remove button and the values stay in view, within the editor's width.
      const box = await query.boundingBox();
      for (const name of ['Remove the Actor filter', 'Remove the Actor IP filter', 'Remove the Description filter']) {
        const b = await query.getByRole('button', { name }).boundingBox();
        expectTrue(b.x + b.width <= box.x + box.width + 1, `${name} is out of view: ${JSON.stringify([b, box])}`);
      }
      const chips = await query.locator('div[title^="bob.analyst@acme.example"]').boundingBox();
      expectTrue(
        chips.x + chips.width <= box.x + box.width + 1,
        `the Actor values overflow the editor: ${JSON.stringify([chips, box])}`
      );
      await shotAs(query, 'builder-three-filters');
    }
  );

  await check(named('builder: a row cannot take the field and operator of another, so rows never merge'), async () => {
    await query.getByRole('combobox', { name: 'Filter 1 field' }).click();
    const offered = await page.getByRole('option').allInnerTexts();
    await page.keyboard.press('Escape');
    expectTrue(
      !offered.some((o) => o.startsWith('Description')),
      `row 1 may become a second Description row: ${offered}`
    );
    await query.getByRole('combobox', { name: 'Filter 3 operator' }).click();
    const ops = await page.getByRole('option').allInnerTexts();
    await page.keyboard.press('Escape');
    expectTrue(ops.length === 2, `operators offered: ${ops}`);
    const s = await state('query');
    expectTrue(s.query.criteria.actor.length === 3, `values moved: ${JSON.stringify(s.query)}`);
  });

  await check(named('builder → code shows the filters as text, and code → builder reads them back'), async () => {
    const before = (await state('query')).query;
    await query.getByRole('radio', { name: 'Code' }).click();
    await query.locator('.monaco-editor').first().waitFor({ timeout: 20000 });
    await eventually(
      'query',
      (s) => s.query.editorMode === 'code' && s.query.query.includes('NOT actor_ip:203.0.113.10'),
      (s) => `text ${JSON.stringify(s.query.query)}`
    );
    expectTrue(
      (await editorText()).includes('actor:(bob.analyst@acme.example OR'),
      `the editor shows ${await editorText()}`
    );
    await shotAs(query, 'code-from-builder');
    await query.getByRole('radio', { name: 'Builder' }).click();
    await query.getByRole('combobox', { name: 'Filter 3 field' }).waitFor();
    const after = (await state('query')).query;
    expectTrue(
      JSON.stringify([after.criteria, after.exclusions, after.query]) ===
        JSON.stringify([before.criteria, before.exclusions, '']),
      `filters changed: ${JSON.stringify([before, after])}`
    );
  });

  await check(named('code: a field from completion opens its values, and a value completes'), async () => {
    await query.getByRole('radio', { name: 'Code' }).click();
    const editor = query.locator('.monaco-editor').first();
    await editor.waitFor({ timeout: 20000 });
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('act');
    await page.keyboard.press('Control+Space');
    await page.locator('.suggest-widget .monaco-list-row', { hasText: 'actor' }).first().waitFor({ timeout: 10000 });
    await page.keyboard.press('Enter');
    // Picked with the keyboard: at 600 px Monaco's details pane may lie over the list, and take a click.
    const suggestion = page.locator('.suggest-widget .monaco-list-row.focused', {
      hasText: 'alice.admin@acme.example',
    });
    await suggestion.waitFor({ timeout: 10000 });
    await shotAs(query, 'code-completion');
    await page.keyboard.press('Enter');
    const runs = (await state('query')).runs;
    await query.getByRole('button', { name: /Run query/ }).click();
    await eventually(
      'query',
      (s) => s.query.query === 'actor:alice.admin@acme.example' && s.runs > runs,
      (s) => `query ${JSON.stringify(s)}`
    );
  });

  await check(
    named('code: typing marks the results stale; leaving the editor in a dashboard runs it; Tab leaves it'),
    async () => {
      const editor = query.locator('.monaco-editor').first();
      const run = query.getByRole('button', { name: /Run query/ });
      await editor.click();
      const fresh = await run.getAttribute('class');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('actor:bob.analyst@acme.example');
      expectTrue((await run.getAttribute('class')) !== fresh, 'Run query does not show that the results are stale');
      const runs = (await state('query')).runs;
      await page.keyboard.press('Escape'); // close the value suggestions, where Tab accepts one
      await page.keyboard.press('Tab');
      const inEditor = await page.evaluate(() => Boolean(document.activeElement?.closest('.monaco-editor')));
      expectTrue(!inEditor, 'Tab stayed in the code editor');
      await eventually(
        'query',
        (s) => s.query.query === 'actor:bob.analyst@acme.example' && s.runs > runs,
        (s) => `leaving the editor did not run the query: ${JSON.stringify(s)}`
      );
      expectTrue((await run.getAttribute('class')) === fresh, 'Run query still shows stale results after the run');
    }
  );

  await check(
    named('code: a syntax error is marked at once and said once typing pauses; the query does not run'),
    async () => {
      const editor = query.locator('.monaco-editor').first();
      await editor.click();
      await page.keyboard.press('Control+A');
      const typed = Date.now();
      await page.keyboard.type('actor:');
      const said = await query.getByText('The query ends too early', { exact: false }).count();
      // Judged only when the check itself took less than the pause: a stalled machine cannot tell.
      expectTrue(Date.now() - typed > 800 || said === 0, 'the error is said while typing');
      await query.locator('.squiggly-error').first().waitFor({ timeout: 10000 });
      expectTrue((await query.getByRole('alert').count()) === 0, 'an error interrupts as an alert');
      await page.keyboard.type('"Login');
      await query.getByText('A quoted phrase is not closed', { exact: false }).waitFor({ timeout: 5000 });
      const runs = (await state('query')).runs;
      await page.keyboard.press('Shift+Enter');
      await page.waitForTimeout(200);
      expectTrue((await state('query')).runs === runs, 'a query with a syntax error ran');
      await shotAs(query, 'code-syntax-error');
      // A long query grows the editor, up to a bound, instead of scrolling its start out of view.
      const small = (await editor.boundingBox()).height;
      await page.keyboard.press('Control+A');
      await page.keyboard.type(
        `description:"Login failed" AND NOT actor_ip:(${Array.from({ length: 30 }, (_, i) => `10.0.0.${i}`).join(' OR ')})`
      );
      await page.waitForTimeout(300);
      const grown = (await editor.boundingBox()).height;
      expectTrue(grown > small + 10 && grown <= 200, `the editor is ${small} px, then ${grown} px high`);
      await shotAs(query, 'code-grown');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('description:"Login failed"');
      await page.keyboard.press('Shift+Enter');
      await eventually(
        'query',
        (s) => s.query.query === 'description:"Login failed"' && s.runs > runs,
        (s) => `query ${JSON.stringify(s)}`
      );
    }
  );

  await check(named('code: >=now/d is marked with its fix, and the fix applies'), async () => {
    const editor = query.locator('.monaco-editor').first();
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('create_time:>=now/d');
    await query.getByText('must be escaped', { exact: false }).waitFor({ timeout: 5000 });
    await query.locator('.squiggly-error').first().waitFor({ timeout: 10000 });
    await shotAs(query, 'code-quick-fix');
    await query.getByRole('button', { name: 'Escape the / as \\/' }).click();
    await editor.click();
    await page.keyboard.press('Shift+Enter');
    await eventually(
      'query',
      (s) => s.query.query === 'create_time:>=now\\/d',
      (s) => `query ${JSON.stringify(s)}`
    );
  });

  await check(named('options: an invalid limit is refused in place'), async () => {
    await query.getByText('Options', { exact: true }).click();
    await query.locator('#query-limit').fill('999999');
    await query.getByText(/Limit must be a whole number from 1 to 200000/).waitFor();
    await shotAs(query, 'options-invalid-limit');
    await query.locator('#query-limit').fill('500');
    await query.locator('#query-limit').press('Enter');
    await eventually(
      'query',
      (s) => s.query.limit === 500,
      (s) => `limit ${s.query.limit}`
    );
  });

  await check(named('the header keeps every control in view'), async () => {
    const box = await query.boundingBox();
    const types = await query.getByRole('radiogroup', { name: 'Query type' }).boundingBox();
    for (const control of [
      query.getByRole('button', { name: /Run query/ }),
      query.getByRole('radiogroup', { name: 'Editor mode' }),
      query.getByRole('link', { name: /Query syntax/ }),
    ]) {
      const b = await control.boundingBox();
      expectTrue(b.x + b.width <= box.x + box.width + 1, `a header control is cut off: ${JSON.stringify([b, box])}`);
      expectTrue(b.y < types.y + 3 * types.height, 'a header control dropped far below the header');
    }
  });

  await check(
    named('export: a progress bar, then the download, and another start only as a secondary action'),
    async () => {
      await query.getByRole('button', { name: 'Export' }).click();
      await query.getByText('JSON', { exact: true }).waitFor();
      await query.getByRole('button', { name: 'Start export' }).click();
      await query.getByRole('progressbar', { name: 'Export progress' }).waitFor({ timeout: 10000 });
      await shotAs(query, 'export-progress');
      await query.getByText('Download 495,315 events (CSV)').waitFor({ timeout: 10000 });
      await query.getByRole('button', { name: 'Start another export' }).waitFor();
      await shotAs(query, 'export-done');
    }
  );

  await check(named('signals: a detection is picked, explained, and its parameter applied on Enter'), async () => {
    await query.getByRole('radio', { name: 'Security signals' }).click();
    await query.getByText(/Runs every detection at its defaults/).waitFor();
    await query.getByRole('combobox', { name: 'Detection' }).click();
    await page.getByRole('option', { name: /Impossible travel/ }).click();
    await query.getByText(/T1078 Valid Accounts · high/).waitFor();
    await query.locator('#signals-speed').fill('800');
    await query.locator('#signals-speed').press('Enter');
    await eventually(
      'query',
      (s) =>
        s.query.queryType === 'signals' &&
        s.query.detection === 'impossible_travel' &&
        s.query.parameters?.speed === '800',
      (s) => JSON.stringify(s.query)
    );
    await shotAs(query, 'signals');
    await query.getByRole('radio', { name: 'Logs' }).click();
  });

  await check(named('alerting: only a count and the signals, no live queue, no export'), async () => {
    const alerting = page.locator('#alerting');
    await alerting.getByText('Count over time').waitFor();
    await alerting.getByText('Security signals').waitFor();
    for (const type of ['Live queue', 'Logs', 'Table']) {
      expectTrue(
        (await alerting.getByRole('radio', { name: type }).count()) === 0,
        `${type} is offered in an alert rule`
      );
    }
    expectTrue(
      (await alerting.getByRole('button', { name: 'Export' }).count()) === 0,
      'export is offered in an alert rule'
    );
    await shotAs(alerting, 'alerting');
    const icons = await page.locator('#query svg').count();
    expectTrue(icons > 0, 'no icon rendered');
    await page.screenshot({ path: join(out, `editors-${tag}.png`), fullPage: true });
  });
}

for (const theme of ['dark', 'light']) {
  for (const width of [1600, 600]) {
    await scenarios(theme, width);
  }
}

await check('the page raised no errors', async () => {
  expectTrue(errors.length === 0, errors.join('; '));
});

await browser.close();
server.close();
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
