import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import type { Tethys } from '../sdk/src/index.js';
import { assertAccessible, assertNoSideways } from './helpers/axe.js';
import {
  browserSkip,
  type ConsoleSession,
  DESKTOP,
  openConsole,
  nav as openSection,
  PHONE,
  signIn,
  stepper,
} from './helpers/browser.js';
import { dialect } from './helpers/server.js';

/**
 * The audit trail in the console (issue 21), in headless Chromium against the real
 * server: the Activity page (sentences, links, "removed", filters in the URL, paging)
 * and the History of a thing, a gateway and a channel. Every state visited is checked
 * with axe at 1280x800 and 390x844 (where nothing may scroll sideways).
 */

describe(`console: activity and history (${dialect})`, { skip: browserSkip }, () => {
  let session: ConsoleSession;
  let page: Page;
  let me: Tethys;
  const email = 'alice@example.com';
  const password = 'activity-password';
  const ids = { pump: '', valve: '', channel: '', gateway: '' };

  /** axe at both sizes, no sideways scrolling on the phone. */
  const check = async (state: string) => {
    await assertAccessible(page, state);
    await page.setViewportSize(PHONE);
    try {
      await assertAccessible(page, `${state}, 390 px`);
      await assertNoSideways(page, `${state}, 390 px`);
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  };
  const items = () =>
    page.getByRole('list', { name: /Activity, newest first|History of this/ }).getByRole('listitem');
  const flat = (t: string) => t.replace(/\s+/g, ' ').trim();
  /** Each listed event's sentence, then its time, source and details after " — ". */
  const itemTexts = async () =>
    Promise.all(
      (await items().all()).map(async (li) => {
        const what = flat((await li.locator('.event-what').textContent()) ?? '');
        return `${what} — ${flat((await li.locator('.event-meta').textContent()) ?? '')}`;
      }),
    );

  before(async () => {
    session = await openConsole();
    page = session.page;
    const sdk = session.request.sdk();
    await sdk.users.register(email, password);
    me = sdk.withToken(await sdk.users.login(email, password));
    ids.pump = await me.things.create({ name: 'pump', metadata: { site: 'north' } });
    await me.things.update(ids.pump, { name: 'pump 2', metadata: { site: 'north', floor: 1 } });
    ids.channel = await me.channels.create({ name: 'telemetry' });
    await me.connect([ids.channel], [ids.pump]);
    ids.valve = await me.things.create({ name: 'valve' });
    await me.things.remove(ids.valve);
    ids.gateway = await me.bootstrap.create({
      external_id: 'gw-001',
      external_key: 'gw-001-secret',
      name: 'gateway one',
      channels: [ids.channel],
    });
  });

  after(async () => {
    await session?.close();
  });

  const step = stepper(() => page);

  step('Activity lists every change as a sentence, newest first, with links and "removed"', async () => {
    await signIn(page, session.server.url, email, password);
    await openSection(page, 'Activity');
    await page.getByRole('heading', { name: 'Activity', level: 1 }).waitFor();
    await items().first().waitFor();
    // A connection's event names its thing and channel by id until they are looked up.
    await page.getByText(`${email} connected the thing 'pump 2' to the channel 'telemetry'`).waitFor();
    const texts = await itemTexts();
    const pumpCreated = texts.findIndex((t) => t.startsWith(`${email} created the thing 'pump'`));
    const pumpChanged = texts.findIndex((t) => t.startsWith(`${email} changed the thing 'pump 2'`));
    const connected = texts.findIndex((t) =>
      t.startsWith(`${email} connected the thing 'pump 2' to the channel 'telemetry'`),
    );
    const valveRemoved = texts.findIndex((t) => t.startsWith(`${email} removed the thing 'valve' removed —`));
    assert.ok(pumpCreated >= 0 && pumpChanged >= 0 && connected >= 0 && valveRemoved >= 0, texts.join('\n'));
    assert.ok(
      valveRemoved < connected && connected < pumpChanged && pumpChanged < pumpCreated,
      'newest first',
    );
    assert.match(texts[pumpChanged]!, /just now|seconds? ago|minutes? ago/);
    assert.match(texts[pumpChanged]!, /metadata: site, floor/, 'what changed, in words');
    assert.match(texts[pumpChanged]!, /from 127\.0\.0\.1/);

    // The exact time on hover; the entity links to its page; a removed one is not a link.
    const changed = items().nth(pumpChanged);
    const title = await changed.locator('time').getAttribute('title');
    assert.ok(title && title.length > 8, 'the exact time is in the title');
    assert.equal(
      await changed.getByRole('link', { name: "'pump 2'" }).getAttribute('href'),
      `#/things/${ids.pump}`,
    );
    const removed = items().nth(valveRemoved);
    assert.equal(await removed.getByRole('link').count(), 0, 'a removed thing has no link');
    assert.equal(await removed.getByText('removed', { exact: true }).count(), 1);
    assert.ok(
      !(await page.locator('#app').textContent())?.includes('gw-001-secret'),
      'no secret on the page',
    );
    await session.shot('activity');
    await page.setViewportSize(PHONE);
    await session.shot('activity-390', false);
    await page.setViewportSize(DESKTOP);
    await check('activity, everything');
  });

  step('Activity filters by kind of change, by actor, by time; the filters are in the URL', async () => {
    await page.getByLabel('Kind of change').selectOption('connection.');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=connection\./);
    await page.waitForFunction(() => document.querySelectorAll('ol.events > li').length === 1);
    await page.getByText(`${email} connected the thing 'pump 2' to the channel 'telemetry'`).waitFor();
    assert.deepEqual(
      (await itemTexts()).map((t) => t.split(' — ')[0]),
      [`${email} connected the thing 'pump 2' to the channel 'telemetry'`],
    );
    await check('activity, connections only');

    await page.getByLabel('Made by').fill('nobody@example.com');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No change matches these filters.').waitFor();
    await check('activity, nothing matches');

    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('When').selectOption('custom');
    await page.getByLabel('From').waitFor();
    await page.getByLabel('From').fill('2000-01-01T00:00');
    await page.getByLabel('Until').fill('2000-01-02T00:00');
    await check('activity, choosing a period');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No change matches these filters.').waitFor();
    await page.getByLabel('When').selectOption('1h');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/period=1h/);
    await page.getByText(`${email} created the thing 'pump'`).first().waitFor();
  });

  step('Activity pages through many events', async () => {
    await me.things.createMany(Array.from({ length: 30 }, (_, i) => ({ name: `sensor-${i}` })));
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.waitForURL(/#\/activity$/);
    await page.getByText(`${email} created the thing 'sensor-29'`).waitFor();
    assert.equal(await items().count(), 25, 'a page of 25');
    await page
      .getByRole('navigation', { name: 'Activity pages' })
      .getByText(/^1–25 of \d+$/)
      .waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.waitForURL(/offset=25/);
    await page.getByText(`${email} created the thing 'pump'`).waitFor();
    await check('activity, page 2');
  });

  step("a thing's page shows its History, linked to its activity", async () => {
    await page.getByRole('link', { name: "'pump 2'" }).first().click();
    await page.getByRole('heading', { name: 'pump 2', level: 1 }).waitFor();
    const history = page.getByRole('region', { name: 'History' });
    await history.getByRole('listitem').first().waitFor();
    // Ids show until the names they stand for are looked up: wait for the names.
    await history.getByText("connected the thing 'pump 2' to the channel 'telemetry'").waitFor();
    await history.getByText("created the thing 'pump'").waitFor();
    const texts = await itemTexts();
    assert.equal(texts.length, 3, texts.join('\n'));
    assert.match(texts[0]!, /connected the thing 'pump 2' to the channel 'telemetry'/);
    assert.match(texts[1]!, /changed the thing 'pump 2'/);
    assert.match(texts[2]!, /created the thing 'pump'/);
    await check('a thing with its history');
    await history.scrollIntoViewIfNeeded();
    await session.shot('thing-history', false);
    // A change made meanwhile shows up without leaving the page.
    await me.things.updateKey(ids.pump, 'pump-new-key-secret');
    await history.getByText(`${email} changed the key of the thing 'pump 2'`).waitFor();
    assert.ok(!(await history.textContent())?.includes('pump-new-key-secret'), 'the history shows no key');
    await history.getByRole('link', { name: 'All activity about this thing' }).click();
    await page.waitForURL(new RegExp(`entity=${ids.pump}`));
    await page.getByRole('heading', { name: 'Activity', level: 1 }).waitFor();
    assert.equal(await page.getByLabel('About (id)').inputValue(), ids.pump);
  });

  step("a gateway's page and a channel's page show their History", async () => {
    await page.goto(`${session.server.url}/#/things/${ids.gateway}`);
    const history = page.getByRole('region', { name: 'History' });
    await history.getByRole('listitem').first().waitFor();
    assert.ok((await history.getByRole('listitem').count()) >= 1);
    await check('a gateway with its history');

    await page.goto(`${session.server.url}/#/channels/${ids.channel}`);
    await page.getByRole('heading', { name: 'telemetry', level: 1 }).waitFor();
    await page
      .getByRole('region', { name: 'History' })
      .getByText(`${email} connected the thing 'pump 2' to the channel 'telemetry'`)
      .waitFor();
    await check('a channel with its history');
    assert.deepEqual(session.pageErrors, []);
  });
});
