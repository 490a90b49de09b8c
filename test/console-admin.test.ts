import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import type { Page } from 'playwright-core';
import { Tethys, TethysError } from '../sdk/src/index.js';
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
import { dialect, type TestServer } from './helpers/server.js';
import { type SmtpServer, startSmtpServer } from './helpers/smtp.js';

/**
 * The console's account, groups and hand-made bootstrap pages, in headless Chromium
 * against the real server: a password reset through a real SMTP receiver and the mailed
 * link, a password change, groups nested and filled with things and users, and bootstrap
 * configs created and edited. Each step checks what the user sees and what the API then
 * answers, and runs axe on every page, state and dialog at 1280x800 and 390x844.
 */

const PEM = (kind: string, body: string) => `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;

describe('the link of a password-reset mail', () => {
  it('sends the browser on to the console page that sets the new password, by a relative address', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-console-dist-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
    try {
      for (const [endpoint, up] of [
        ['/reset-request', './'],
        ['/password/new', '../'],
      ] as const) {
        const app = Fastify();
        consoleRoutes(app, dir, endpoint);
        const reply = await app.inject({ method: 'GET', url: `${endpoint}?token=a.b-c_d` });
        assert.equal(reply.statusCode, 302);
        assert.equal(reply.headers.location, `${up}#/reset-password?token=a.b-c_d`);
        assert.equal(reply.headers['cache-control'], 'no-store');
        const bare = await app.inject({ method: 'GET', url: endpoint });
        assert.equal(bare.headers.location, `${up}#/forgot-password`);
        await app.close();
      }
      // A path the console already serves, or one that is not a plain path, is left alone.
      const app = Fastify();
      consoleRoutes(app, dir, '/index.html');
      assert.equal((await app.inject({ method: 'GET', url: '/index.html' })).statusCode, 200);
      await app.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe(`web console: account, groups, bootstrap by hand (${dialect})`, { skip: browserSkip }, () => {
  let smtp: SmtpServer;
  let session: ConsoleSession;
  let server: TestServer;
  let page: Page;
  const email = 'night.ops@example.com';
  let password = 'first-password-1';
  let sdk: Tethys;

  const shot = (name: string, fullPage = true) => session.shot(name, fullPage);
  const nav = (label: string) => openSection(page, label);
  /** axe at both sizes, and no sideways scrolling on the phone; back to the desktop after. */
  const check = async (state: string, phoneShot?: string) => {
    await assertAccessible(page, `${state} (1280px)`);
    await page.setViewportSize(PHONE);
    try {
      await assertAccessible(page, `${state} (390px)`);
      await assertNoSideways(page, `${state} (390px)`);
      if (phoneShot) await shot(phoneShot, false);
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  };
  const dialog = (name: string | RegExp) => page.getByRole('dialog', { name });
  const login = async (pass: string) => {
    const r = await fetch(`${server.url}/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: pass }),
    });
    return r.status;
  };

  before(async () => {
    smtp = await startSmtpServer();
    session = await openConsole({ MF_EMAIL_HOST: smtp.host, MF_EMAIL_PORT: String(smtp.port) });
    ({ server, page } = session);
    const anonymous = new Tethys({ url: server.url });
    await anonymous.users.register(email, password);
    sdk = anonymous.withToken(await anonymous.users.login(email, password));
  });

  const step = stepper(() => page);

  after(async () => {
    await session?.close();
    await smtp?.close();
  });

  step('resets a forgotten password with the link the server mails', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await check('the forgot-password page');

    // An address without an account says so.
    await page.getByLabel('E-mail address').fill('nobody@example.com');
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('alert').getByText('No account uses this e-mail address').waitFor();
    await check('the forgot-password page with an error');

    const sent = smtp.messages.length;
    await page.getByLabel('E-mail address').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByText(`A link is on its way to ${email}`).waitFor();
    const mail = await smtp.waitForMessage(sent + 1);
    assert.deepEqual(mail.to, [email]);
    // The console's own address (the Referer) + /reset-request, with one slash between.
    const link = new RegExp(`${server.url.replace(/[.:/]/g, '\\$&')}/reset-request\\?token=[\\w.-]+`).exec(
      mail.body,
    )?.[0];
    assert.ok(link, `no console reset link in the mail: ${mail.body}`);
    await shot('password-forgot', false);

    // A link with a bad token says what to do.
    await page.goto(`${server.url}/reset-request?token=not-a-token`);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.getByLabel('New password', { exact: true }).fill('second-password-2');
    await page.getByLabel('New password again').fill('second-password-2');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByRole('alert').getByText('This link has run out or is not valid').waitFor();
    await page.getByRole('link', { name: 'Ask for a new link' }).waitFor();
    await check('the reset page with a bad link');

    await page.goto(link);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    assert.match(page.url(), /#\/reset-password\?token=/);
    await check('the choose-a-new-password page');
    await shot('password-reset', false);
    await page.getByLabel('New password', { exact: true }).fill('second-password-2');
    await page.getByLabel('New password again').fill('second-password-X');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByRole('alert').getByText('The two passwords differ').waitFor();
    await page.getByLabel('New password again').fill('second-password-2');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('Your new password is set.').waitFor();
    await check('the reset page after the reset');
    assert.equal(await login(password), 403, 'the old password still works');
    password = 'second-password-2';
    assert.equal(await login(password), 201);

    await page.getByRole('link', { name: 'Log in with it' }).click();
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  });

  step('changes the password on the Account page', async () => {
    await nav('Account');
    await page.getByRole('heading', { name: 'Account', level: 1 }).waitFor();
    const me = await sdk.users.profile();
    await page.getByText(me.id, { exact: true }).waitFor();
    await check('the account page');

    // A wrong current password is refused in words, and the session goes on.
    await page.getByLabel('Current password').fill('not-my-password');
    await page.getByLabel('New password', { exact: true }).fill('third-password-3');
    await page.getByLabel('New password again').fill('third-password-3');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').getByText('The current password is wrong.').waitFor();
    await check('the account page with an error');
    assert.equal(await login(password), 201);

    await page.getByLabel('Current password').fill(password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password is changed.').waitFor();
    await shot('account');
    assert.equal(await login(password), 403);
    password = 'third-password-3';
    assert.equal(await login(password), 201);
    // Still logged in.
    await nav('Overview');
  });

  let north = '';
  let hall = '';
  const things: Record<string, string> = {};

  step('creates a group and a subgroup', async () => {
    await nav('Groups');
    await page.getByText('No groups yet.').waitFor();
    await check('the groups page, empty');

    await page.getByRole('button', { name: 'New group' }).click();
    await dialog('New group').waitFor();
    await check('the new group dialog');
    await dialog('New group').getByLabel('Name').fill('Site north');
    await dialog('New group').getByLabel('Description (optional)').fill('Pumps and valves on the north site');
    await dialog('New group').getByLabel('Metadata (optional)').fill('{"site": "north"');
    await dialog('New group').getByText('Invalid JSON').waitFor();
    assert.ok(await dialog('New group').getByRole('button', { name: 'Create group' }).isDisabled());
    await dialog('New group').getByLabel('Metadata (optional)').fill('{"site": "north"}');
    await dialog('New group').getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: 'Site north', level: 1 }).waitFor();
    north = decodeURIComponent(/#\/groups\/([^?]+)/.exec(page.url())![1]!);
    const created = await sdk.groups.get(north);
    assert.equal(created.name, 'Site north');
    assert.equal(created.description, 'Pumps and valves on the north site');
    assert.deepEqual(created.metadata, { site: 'north' });
    await check('a group page, empty');

    await page.goto(`${server.url}/#/groups/${encodeURIComponent(north)}`);
    await page.getByRole('heading', { name: 'Site north', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New subgroup' }).click();
    await dialog('New subgroup of Site north').waitFor();
    // The keyboard alone: type the name and press Enter.
    await dialog('New subgroup of Site north').getByLabel('Name').fill('Hall A');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Hall A', level: 1 }).waitFor();
    hall = decodeURIComponent(/#\/groups\/([^?]+)/.exec(page.url())![1]!);
    assert.equal((await sdk.groups.get(hall)).parent_id, north);
    await page
      .getByRole('navigation', { name: 'Breadcrumb' })
      .getByRole('link', { name: 'Site north' })
      .click();
    await page.getByRole('heading', { name: 'Site north', level: 1 }).waitFor();
    await page
      .getByRole('list', { name: 'Subgroups of Site north' })
      .getByRole('link', { name: 'Hall A' })
      .waitFor();

    // The same name twice under one parent is refused, in words.
    await page.getByRole('button', { name: 'New subgroup' }).click();
    const again = dialog('New subgroup of Site north');
    await again.getByLabel('Name').fill('Hall A');
    await again.getByRole('button', { name: 'Create group' }).click();
    await again.getByRole('alert').getByText('already exists at this place').waitFor();
    await check('the new subgroup dialog with an error');
    await page.keyboard.press('Escape');
    await again.waitFor({ state: 'detached' });
    await page
      .getByRole('list', { name: 'Subgroups of Site north' })
      .getByRole('link', { name: 'Hall A' })
      .click();
    await page.getByRole('heading', { name: 'Hall A', level: 1 }).waitFor();
  });

  step('adds things and users to a group, browses and removes them', async () => {
    for (const name of ['pump-1', 'pump-2', 'valve-9']) things[name] = await sdk.things.create({ name });
    await page.getByRole('button', { name: 'Add things' }).click();
    const add = dialog('Add things to Hall A');
    await add.waitFor();
    await add.getByLabel('Find things by name').fill('pump');
    await add.getByRole('checkbox', { name: /pump-1/ }).check();
    await add.getByRole('checkbox', { name: /pump-2/ }).check();
    await add.getByRole('checkbox', { name: /valve-9/ }).waitFor({ state: 'detached' });
    await check('the add-things dialog');
    await add.getByRole('button', { name: 'Add 2 things' }).click();
    await page.getByText('Added 2 things to Hall A.').waitFor();
    const table = page.getByRole('table', { name: /Things in Hall A/ });
    await table.getByRole('link', { name: 'pump-1' }).waitFor();
    await table.getByRole('link', { name: 'pump-2' }).waitFor();
    const members = await sdk.groups.members(hall, { type: 'things' });
    assert.deepEqual(members.Members.map((m) => m.ID).sort(), [things['pump-1'], things['pump-2']].sort());
    // A thing's page lists its groups, linked.
    await table.getByRole('link', { name: 'pump-1' }).click();
    await page.getByRole('heading', { name: 'pump-1', level: 1 }).waitFor();
    await page
      .getByRole('list', { name: 'Groups of this thing' })
      .getByRole('link', { name: 'Hall A' })
      .click();
    await page.getByRole('heading', { name: 'Hall A', level: 1 }).waitFor();

    // One already in the group: nothing is added, and the dialog says why.
    await page.getByRole('button', { name: 'Add things' }).click();
    await add.getByLabel('Find things by name').fill('pump-1');
    await add.getByRole('checkbox', { name: /pump-1/ }).check();
    await add.getByRole('button', { name: 'Add 1 thing' }).click();
    await add.getByRole('alert').getByText('already in this group').waitFor();
    await check('the add-things dialog with an error');
    await page.keyboard.press('Escape');
    await add.waitFor({ state: 'detached' });

    const me = await sdk.users.profile();
    await page.getByRole('button', { name: 'Add users' }).click();
    const addUsers = dialog('Add users to Hall A');
    await addUsers.getByRole('button', { name: 'Add my own account' }).click();
    assert.equal(await addUsers.getByLabel('User ids').inputValue(), me.id);
    await check('the add-users dialog');
    await addUsers.getByRole('button', { name: 'Add users' }).click();
    await page.getByText('Added 1 user to Hall A.').waitFor();
    await page
      .getByRole('table', { name: /Users in Hall A/ })
      .getByText(me.id, { exact: true })
      .waitFor();
    assert.deepEqual(
      (await sdk.groups.members(hall, { type: 'users' })).Members.map((m) => m.ID),
      [me.id],
    );
    await check('a group page with members', 'group-390');
    await shot('group');

    await table.getByRole('button', { name: 'Remove pump-2 from the group' }).click();
    await dialog('Remove thing').getByRole('button', { name: 'Remove thing' }).click();
    await dialog('Remove thing').waitFor({ state: 'detached' });
    await table.getByRole('link', { name: 'pump-2' }).waitFor({ state: 'detached' });
    assert.deepEqual(
      (await sdk.groups.members(hall, { type: 'things' })).Members.map((m) => m.ID),
      [things['pump-1']],
    );
  });

  step('edits a group, shows the tree, and deletes a group once it is empty', async () => {
    await page.getByRole('button', { name: 'Edit' }).click();
    const edit = dialog('Edit Hall A');
    await edit.getByLabel('Name').fill('Hall A1');
    await check('the edit group dialog');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Hall A1', level: 1 }).waitFor();
    assert.equal((await sdk.groups.get(hall)).name, 'Hall A1');

    await nav('Groups');
    const tree = page.getByRole('list', { name: 'Your groups' });
    await tree.getByRole('link', { name: 'Site north' }).first().waitFor();
    await tree.getByRole('link', { name: 'Hall A1' }).waitFor();
    await check('the groups tree', 'groups-390');
    await shot('groups');

    // A group with members cannot go.
    await tree.getByRole('link', { name: 'Hall A1' }).click();
    await page.getByRole('heading', { name: 'Hall A1', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    await dialog('Delete group').getByRole('button', { name: 'Delete group' }).click();
    await dialog('Delete group').getByRole('alert').getByText('still has members').waitFor();
    await check('the delete group dialog with an error');
    await page.keyboard.press('Escape');

    await sdk.groups.unassign(hall, [things['pump-1']!, (await sdk.users.profile()).id]);
    await page.getByRole('button', { name: 'Delete' }).click();
    await dialog('Delete group').getByRole('button', { name: 'Delete group' }).click();
    await page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
    await assert.rejects(sdk.groups.get(hall), (err) => err instanceof TethysError && err.status === 404);
  });

  let ctrl = '';
  let data = '';

  step('creates a bootstrap config by hand, with a masked, generated external key', async () => {
    ctrl = await sdk.channels.create({ name: 'north-control' });
    data = await sdk.channels.create({ name: 'north-data' });
    await nav('Bootstrap');
    await page.getByRole('button', { name: 'New config' }).click();
    const form = dialog('New bootstrap config');
    await form.waitFor();
    await check('the new config dialog');
    await form.getByLabel('Name (optional)').fill('gw-hand');
    await form.getByLabel('External id').fill('02:42:ac:11:00:99');
    await form.getByRole('button', { name: 'Generate External key' }).click();
    const key = form.getByLabel('External key');
    assert.equal(await key.getAttribute('type'), 'password');
    await form.getByRole('button', { name: 'Reveal External key' }).click();
    assert.equal(await key.getAttribute('type'), 'text');
    const externalKey = await key.inputValue();
    assert.match(externalKey, /^[0-9a-f]{32}$/);
    await form.getByRole('button', { name: 'Hide External key' }).click();

    await form.getByLabel('Find channels by name').fill('north-control');
    await form.getByRole('checkbox', { name: /north-control/ }).check();
    await form.getByLabel('Find channels by name').fill('north-data');
    await form.getByRole('checkbox', { name: /north-data/ }).check();
    await form.getByLabel('Content (optional)').fill('{"log_level": "info"}');
    await form.getByText('Certificates (optional)').click();
    await form.getByLabel('Client certificate (PEM)').fill(PEM('CERTIFICATE', 'Y2xpZW50'));
    await form.getByLabel('Client key (PEM)').fill(PEM('PRIVATE KEY', 'c2VjcmV0'));
    assert.equal(
      await form
        .getByLabel('Client key (PEM)')
        .evaluate((el) => getComputedStyle(el).getPropertyValue('-webkit-text-security')),
      'disc',
      'the client key is masked',
    );
    await form.getByLabel('CA certificate (PEM)').fill(PEM('CERTIFICATE', 'Y2E='));
    await check('the new config dialog, filled in');
    await form.evaluate((el) => {
      el.scrollTop = 0;
      el.querySelector('.dialog-body')?.scrollTo(0, 0);
    });
    await shot('bootstrap-new', false);
    await form.getByRole('button', { name: 'Create config' }).click();
    await page.getByText('Created the config of gw-hand.').waitFor();

    const listed = (await sdk.bootstrap.list({ name: 'gw-hand' })).configs;
    assert.equal(listed.length, 1);
    const config = await sdk.bootstrap.get(listed[0]!.mainflux_id);
    assert.equal(config.external_id, '02:42:ac:11:00:99');
    assert.equal(config.external_key, externalKey);
    assert.equal(config.state, 0);
    assert.deepEqual(
      config.mainflux_channels?.map((c) => c.id),
      [ctrl, data],
    );
    const device = await sdk.bootstrap.fetch('02:42:ac:11:00:99', externalKey);
    assert.equal(device.content, '{"log_level":"info"}');
    assert.equal(device.client_key, PEM('PRIVATE KEY', 'c2VjcmV0'));

    // The same external id again: refused, in words.
    await page.getByRole('button', { name: 'New config' }).click();
    await form.getByLabel('External id').fill('02:42:ac:11:00:99');
    await form.getByLabel('External key').fill('another-key');
    await form.getByRole('button', { name: 'Create config' }).click();
    await form.getByRole('alert').getByText('already used by another config').waitFor();
    await check('the new config dialog with an error');

    // For one of my things.
    await form.getByRole('radio', { name: 'Use one of my things' }).check();
    await form.getByLabel('Thing id').fill(things['valve-9']!);
    await form.getByLabel('Name (optional)').fill('gw-valve');
    await form.getByLabel('External id').fill('02:42:ac:11:00:aa');
    await form.getByRole('button', { name: 'Create config' }).click();
    await page.getByText('Created the config of gw-valve.').waitFor();
    assert.equal((await sdk.bootstrap.get(things['valve-9']!)).external_id, '02:42:ac:11:00:aa');
    await check('the bootstrap page with hand-made configs');
  });

  step("edits a config's channels and certificates", async () => {
    const id = (await sdk.bootstrap.list({ name: 'gw-hand' })).configs[0]!.mainflux_id;
    await page.getByRole('button', { name: 'Channels of 02:42:ac:11:00:99' }).click();
    const channels = dialog('Channels of gw-hand');
    await channels.getByRole('listitem').filter({ hasText: 'north-control' }).waitFor();
    await check('the config channels dialog');
    await shot('bootstrap-channels', false);
    await channels.getByRole('button', { name: 'Remove north-control' }).click();
    await channels.getByRole('button', { name: 'Save channels' }).click();
    await page.getByText('Saved the channels of gw-hand.').waitFor();
    assert.deepEqual(
      (await sdk.bootstrap.get(id)).mainflux_channels?.map((c) => c.id),
      [data],
    );

    await page.getByRole('button', { name: 'Certificates of 02:42:ac:11:00:99' }).click();
    const certs = dialog('Certificates of gw-hand');
    await certs.getByLabel('Client certificate (PEM)').fill('not a certificate');
    await certs.getByRole('button', { name: 'Save certificates' }).click();
    await certs.getByRole('alert').getByText('not in PEM form').waitFor();
    await check('the certificates dialog with an error');
    await certs.getByLabel('Client certificate (PEM)').fill(PEM('CERTIFICATE', 'bmV3'));
    await certs.getByLabel('Client key (PEM)').fill(PEM('PRIVATE KEY', 'bmV3LWtleQ=='));
    await certs.getByLabel('CA certificate (PEM)').fill(PEM('CERTIFICATE', 'bmV3LWNh'));
    await certs.getByRole('button', { name: 'Save certificates' }).click();
    await page.getByText('Saved the certificates of gw-hand.').waitFor();
    const key = (await sdk.bootstrap.get(id)).external_key!;
    const device = await sdk.bootstrap.fetch('02:42:ac:11:00:99', key);
    assert.equal(device.client_cert, PEM('CERTIFICATE', 'bmV3'));
    assert.equal(device.client_key, PEM('PRIVATE KEY', 'bmV3LWtleQ=='));
    assert.equal(device.ca_cert, PEM('CERTIFICATE', 'bmV3LWNh'));
    assert.deepEqual(session.pageErrors, []);
  });

  it('resets a password through the SDK in Node, the Referer given as the link (a trailing slash dropped)', async () => {
    const anonymous = new Tethys({ url: server.url });
    const sent = smtp.messages.length;
    await anonymous.users.requestReset(email, 'https://ops.example.com/console/');
    const mail = await smtp.waitForMessage(sent + 1);
    const token = /https:\/\/ops\.example\.com\/console\/reset-request\?token=([\w.-]+)/.exec(mail.body)?.[1];
    assert.ok(token, `no reset link in: ${mail.body}`);
    await assert.rejects(
      anonymous.users.resetPassword(token, 'fourth-password-4', 'fourth-password-X'),
      (err) => err instanceof TethysError && err.status === 400,
    );
    await anonymous.users.resetPassword(token, 'fourth-password-4');
    assert.equal(await login('fourth-password-4'), 201);
  });
});
