import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import type { Page } from 'playwright-core';
import { consoleRoutes } from '../src/console/routes.js';
import { assertAccessible, assertNoSideways } from './helpers/axe.js';
import {
  browserSkip,
  type ConsoleSession,
  DESKTOP,
  openConsole,
  nav as openSection,
  PHONE,
  stepper,
} from './helpers/browser.js';
import { dialect, type Request, recordingFetch, type TestServer } from './helpers/server.js';

/**
 * The web console end to end, in headless Chromium against the real server: every
 * action goes through the console's pages and the public API it calls. Runs on the
 * SQLite pass only (the console adds nothing database-specific). Screenshots of the
 * main pages are written to docs/screenshots/ (test/helpers/browser.ts).
 */

function csvOf(rows: string[][]): string {
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return `${rows.map((r) => r.map(q).join(',')).join('\n')}\n`;
}

describe('web console files', () => {
  it('answers 503 with what to do when the console is not built', async () => {
    const app = Fastify();
    consoleRoutes(app, null);
    const reply = await app.inject({ method: 'GET', url: '/' });
    assert.equal(reply.statusCode, 503);
    assert.match(reply.headers['content-type'] as string, /^text\/plain/);
    assert.match(reply.body, /npm run build/);
    await app.close();
  });

  it('serves a build with revalidated index.html, immutable hashed assets, gzip and 304s', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-console-dist-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(
      path.join(dir, 'index.html'),
      '<!doctype html><script type="module" src="./assets/app-abc123.js"></script>',
    );
    fs.writeFileSync(
      path.join(dir, 'assets/app-abc123.js'),
      `console.log(${JSON.stringify('x'.repeat(4000))});`,
    );
    const app = Fastify();
    consoleRoutes(app, dir);
    const index = await app.inject({ method: 'GET', url: '/' });
    assert.equal(index.statusCode, 200);
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.match(index.headers['content-type'] as string, /^text\/html/);
    assert.match(index.headers['content-security-policy'] as string, /default-src 'self'/);
    const again = await app.inject({
      method: 'GET',
      url: '/',
      headers: { 'if-none-match': index.headers.etag as string },
    });
    assert.equal(again.statusCode, 304);
    const js = await app.inject({
      method: 'GET',
      url: '/assets/app-abc123.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['content-encoding'], 'gzip');
    assert.match(js.headers['content-type'] as string, /^text\/javascript/);
    assert.equal((await app.inject({ method: 'GET', url: '/assets/other.js' })).statusCode, 404);
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe(`web console (${dialect})`, { skip: browserSkip }, () => {
  let session: ConsoleSession;
  let server: TestServer;
  let request: Request;
  let page: Page;
  // Each run has a fresh database, so the README's example account can be used.
  const email = 'john.doe@email.com';
  const password = 'console-password';
  let token = '';

  const shot = (name: string, fullPage = true) => session.shot(name, fullPage);
  const nav = (label: string) => openSection(page, label);
  /**
   * axe (no serious or critical violation) on the page as it is, at 1280x800 and at
   * 390x844, where the page must not scroll sideways either.
   */
  const check = async (state: string) => {
    // Words for operators: no HTTP requests or API talk in what the page says.
    assert.doesNotMatch(
      (await page.locator('#app').textContent()) ?? '',
      /\b(GET|POST|PUT|PATCH|DELETE) \/|Mainflux|\bthe API\b|local storage/,
      `${state}: speaks to an operator`,
    );
    await assertAccessible(page, state);
    await page.setViewportSize(PHONE);
    try {
      await assertAccessible(page, `${state}, 390 px`);
      await assertNoSideways(page, `${state}, 390 px`);
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  };
  const apiToken = async () => {
    if (token) return token;
    const r = await request('POST', '/tokens', { body: { email, password } });
    token = r.json.token;
    return token;
  };

  before(async () => {
    session = await openConsole({
      MF_PROVISION_X509_PROVISIONING: 'true',
      MF_PROVISION_CERTS_RSA_BITS: '2048',
    });
    ({ server, request, page } = session);
  });

  // The steps build on each other: after a failure the rest are skipped, not timed out one by one.
  const step = stepper(() => page);

  after(async () => {
    await session?.close();
  });

  it('serves the console at / with caching headers', async () => {
    const index = await fetch(`${server.url}/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const html = await index.text();
    const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, 'index.html references a hashed script');
    const js = await fetch(`${server.url}/${asset}`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await fetch(`${server.url}/`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${server.url}/`, { method: 'OPTIONS' })).status, 200);
  });

  step('registers, logs out, logs in', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await check('the login page');
    await shot('login');
    await page.getByRole('link', { name: 'Create one' }).click();
    await page.getByLabel('Password again').waitFor();
    await check('the registration page');
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByLabel('Password again').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('No gateway yet.').waitFor();
    await check('the overview, empty');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You have logged out.').waitFor();
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong e-mail address or password' }).waitFor();
    await check('the login page, refused');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.ok(
      await page.evaluate(() => sessionStorage.getItem('tethys.session')),
      'the token is kept in sessionStorage',
    );
  });

  step('creates things, refusing invalid JSON and showing API errors', async () => {
    await nav('Things');
    await page.getByText('No things yet.').waitFor();
    await check('things, none yet');
    const create = async (name: string, metadata: string, key = '') => {
      await page.getByRole('button', { name: 'New thing' }).click();
      const dialog = page.getByRole('dialog', { name: 'New thing' });
      await dialog.getByLabel('Name').fill(name);
      if (name === 'mychan') await check('the new channel dialog');
      if (key) await dialog.getByLabel('Key (optional)').fill(key);
      await dialog.getByLabel('Metadata (JSON object)').fill(metadata);
      return dialog;
    };
    let dialog = await create('weio', '{"serial": "123456"', 'weio-key');
    await dialog.getByText(/Invalid JSON/).waitFor();
    await check('the new thing dialog, invalid JSON');
    assert.equal(await dialog.getByRole('button', { name: 'Create thing' }).isDisabled(), true);
    await dialog.getByLabel('Metadata (JSON object)').fill('{"serial": "123456"}');
    await dialog.getByRole('button', { name: 'Create thing' }).click();
    await page.getByText('Created the thing weio.').waitFor();
    await dialog.waitFor({ state: 'detached' });

    dialog = await create('bob', '{"room": "lab"}');
    await dialog.getByRole('button', { name: 'Create thing' }).click();
    await page.getByText('Created the thing bob.').waitFor();
    await dialog.waitFor({ state: 'detached' });

    // A key already in use: the API's 409 is shown in the dialog, in words.
    dialog = await create('clash', '', 'weio-key');
    await dialog.getByRole('button', { name: 'Create thing' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Conflict (409)' }).waitFor();
    await check('the new thing dialog, refused');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  step('imports 500 things from a CSV with progress and a result per row', async () => {
    const rows = [['name', 'key', 'metadata']];
    for (let i = 1; i <= 500; i++) {
      rows.push([`imported-${String(i).padStart(4, '0')}`, '', JSON.stringify({ group: `g${i % 5}`, n: i })]);
    }
    await page.getByRole('button', { name: 'Import from file…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import things' });
    await dialog
      .getByText(/all or nothing/)
      .first()
      .waitFor();
    await check('the import dialog');
    await dialog.getByLabel('File to import (.csv or .json)').setInputFiles({
      name: 'things.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csvOf(rows)),
    });
    await dialog.getByText('things.csv: 500 rows read.').waitFor();
    await dialog.getByLabel('Rows per batch').fill('100');
    await dialog.getByRole('button', { name: 'Import 500 things' }).click();
    await dialog.getByText('500 created, 0 failed, 0 invalid.').waitFor({ timeout: 60_000 });
    await check('the import dialog, done');
    const progress = dialog.locator('progress');
    assert.equal(await progress.getAttribute('value'), '500');
    assert.equal(await progress.getAttribute('max'), '500');
    assert.equal(await dialog.locator('tbody tr').count(), 50, 'the first page of per-row results');
    await dialog
      .getByText(/^created [0-9a-f-]{36}$/)
      .first()
      .waitFor();
    await dialog.getByRole('button', { name: 'Close' }).last().click();

    // A batch with a key already in use fails whole; the next batch goes on.
    await page.getByRole('button', { name: 'Import from file…' }).click();
    const again = page.getByRole('dialog', { name: 'Import things' });
    await again.getByLabel('File to import (.csv or .json)').setInputFiles({
      name: 'more.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        csvOf([
          ['name', 'key'],
          ['extra-1', ''],
          ['extra-2', 'weio-key'],
          ['extra-3', ''],
          ['extra-4', 'weio-key'],
        ]),
      ),
    });
    await again.getByText(/more\.csv: 4 rows read, 1 of them invalid/).waitFor();
    await again.getByLabel('Rows per batch').fill('2');
    await again.getByRole('button', { name: 'Import 3 things' }).click();
    await again.getByText('1 created, 2 failed, 1 invalid.').waitFor();
    await again
      .getByText(/batch of rows 1–2 refused, nothing in it was created: Conflict \(409\)/)
      .first()
      .waitFor();
    await again.getByText(/invalid: the same key as row 2/).waitFor();
    await check('the import dialog, a batch refused');
    await shot('things-import', false);
    await again.getByRole('button', { name: 'Close' }).last().click();
  });

  step('pages, sorts and searches things by name and metadata', async () => {
    const status = page.locator('.pager-status');
    await status.filter({ hasText: 'of 503' }).waitFor();
    await page.getByRole('button', { name: /^Name/ }).click();
    await page.waitForURL(/order=name&dir=asc/);
    await page.locator('tbody tr').first().getByRole('link', { name: 'bob' }).waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await status.filter({ hasText: '26–50 of 503' }).waitFor();

    await page.getByLabel('Name contains').fill('imported-04');
    await page.getByRole('button', { name: 'Search' }).click();
    await status.filter({ hasText: '1–25 of 100' }).waitFor();

    await page.getByLabel('Name contains').fill('');
    await page.getByLabel('Metadata', { exact: true }).fill('group=g3');
    await page.getByRole('button', { name: 'Search' }).click();
    await status.filter({ hasText: 'of 100' }).waitFor();
    await page.getByLabel('Metadata', { exact: true }).fill('group=g3, n:=8');
    await page.getByRole('button', { name: 'Search' }).click();
    await status.filter({ hasText: '1–1 of 1' }).waitFor();
    await page.locator('tbody').getByRole('link', { name: 'imported-0008' }).waitFor();
    await page.getByLabel('Metadata', { exact: true }).fill('room=lab');
    await page.getByRole('button', { name: 'Search' }).click();
    await status.filter({ hasText: '1–1 of 1' }).waitFor();
    await page.locator('tbody').getByRole('link', { name: 'bob' }).waitFor();
    await page.getByLabel('Metadata', { exact: true }).fill('{"room": ');
    await page.getByText(/Metadata filter: not a JSON object/).waitFor();
    await check('things, a bad metadata filter');
    await page.getByRole('button', { name: 'Clear' }).click();
    await status.filter({ hasText: 'of 503' }).waitFor();
    await page.getByLabel('Name contains').fill('weio');
    await page.getByRole('button', { name: 'Search' }).click();
    await status.filter({ hasText: '1–1 of 1' }).waitFor();
    await page.getByLabel('Name contains').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await status.filter({ hasText: 'of 503' }).waitFor();
    await shot('things');
    await check('things');

    // Keyboard: the table is entered at a row; arrows move, Enter opens.
    await page.getByRole('navigation', { name: 'Things pages' }).waitFor();
    const first = page.locator('table.data tbody tr').first();
    await first.focus();
    await page.keyboard.press('ArrowDown');
    const focusedName = await page.evaluate(
      () => document.activeElement?.querySelector('td a')?.textContent ?? '',
    );
    assert.ok(focusedName, 'ArrowDown focused the next row');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/things\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { level: 1, name: focusedName }).waitFor();
  });

  step('edits a thing, reveals its key and connects it to a channel', async () => {
    await nav('Channels');
    for (const name of ['mychan', 'alarms']) {
      await page.getByRole('button', { name: 'New channel' }).click();
      const dialog = page.getByRole('dialog', { name: 'New channel' });
      await dialog.getByLabel('Name').fill(name);
      await dialog.getByLabel('Metadata (JSON object)').fill('{"type": "data"}');
      await dialog.getByRole('button', { name: 'Create channel' }).click();
      await page.getByText(`Created the channel ${name}.`).waitFor();
      await dialog.waitFor({ state: 'detached' });
    }
    await page.locator('.pager-status').filter({ hasText: 'of 2' }).waitFor();
    await shot('channels');
    await check('channels');

    await nav('Things');
    await page.getByLabel('Name contains').fill('weio');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('tbody').getByRole('link', { name: 'weio' }).click();
    await page.getByRole('heading', { level: 1, name: 'weio' }).waitFor();
    await check('a thing');

    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const edit = page.getByRole('dialog', { name: 'Edit thing' });
    await edit.getByLabel('Metadata (JSON object)').waitFor();
    await check('the edit thing dialog');
    await edit.getByLabel('Metadata (JSON object)').fill('{"serial": "123456", "room": "hall"}');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.locator('pre.json').filter({ hasText: '"hall"' }).waitFor();

    await page.getByRole('button', { name: /Reveal/ }).click();
    await page.locator('.secret code').filter({ hasText: 'weio-key' }).waitFor();
    await check('a thing, its key revealed');

    await page.getByRole('button', { name: 'Connect channels…' }).click();
    const connect = page.getByRole('dialog', { name: 'Connect channels' });
    await connect.getByRole('row').filter({ hasText: 'mychan' }).waitFor();
    await check('the connect channels dialog');
    await connect.getByRole('row').filter({ hasText: 'mychan' }).getByRole('checkbox').check();
    await connect.getByRole('button', { name: 'Connect 1 channel' }).click();
    await page.getByText('Connected 1 channel.').waitFor();
    await page
      .getByRole('region', { name: 'Connected channels' })
      .getByRole('link', { name: 'mychan' })
      .waitFor();
  });

  step('issues a certificate, downloads it and revokes it', async () => {
    await page.getByRole('button', { name: 'Issue certificate…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Issue a certificate' });
    await dialog.getByLabel('Key type').waitFor();
    await check('the issue certificate dialog');
    await dialog.getByLabel('Key type').selectOption('ec');
    await dialog.getByLabel('Key size (bits)').selectOption('256');
    await dialog.getByRole('button', { name: 'Issue' }).click();
    await page.getByText(/Certificate .* issued/).waitFor({ timeout: 30_000 });
    const [cert] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download certificate' }).click(),
    ]);
    assert.equal(cert.suggestedFilename(), 'weio-cert.pem');
    assert.match(fs.readFileSync((await cert.path())!, 'utf8'), /BEGIN CERTIFICATE/);
    const [key] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download private key' }).click(),
    ]);
    assert.match(fs.readFileSync((await key.path())!, 'utf8'), /PRIVATE KEY/);
    const certs = page.getByRole('region', { name: 'Certificates' });
    await certs.getByText('valid', { exact: true }).waitFor();
    await shot('thing');
    await check('a thing, a certificate issued');

    await page.getByRole('button', { name: 'Revoke certificates…' }).click();
    await page.getByRole('dialog', { name: 'Revoke certificates' }).waitFor();
    await check('the revoke certificates dialog');
    await page
      .getByRole('dialog', { name: 'Revoke certificates' })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await page.getByText(/^Revoked at/).waitFor();
    await certs.getByText(/^revoked/).waitFor();
    await check('a thing, its certificate revoked');
  });

  step('connects many things to a channel and shows a message published over HTTP live', async () => {
    await nav('Channels');
    await page.locator('tbody').getByRole('link', { name: 'mychan' }).click();
    await page.getByRole('heading', { level: 1, name: 'mychan' }).waitFor();
    const channelId = page.url().split('/').pop()!;
    await page.getByRole('region', { name: 'Connected things' }).waitFor();
    await check('a channel');

    await page.getByRole('button', { name: 'Connect things…' }).click();
    const connect = page.getByRole('dialog', { name: 'Connect things' });
    await connect.locator('tbody tr').first().waitFor();
    await check('the connect things dialog');
    await connect.getByRole('checkbox', { name: 'Select all rows on this page' }).check();
    await connect.getByRole('button', { name: 'Connect 10 things' }).click();
    await page.getByText('Connected 10 things.').waitFor();
    await page.locator('.panel .pager-status').filter({ hasText: 'of 11' }).waitFor();

    await page.getByRole('button', { name: 'Create "tethys-console" and start' }).click();
    await page.getByText(/Listening on/).waitFor();

    const things = await request('GET', `/things?name=weio&limit=1`, { token: await apiToken() });
    const weio = things.json.things[0];
    const body = JSON.stringify([{ bn: 'weio:', n: 'temperature', u: 'Cel', v: 21.5 }]);
    const published = await recordingFetch(`${server.url}/http/channels/${channelId}/messages/room/hall`, {
      method: 'POST',
      headers: { Authorization: `Thing ${weio.key}`, 'Content-Type': 'application/senml+json' },
      body,
    });
    assert.equal(published.status, 202);
    const message = page.locator('li.message').first();
    await message.getByText('"temperature"').waitFor();
    await message.getByText('room.hall').waitFor();
    // Without a subtopic: delivered once (the console subscribes to the topic and its subtopics).
    const plainly = async (text: string) => {
      const sent = await recordingFetch(`${server.url}/http/channels/${channelId}/messages`, {
        method: 'POST',
        headers: { Authorization: weio.key },
        body: text,
      });
      assert.equal(sent.status, 202);
      await page.locator('li.message').first().getByText(text).waitFor();
    };
    await plainly('plain text');
    await shot('channel');
    await check('a channel, live messages');
    // Fence: one more message from the same thing on the same path. The console's one
    // connection delivers in order, so a second copy of 'plain text' would be shown before it.
    await plainly('fence');
    assert.equal(await page.locator('li.message').count(), 3, 'each message is shown once');
    await page.getByRole('button', { name: 'Stop' }).click();
  });

  let externalKey = '';
  step('provisions a gateway and shows its keys, certificates and bootstrap command', async () => {
    await nav('Provision');
    await check('provision');
    externalKey = `ek-${Date.now()}`;
    await page.getByLabel('External id').fill('gw-001');
    await page.getByLabel('External key').fill(externalKey);
    await page.getByLabel('Name (optional)').fill('Gateway 1');
    await page.getByRole('button', { name: 'Provision' }).click();
    const result = page.getByRole('region', { name: 'Provisioned gw-001' });
    await result.waitFor({ timeout: 30_000 });
    await result.getByText('yes').first().waitFor();
    await result.getByRole('button', { name: 'Certificate' }).first().waitFor();
    await result.getByRole('button', { name: 'Download CA certificate' }).waitFor();
    // The command's external key is masked until revealed.
    const command = result.locator('pre.command');
    assert.equal(
      await command.textContent(),
      `curl -s ${server.url}/things/bootstrap/gw-001 -H 'Authorization: ${'•'.repeat(externalKey.length)}'`,
    );
    await shot('provision');
    await check('provision, done');
    await result.getByRole('button', { name: 'Reveal External key' }).click();
    assert.equal(
      await command.textContent(),
      `curl -s ${server.url}/things/bootstrap/gw-001 -H 'Authorization: ${externalKey}'`,
    );
    await result.getByRole('button', { name: 'Hide External key' }).click();

    // The command works: the gateway gets its config.
    const fetched = await recordingFetch(`${server.url}/things/bootstrap/gw-001`, {
      headers: { Authorization: externalKey },
    });
    assert.equal(fetched.status, 200);

    // Provisioning the same external id again is refused with the API's words.
    await page.getByRole('button', { name: 'Provision' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /\(409\)/ })
      .waitFor();
    await check('provision, refused');

    // The gateway in the things list: its metadata as links to its channels and config, no key.
    const main = page.locator('main');
    await nav('Things');
    await page.getByLabel('Metadata', { exact: true }).fill('type=gateway');
    await page.getByRole('button', { name: 'Search' }).click();
    const listed = page.locator('tbody tr').filter({ hasText: 'Gateway 1' });
    await listed.getByRole('link', { name: 'control channel' }).waitFor();
    const control = await listed.getByRole('link', { name: 'control channel' }).getAttribute('href');
    assert.match(control ?? '', /^#\/channels\/[0-9a-f-]{36}$/);
    await listed.getByRole('link', { name: 'bootstrap config' }).waitFor();
    assert.ok(
      !((await main.textContent()) ?? '').includes(externalKey),
      'the things list shows no external key',
    );
    await check('things, a gateway');

    // Its page: its metadata shown as its channels and config, its external key masked.
    await listed.getByRole('link', { name: 'Gateway 1' }).click();
    await page.getByRole('heading', { level: 1, name: 'Gateway 1' }).waitFor();
    const facts = page.locator('dl.gateway-facts');
    await facts.getByRole('link', { name: 'control-channel' }).waitFor();
    await facts.getByRole('link', { name: 'data-channel' }).waitFor();
    assert.equal(await facts.getByText('Export channel').count(), 0, 'no export channel, none shown');
    assert.equal(await facts.getByRole('link', { name: 'control-channel' }).getAttribute('href'), control);
    assert.equal(
      await facts.getByRole('link', { name: 'The config of gw-001' }).getAttribute('href'),
      '#/bootstrap?external_id=gw-001',
    );
    for (const raw of [externalKey, 'cfg_id', 'ctrl_channel_id', 'data_channel_id', 'export_channel_id'])
      assert.ok(!((await main.textContent()) ?? '').includes(raw), `the gateway's page shows no ${raw}`);
    await facts.getByRole('button', { name: 'Reveal External key' }).click();
    await facts.locator('.secret code').filter({ hasText: externalKey }).waitFor();
    await facts.getByRole('button', { name: 'Hide External key' }).click();
    // Its bootstrap config was made without content: said in words, not `null`.
    const config = page.getByRole('region', { name: 'Bootstrap config' });
    await config.getByText('no content', { exact: true }).waitFor();
    await check('a gateway');
    await shot('gateway');
  });

  step('lists bootstrap configs, toggles the state, edits content, shows the gateway view', async () => {
    await nav('Bootstrap');
    const row = page.locator('tbody tr').filter({ hasText: 'gw-001' });
    const toggle = row.getByRole('switch');
    // Provisioning whitelisted it: active.
    await row.locator('[role=switch][aria-checked="true"]').waitFor();
    await toggle.click();
    await page.getByText(/is now inactive/).waitFor();
    await row.locator('[role=switch][aria-checked="false"]').waitFor();
    await toggle.click();
    await page.getByText(/is now active/).waitFor();
    await row.locator('[role=switch][aria-checked="true"]').waitFor();

    await page.getByLabel('State').selectOption('0');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No bootstrap config matches.', { exact: false }).waitFor();
    await check('bootstrap configs, none matches');
    await page.getByRole('button', { name: 'Clear' }).click();
    await row.waitFor();

    await row.getByRole('button', { name: /^Edit/ }).click();
    const edit = page.getByRole('dialog', { name: 'Edit bootstrap config' });
    const content = edit.getByLabel('Content (JSON)');
    await content.fill('{"agent": {"log_level": "info"');
    await edit.getByText(/Invalid JSON/).waitFor();
    await check('the edit bootstrap config dialog, invalid JSON');
    assert.equal(await edit.getByRole('button', { name: 'Save' }).isDisabled(), true);
    await content.fill('{"agent": {"log_level": "debug"}}');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/^Saved/).waitFor();

    // A provisioned config has no name: it is listed by its thing's name.
    await row.getByText("Gateway 1 (its thing's name)").waitFor();

    await row.getByRole('button', { name: /^Gateway's view/ }).click();
    const view = page.getByRole('dialog', { name: 'What gw-001 receives' });
    await view.locator('pre.json').filter({ hasText: '"log_level": "debug"' }).waitFor();
    await view.getByRole('link', { name: 'control-channel' }).waitFor();
    assert.match((await view.locator('.secret code').textContent()) ?? '', /^•+$/, 'the thing key is masked');
    await shot('bootstrap-gateway-view', false);
    await check('the gateway view dialog');
    await view.getByRole('button', { name: 'Close', exact: true }).click();
    await shot('bootstrap');
    await check('bootstrap configs');
  });

  step('shows counts and the provisioned gateways on the overview', async () => {
    await nav('Overview');
    const count = (label: string) =>
      page.locator('a.count').filter({ hasText: label }).locator('.count-value');
    await count('Things')
      .filter({ hasText: /^50[0-9]$/ })
      .waitFor();
    await count('Channels').filter({ hasText: '4' }).waitFor();
    await count('Bootstrap configs').filter({ hasText: '1' }).waitFor();
    const gateway = page.locator('.gateways li').filter({ hasText: 'Gateway 1' });
    await gateway.getByRole('link', { name: 'data channel' }).waitFor();
    assert.ok(
      !((await gateway.textContent()) ?? '').includes(externalKey),
      'no external key on the overview',
    );
    await page.getByText('No certificate expires within 30 days.').waitFor();
    await shot('overview');
    await check('the overview');

    // A certificate valid for a day: listed on the overview, marked on its thing's page.
    const weio = (await request('GET', '/things?name=weio&limit=1', { token: await apiToken() })).json
      .things[0];
    const issued = await request('POST', '/certs', {
      token: await apiToken(),
      body: { thing_id: weio.id, key_type: 'ec', key_bits: 256, valid: '24h' },
    });
    assert.equal(issued.status, 201, issued.text);
    await page.reload();
    const expiring = page.locator('ul.expiring');
    await expiring.getByRole('link', { name: weio.id }).click();
    await page
      .getByRole('region', { name: 'Certificates' })
      .getByText('expires within 30 days', { exact: true })
      .waitFor();
    await check('a thing, a certificate expiring');
  });

  step('creates an API key, shows it once, lists and revokes it', async () => {
    await nav('API keys');
    await page.getByText('None yet.').waitFor();
    await check('API keys, none yet');
    await page.getByLabel('Label (kept in this browser only)').fill('import script');
    await page.getByLabel('Valid for').fill('2');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const created = page.getByRole('region', { name: 'New API key' });
    assert.match((await created.locator('.secret code').textContent()) ?? '', /^•+$/, 'masked');
    await created.getByRole('button', { name: 'Reveal API key' }).click();
    const value = (await created.locator('.secret code').textContent()) ?? '';
    assert.match(value, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT');
    // The key works as a credential.
    assert.equal((await request('GET', '/things?limit=1', { token: value })).status, 200);
    const row = page.locator('tbody tr').filter({ hasText: 'import script' });
    await row.getByText('active').waitFor();
    await shot('keys');
    await check('API keys, one created');
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await page.getByRole('dialog', { name: 'Revoke API key' }).waitFor();
    await check('the revoke API key dialog');
    await page
      .getByRole('dialog', { name: 'Revoke API key' })
      .getByRole('button', { name: 'Revoke key' })
      .click();
    await page.getByText('Revoked import script.').waitFor();
    assert.equal(await page.locator('tbody tr').filter({ hasText: 'import script' }).count(), 0);
    assert.equal((await request('GET', '/things?limit=1', { token: value })).status, 401);
  });

  // A layout with a parameter a device may set; line 9 of the first try is wrong.
  const layoutToml = (device: string) => `[parameters.site]
type = "string"
required = true
pattern = "^[a-z0-9-]{1,32}$"

[parameters.label]
type = "string"
default = "unnamed"
device = ${device}

[[things]]
name = "{{site}}-{{registration_id}}"
[things.metadata]
external_id = "x"
site = "{{site}}"

[[channels]]
name = "{{site}}-control"
metadata = { type = "control" }

[[channels]]
name = "{{site}}-data"
metadata = { type = "data" }
`;

  step('creates a layout: the server’s error is shown at its line, then fixed', async () => {
    await nav('Layouts');
    const first = page.locator('tbody tr').first();
    await first.getByRole('link', { name: 'default' }).waitFor();
    await first.getByText('read-only').waitFor();
    await check('layouts');
    await first.getByRole('link', { name: 'default' }).click();
    await page.getByRole('heading', { level: 1, name: /^default/ }).waitFor();
    await page.getByText(/cannot be changed or deleted here/).waitFor();
    await check('the default layout');
    assert.equal(await page.getByRole('button', { name: 'Edit', exact: true }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Delete', exact: true }).count(), 0);

    await nav('Layouts');
    await page.getByRole('button', { name: 'New layout' }).click();
    await page.getByRole('heading', { level: 1, name: 'New layout' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('sensor-v2');
    const editor = page.getByLabel('Layout (TOML)');
    await editor.fill(layoutToml('"yes"'));
    await page.getByRole('button', { name: 'Create layout' }).click();
    const alert = page.getByRole('alert').filter({ hasText: /^Line 9: .*device must be true or false/ });
    await alert.waitFor();
    assert.equal(await page.locator('.line-no.line-bad').textContent(), '9', 'line 9 is marked');
    assert.equal(await editor.getAttribute('aria-invalid'), 'true');
    await alert.getByRole('button', { name: 'Go to line 9' }).click();
    const caret = await editor.evaluate((ta: HTMLTextAreaElement) => ({
      focused: document.activeElement === ta,
      selected: ta.value.slice(ta.selectionStart, ta.selectionEnd),
    }));
    assert.deepEqual(caret, { focused: true, selected: 'device = "yes"' });
    await shot('layout-error', false);
    await check('a new layout, refused at a line');

    await editor.fill(layoutToml('true'));
    await page.getByRole('button', { name: 'Create layout' }).click();
    await page.getByRole('heading', { level: 1, name: 'sensor-v2' }).waitFor();
    await page.getByText('Created the layout sensor-v2.').waitFor();
    const params = page.getByRole('region', { name: 'Parameters' });
    const site = params.getByRole('row').filter({ hasText: 'site' });
    await site.getByText('^[a-z0-9-]{1,32}$').waitFor();
    const label = params.getByRole('row').filter({ hasText: 'label' });
    assert.deepEqual(await label.locator('td').allTextContents(), [
      'label',
      'string',
      'no',
      'unnamed',
      '—',
      'yes',
    ]);
    await shot('layout');
    await check('a layout');
    const stored = await request('GET', '/layouts/sensor-v2', { token: await apiToken() });
    assert.equal(stored.json.toml, layoutToml('true'));

    // Editing shows the error at its line the same way.
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByLabel('Layout (TOML)', { exact: true }).fill(layoutToml('1'));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /^Line 9: / })
      .waitFor();
    await check('a layout edited, refused at a line');
    await page.getByLabel('Layout (TOML)', { exact: true }).fill(layoutToml('false'));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/^Saved\./).waitFor();
    await label.getByRole('cell', { name: 'no' }).nth(1).waitFor();

    // A copy of the default layout, deleted after a confirmation.
    await nav('Layouts');
    await page.locator('tbody tr').first().getByRole('button', { name: 'Copy default' }).click();
    await page.getByText('A copy of default: change it and give it a name.').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('scratch');
    await page.getByRole('button', { name: 'Create layout' }).click();
    await page.getByRole('heading', { level: 1, name: 'scratch' }).waitFor();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog', { name: 'Delete layout' }).waitFor();
    await check('the delete layout dialog');
    await page
      .getByRole('dialog', { name: 'Delete layout' })
      .getByRole('button', { name: 'Delete layout' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Layouts' }).waitFor();
    await page.locator('.pager-status').filter({ hasText: 'of 2' }).waitFor();
    assert.equal((await request('GET', '/layouts/scratch', { token: await apiToken() })).status, 404);
    await nav('Layouts');
    await page.locator('tbody').getByRole('link', { name: 'sensor-v2' }).waitFor();
    await shot('layouts');
  });

  const deviceKey = (groupKey: string, registrationId: string) =>
    crypto.createHmac('sha256', Buffer.from(groupKey, 'base64')).update(registrationId).digest('base64');
  const register = (groupId: string, key: string, registrationId = 'SN00000042') =>
    request('POST', `/enrollments/${groupId}/register`, {
      token: `SharedKey ${deviceKey(key, registrationId)}`,
      body: { registration_id: registrationId },
    });

  let groupId = '';
  let thingId = '';
  step('creates an enrollment group and shows its key masked until revealed', async () => {
    await nav('Enrollment groups');
    await page.getByText('No enrollment groups yet.').waitFor();
    await check('enrollment groups, none yet');
    await page.getByRole('button', { name: 'New enrollment group' }).click();
    await page.getByRole('heading', { level: 1, name: 'New enrollment group' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('line-3');
    await page.getByLabel('Layout', { exact: true }).selectOption('sensor-v2');
    // The layout's parameters become rows to fill in.
    assert.equal(await page.getByLabel('Name 1').inputValue(), 'site');
    assert.equal(await page.getByLabel('Name 2').inputValue(), 'label');
    await page.getByLabel('Value 1').fill('Plant A');
    await page.getByLabel('Registration id pattern (optional)').fill('^SN[0-9]{8');
    await page.getByText(/Pattern: not a regular expression/).waitFor();
    await check('a new enrollment group, a bad pattern');
    assert.equal(await page.getByRole('button', { name: 'Create enrollment group' }).isDisabled(), true);
    await page.getByLabel('Registration id pattern (optional)').fill('^SN[0-9]{8}$');
    await page.getByLabel('Most devices (optional)').fill('100');
    await shot('enrollment-new');
    // The server checks the value against the layout's pattern.
    await page.getByRole('button', { name: 'Create enrollment group' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /Bad request \(400\).*site/ })
      .waitFor();
    await check('a new enrollment group, refused');
    await page.getByLabel('Value 1').fill('plant-a');
    await page.getByRole('button', { name: 'Create enrollment group' }).click();
    await page.getByRole('heading', { level: 1, name: /^line-3/ }).waitFor();
    await page.getByText('Created the enrollment group line-3.').waitFor();
    groupId = page.url().split('/').pop()!.split('?')[0]!;

    const keyPanel = page.getByRole('region', { name: 'Group key' });
    const shown = keyPanel.locator('.secret code').first();
    assert.match((await shown.textContent()) ?? '', /^•+$/, 'the key is masked');
    await keyPanel.getByRole('button', { name: 'Reveal Group key' }).click();
    await check('an enrollment group, its key revealed');
    const groupKey = (await shown.textContent()) ?? '';
    assert.equal(Buffer.from(groupKey, 'base64').length, 32, 'the key is 32 bytes in base64');
    const stored = await request('GET', `/enrollments/${groupId}`, { token: await apiToken() });
    assert.equal(stored.json.group_key, groupKey);
    assert.deepEqual(stored.json.parameters, { site: 'plant-a' });
    assert.equal(stored.json.max_devices, 100);
    await keyPanel.getByRole('button', { name: 'Hide Group key' }).click();

    // The device key, made in the browser, is the one a device computes.
    await keyPanel.getByLabel('Registration id of a device').fill('SN00000042');
    await keyPanel.getByRole('button', { name: 'Make its device key' }).click();
    await keyPanel.getByRole('button', { name: 'Reveal Device key of SN00000042' }).click();
    await keyPanel
      .locator('.device-key-result .secret code')
      .filter({ hasText: deviceKey(groupKey, 'SN00000042') })
      .waitFor();
    await keyPanel.getByRole('button', { name: 'Hide Device key of SN00000042' }).click();

    // A device registers itself through the API; it appears in the table.
    const registrations = page.getByRole('region', { name: 'Enrolled devices' });
    await registrations.getByText('No device has enrolled yet.').waitFor();
    await check('an enrollment group, no device yet');
    const first = await register(groupId, groupKey);
    assert.equal(first.status, 201, first.text);
    thingId = first.json.thing_id;
    assert.equal((await register(groupId, groupKey)).status, 200);
    await registrations.getByRole('button', { name: 'Refresh' }).click();
    const row = registrations.getByRole('row').filter({ hasText: 'SN00000042' });
    await row.getByRole('link', { name: thingId }).waitFor();
    assert.equal(await row.locator('td[data-label="Times enrolled"]').textContent(), '2');
    await page.getByText('1 enrolled, at most 100').waitFor();
    await shot('enrollment');
    await check('an enrollment group, a device enrolled');
    await row.getByRole('link', { name: thingId }).click();
    await page.getByRole('heading', { level: 1, name: 'plant-a-SN00000042' }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: /^line-3/ }).waitFor();

    await nav('Enrollment groups');
    const listed = page.locator('tbody tr').filter({ hasText: 'line-3' });
    await listed.getByText('1 / 100').waitFor();
    await listed.getByRole('link', { name: 'sensor-v2' }).waitFor();
    await listed.getByText('enabled').waitFor();
    await shot('enrollments');
    await check('enrollment groups');
  });

  step('rotates the group key, changes the settings, deletes the group and keeps its devices', async () => {
    await page.locator('tbody').getByRole('link', { name: 'line-3' }).click();
    await page.getByRole('heading', { level: 1, name: /^line-3/ }).waitFor();
    const keyPanel = page.getByRole('region', { name: 'Group key' });
    await keyPanel.getByRole('button', { name: 'Reveal Group key' }).click();
    const shown = keyPanel.locator('.secret code').first();
    const oldKey = (await shown.textContent()) ?? '';
    await keyPanel.getByRole('button', { name: 'Rotate key…' }).click();
    await page.getByRole('dialog', { name: 'Rotate the group key' }).waitFor();
    await check('the rotate key dialog');
    await page
      .getByRole('dialog', { name: 'Rotate the group key' })
      .getByRole('button', { name: 'Rotate key' })
      .click();
    await keyPanel.getByText(/the key below is new/).waitFor();
    assert.match((await shown.textContent()) ?? '', /^•+$/, 'the new key is masked');
    await keyPanel.getByRole('button', { name: 'Reveal Group key' }).click();
    const newKey = (await shown.textContent()) ?? '';
    assert.notEqual(newKey, oldKey);
    assert.equal(Buffer.from(newKey, 'base64').length, 32);
    assert.equal((await register(groupId, oldKey)).status, 401, 'the old key stopped working');
    assert.equal((await register(groupId, newKey)).status, 200);

    const settings = page.getByRole('region', { name: 'Settings' });
    await settings.getByLabel('Enabled: devices may enroll').uncheck();
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await settings.getByText(/^Saved/).waitFor();
    await page
      .getByRole('heading', { level: 1, name: /^line-3/ })
      .getByText('disabled')
      .waitFor();
    assert.equal((await register(groupId, newKey)).status, 403, 'a disabled group refuses devices');

    await keyPanel.getByRole('button', { name: 'Hide Group key' }).click();
    await page.setViewportSize(PHONE);
    await page.evaluate(() => window.scrollTo(0, 0));
    await assertNoSideways(page, 'a group');
    await shot('enrollment-390', false);
    await page.setViewportSize(DESKTOP);

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete enrollment group' });
    await dialog.getByText(/Devices that already enrolled stay as they are/).waitFor();
    await check('the delete enrollment group dialog');
    await dialog.getByRole('button', { name: 'Delete group' }).click();
    await page.getByText('No enrollment groups yet.').waitFor();
    const thing = await request('GET', `/things/${thingId}`, { token: await apiToken() });
    assert.equal(thing.status, 200, 'the enrolled thing stays');
  });

  step('works with the keyboard: focus order, visible focus, Escape closes dialogs', async () => {
    await nav('Things');
    await page.locator('.pager-status').waitFor();
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const style = getComputedStyle(el);
        return {
          text: el.textContent?.trim() ?? '',
          inDialog: Boolean(el.closest('dialog')),
          ring: style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) >= 2,
        };
      });
    // A new page puts focus on its content: Tab reaches the page's own actions first, ringed.
    await page.keyboard.press('Tab');
    assert.deepEqual(await focused(), { text: 'New thing', inDialog: false, ring: true });
    await page.keyboard.press('Tab');
    assert.deepEqual(await focused(), { text: 'Import from file…', inDialog: false, ring: true });
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Import things' });
    await dialog.waitFor();
    assert.equal((await focused()).inDialog, true, 'focus moves into the dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // Focus goes back to the button that opened it.
    const focusBackOn = (text: RegExp) =>
      page.waitForFunction(
        (source) => new RegExp(source).test(document.activeElement?.textContent?.trim() ?? ''),
        text.source,
      );
    await focusBackOn(/^Import from file…$/);
    assert.deepEqual(await focused(), { text: 'Import from file…', inDialog: false, ring: true });

    // A confirmation closes on Escape too, and nothing is deleted.
    const row = page.locator('tbody tr').first();
    const name = (await row.locator('td a').first().textContent()) ?? '';
    await row.getByRole('button', { name: /^Delete/ }).focus();
    await page.keyboard.press('Enter');
    const confirm = page.getByRole('dialog', { name: 'Delete thing' });
    await confirm.waitFor();
    await check('the delete thing dialog');
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'detached' });
    await page.locator('tbody').getByRole('link', { name, exact: true }).waitFor();
    await focusBackOn(/^Delete/);

    // Pages that do not exist say so.
    await page.evaluate(() => {
      location.hash = '#/nowhere';
    });
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await check('an unknown page');
    await page.evaluate(() => {
      location.hash = '#/things/00000000-0000-4000-8000-000000000000';
    });
    await page.getByRole('heading', { level: 1, name: 'Not found' }).waitFor();
    await check('a thing that does not exist');
  });

  step('reads well at 390 px: every section from the menu, no sideways scrolling', async () => {
    await page.setViewportSize(PHONE);
    const settled = () => page.waitForFunction(() => !document.querySelector('.busy'));
    await nav('Things');
    await page.locator('.pager-status').waitFor();
    await shot('things-390', false);
    // Every section is in sight in the menu (it wraps), opens from it and fits the screen.
    const menu = page.getByRole('navigation', { name: 'Main' });
    const labels = await menu.getByRole('link').allTextContents();
    assert.ok(labels.length >= 8, `the menu: ${labels.join(', ')}`);
    for (const label of labels) {
      const link = menu.getByRole('link', { name: label, exact: true });
      const box = await link.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `${label} is in sight`);
      await link.click();
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await settled();
      await assertAccessible(page, `${label}, 390 px`);
      await assertNoSideways(page, `${label}, 390 px`);
    }

    // A thing's page: each pager keeps « … » on one line.
    await nav('Things');
    await page.getByLabel('Name contains').fill('weio');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('tbody').getByRole('link', { name: 'weio' }).click();
    await page.getByRole('heading', { level: 1, name: 'weio' }).waitFor();
    const pagers = page.locator('nav.pager');
    await pagers.first().waitFor();
    await settled();
    for (const pager of await pagers.all()) {
      const first = await pager.getByRole('button', { name: 'First page' }).boundingBox();
      const last = await pager.getByRole('button', { name: 'Last page' }).boundingBox();
      assert.ok(first && last, 'the pager shows « and »');
      assert.equal(
        Math.round(last.y),
        Math.round(first.y),
        `${await pager.getAttribute('aria-label')}: on one line`,
      );
    }
    await assertAccessible(page, 'a thing, 390 px');
    await assertNoSideways(page, 'a thing, 390 px');
    await shot('thing-390');

    await nav('Layouts');
    await page.locator('tbody').getByRole('link', { name: 'sensor-v2' }).click();
    await page.getByRole('region', { name: 'Parameters' }).locator('tbody tr').first().waitFor();
    await assertNoSideways(page, 'a layout');
    await shot('layout-390', false);
    await nav('Enrollment groups');
    await page.getByRole('button', { name: 'New enrollment group' }).click();
    await page.getByLabel('Layout', { exact: true }).selectOption('sensor-v2');
    await page.getByLabel('Name 2').waitFor();
    await assertAccessible(page, 'a new enrollment group, 390 px');
    await assertNoSideways(page, 'a new enrollment group');
    await nav('Overview');
    await page.locator('.gateways').waitFor();
    await shot('overview-390', false);
    await page.setViewportSize(DESKTOP);
  });

  step('sends the user back to login when the token is refused', async () => {
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('tethys.session')!);
      s.token = 'not-a-valid-token';
      sessionStorage.setItem('tethys.session', JSON.stringify(s));
    });
    await page.evaluate(() => {
      location.hash = '#/things';
    });
    await page.reload();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByText(/Your session has ended/).waitFor();
    await check('the login page, session ended');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tethys.session')), null);
    assert.deepEqual(session.pageErrors, [], 'no script errors in the page');
  });
});
