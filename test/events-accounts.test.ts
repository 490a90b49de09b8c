import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { AuditEvent } from '../src/audit/types.js';
import { assertError, createThing } from './helpers/entities.js';
import type { Request } from './helpers/server.js';
import { withServer } from './helpers/server.js';
import { type SmtpServer, startSmtpServer } from './helpers/smtp.js';
import { clockPast } from './helpers/wait.js';

/**
 * The audit trail (issue 21) of the account side: users (register, metadata, password
 * change and reset), API keys (issue, revoke, expiry), groups (create, update, remove,
 * members in and out) and named layouts. One event an entity changed, none for a refused
 * request, none left by a change that rolled back, each readable by its owner and the
 * admin only, and never a password, a key or a token in one.
 */

const ADMIN = { email: 'admin-accounts@example.com', password: 'admin-password-1' };
const uid = () => crypto.randomBytes(5).toString('hex');

/** A small layout with two parameters, in TOML's inline tables. */
const LAYOUT = [
  '[parameters]',
  'site = { type = "string", required = true }',
  'floor = { type = "integer", default = 1 }',
  '[[things]]',
  'name = "{{site}}-gw"',
  'metadata = { external_id = "x" }',
  '[[channels]]',
  'name = "control"',
  'metadata = { type = "control" }',
  '[[channels]]',
  'name = "data"',
  'metadata = { type = "data" }',
].join('\n');

interface Account {
  id: string;
  email: string;
  password: string;
  token: string;
}

/** GET /events as the token, with the query (a string of `name=value&…`); asserts 200. */
async function events(
  request: Request,
  token: string,
  query = '',
): Promise<{ total: number; events: AuditEvent[] }> {
  const url = new URL('/events', 'http://x');
  for (const [name, value] of new URLSearchParams(query)) url.searchParams.set(name, value);
  const reply = await request('GET', `${url.pathname}${url.search}`, { token });
  assert.equal(reply.status, 200, `${url.search}: ${reply.text}`);
  return reply.json;
}

/** Every event the token may read, oldest first (each page of 100 in turn). */
async function allEvents(request: Request, token: string, query = ''): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (;;) {
    const page = await events(request, token, `${query}&dir=asc&limit=100&offset=${out.length}`);
    out.push(...page.events);
    if (page.events.length === 0 || out.length >= page.total) return out;
  }
}

/** Asserts the event's fields (those given) and returns it. */
function expectEvent(event: AuditEvent | undefined, want: Partial<AuditEvent>): AuditEvent {
  assert.ok(event, `no event like ${JSON.stringify(want)}`);
  for (const [field, value] of Object.entries(want))
    assert.deepEqual(event[field as keyof AuditEvent], value, `${field} of ${JSON.stringify(event)}`);
  return event;
}

describe('audit trail: users, keys, groups, layouts', () => {
  let smtp: SmtpServer;
  before(async () => {
    smtp = await startSmtpServer();
  });
  const fixture = withServer(() => ({
    MF_USERS_ADMIN_EMAIL: ADMIN.email,
    MF_USERS_ADMIN_PASSWORD: ADMIN.password,
    MF_EMAIL_HOST: smtp.host,
    MF_EMAIL_PORT: String(smtp.port),
  }));
  after(async () => {
    await smtp?.close();
  });
  const { request } = fixture;
  /** Secret strings the tests used: none may appear in any event. */
  const secrets = new Set<string>();

  const account = async (): Promise<Account> => {
    const email = `acc-${uid()}@example.com`;
    const password = `pw-${uid()}-hidden`;
    secrets.add(password);
    const reg = await request('POST', '/users', { body: { email, password, metadata: { team: 'a' } } });
    assert.equal(reg.status, 201, reg.text);
    const token = await request.sdk().users.login(email, password);
    secrets.add(token);
    const profile = await request('GET', '/users/profile', { token });
    return { id: profile.json.id, email, password, token };
  };
  const adminToken = async () => {
    const token = await request.sdk().users.login(ADMIN.email, ADMIN.password);
    secrets.add(token);
    return token;
  };
  const createGroup = async (token: string, body: Record<string, unknown>): Promise<string> => {
    const reply = await request('POST', '/groups', { token, body });
    assert.equal(reply.status, 201, reply.text);
    return reply.headers.get('location')!.slice('/groups/'.length);
  };

  it('users: register, metadata, password change and reset record one event each; a reset request none', async () => {
    const user = await account();
    const mine = await allEvents(request, user.token);
    assert.equal(mine.length, 1);
    expectEvent(mine[0], {
      action: 'user.register',
      entity_type: 'user',
      entity_id: user.id,
      related_id: null,
      owner: user.email,
      actor: user.email,
      actor_user: user.email,
      source: '127.0.0.1',
      details: { email: user.email, metadata_fields: ['team'] },
    });

    assert.equal(
      (await request('PUT', '/users', { token: user.token, body: { metadata: { team: 'b', floor: 2 } } }))
        .status,
      200,
    );
    const newPassword = `np-${uid()}-hidden`;
    secrets.add(newPassword);
    const change = await request('PATCH', '/password', {
      token: user.token,
      body: { old_password: user.password, password: newPassword },
    });
    assert.equal(change.status, 201, change.text);

    // The reset request stores nothing (its recovery token is a signed JWT, not kept): no event.
    const sent = smtp.messages.length;
    const asked = await request('POST', '/password/reset-request', {
      body: { email: user.email },
      headers: { referer: 'http://ui.example.com' },
    });
    assert.equal(asked.status, 201, asked.text);
    const mail = await smtp.waitForMessage(sent + 1);
    const recovery = /token=([\w.-]+)/.exec(mail.body)?.[1];
    assert.ok(recovery, mail.body);
    secrets.add(recovery);
    assert.equal((await allEvents(request, user.token)).length, 3, 'no event for the reset request');
    const resetPassword = `rp-${uid()}-hidden`;
    secrets.add(resetPassword);
    const reset = await request('PUT', '/password/reset', {
      body: { token: recovery, password: resetPassword, confirm_password: resetPassword },
    });
    assert.equal(reset.status, 201, reset.text);

    const all = await allEvents(request, user.token);
    assert.deepEqual(
      all.map((e) => e.action),
      ['user.register', 'user.update', 'user.password_change', 'user.password_reset'],
    );
    for (const e of all.slice(1))
      expectEvent(e, { entity_type: 'user', entity_id: user.id, owner: user.email, actor: user.email });
    assert.deepEqual(all[1]!.details, { metadata_fields: ['team', 'floor'] });
    assert.deepEqual(all[2]!.details, {});
    assert.deepEqual(all[3]!.details, {});
  });

  it('users: refused requests record nothing', async () => {
    const user = await account();
    assertError(
      await request('POST', '/users', { body: { email: user.email, password: 'another-pass-1' } }),
      409,
    );
    const weak = `weak-${uid()}@example.com`;
    assertError(await request('POST', '/users', { body: { email: weak, password: 'x' } }), 400);
    assertError(
      await request('PATCH', '/password', {
        token: user.token,
        body: { old_password: 'not-the-password', password: 'whatever-new-1' },
      }),
      403,
    );
    assertError(await request('PUT', '/users', { body: { metadata: { a: 1 } } }), 403);
    assertError(
      await request('PUT', '/password/reset', {
        body: { token: 'forged', password: 'whatever-new-1', confirm_password: 'whatever-new-1' },
      }),
      403,
    );
    const admin = await adminToken();
    const about = await allEvents(request, admin, `entity_type=user&from=${Date.now() - 60_000}`);
    assert.deepEqual(
      about.filter((e) => e.owner === user.email || e.owner === weak).map((e) => e.action),
      ['user.register'],
    );
  });

  it('keys: issue, revoke and expiry record one event each, never the key', async () => {
    const user = await account();
    const issued = await request('POST', '/keys', { token: user.token, body: { type: 2, duration: 3600 } });
    assert.equal(issued.status, 201, issued.text);
    secrets.add(issued.json.value);
    const forever = await request('POST', '/keys', { token: user.token, body: { type: 2 } });
    assert.equal(forever.status, 201, forever.text);
    secrets.add(forever.json.value);
    // A login key (type 0) is a signed token, not stored: no event.
    const login = await request('POST', '/keys', { token: user.token, body: { type: 0 } });
    assert.equal(login.status, 201, login.text);
    secrets.add(login.json.value);
    // Made with an API key: the key is the actor.
    const byKey = await createThing(request, issued.json.value, { name: 'by-key' });

    assert.equal((await request('DELETE', `/keys/${issued.json.id}`, { token: user.token })).status, 204);
    // Revoking again, or another's key, changes nothing: no event.
    assert.equal((await request('DELETE', `/keys/${issued.json.id}`, { token: user.token })).status, 204);
    const other = await account();
    assert.equal((await request('DELETE', `/keys/${forever.json.id}`, { token: other.token })).status, 204);
    assertError(await request('DELETE', `/keys/${forever.json.id}`, { token: forever.json.value }), 403);
    assertError(await request('POST', '/keys', { token: forever.json.value, body: { type: 2 } }), 403);
    assertError(await request('POST', '/keys', { token: user.token, body: { type: 7 } }), 400);

    const keyEvents = await allEvents(request, user.token, 'entity_type=key');
    assert.equal(keyEvents.length, 3, JSON.stringify(keyEvents));
    const [a, b, revoked] = keyEvents;
    const expires = new Date(issued.json.expires_at);
    expectEvent(a, {
      action: 'key.issue',
      entity_type: 'key',
      entity_id: issued.json.id,
      owner: user.email,
      actor: user.email,
    });
    assert.equal(a!.details.type, 2);
    assert.ok(
      Math.abs(Date.parse(a!.details.expires_at as string) - expires.getTime()) < 2000,
      JSON.stringify(a!.details),
    );
    expectEvent(b, {
      action: 'key.issue',
      entity_id: forever.json.id,
      owner: user.email,
      details: { type: 2, expires_at: null },
    });
    expectEvent(revoked, {
      action: 'key.revoke',
      entity_id: issued.json.id,
      owner: user.email,
      actor: user.email,
    });
    const thingEvent = (await events(request, user.token, `entity_id=${byKey.id}`)).events[0];
    expectEvent(thingEvent, { actor: `key:${issued.json.id}`, actor_user: user.email });

    // An expired key is dropped when presented: one key.expire, by no one.
    const short = await request('POST', '/keys', { token: user.token, body: { type: 2, duration: 1 } });
    assert.equal(short.status, 201, short.text);
    secrets.add(short.json.value);
    await clockPast(Date.parse(short.json.expires_at) + 1000);
    assertError(await request('GET', '/things', { token: short.json.value }), 401);
    assertError(await request('GET', '/things', { token: short.json.value }), 401);
    const expired = await allEvents(request, user.token, `entity_id=${short.json.id}`);
    assert.deepEqual(
      expired.map((e) => [e.action, e.actor, e.owner]),
      [
        ['key.issue', user.email, user.email],
        ['key.expire', 'system', user.email],
      ],
    );
  });

  it('groups: create, update, members in and out, remove: one event an entity, none for refusals', async () => {
    const user = await account();
    const root = await createGroup(user.token, { name: 'site', description: 'the site', metadata: { a: 1 } });
    const child = await createGroup(user.token, { name: 'floor', parent_id: root });
    const grandchild = await createGroup(user.token, { name: 'room', parent_id: child });
    assert.equal(
      (
        await request('PUT', `/groups/${root}`, {
          token: user.token,
          body: { name: 'site-2', metadata: { b: 2 } },
        })
      ).status,
      200,
    );
    const thing = await createThing(request, user.token, { name: 'member' });
    const members = [thing.id, 'outside-1', 'outside-2'];
    assert.equal(
      (
        await request('POST', `/groups/${child}/members`, {
          token: user.token,
          body: { type: 'things', members },
        })
      ).status,
      200,
    );
    const userMember = await request('POST', `/groups/${root}/members`, {
      token: user.token,
      body: { type: 'users', members: [user.id] },
    });
    assert.equal(userMember.status, 200, userMember.text);

    // Refused: no event.
    const other = await account();
    assertError(await request('POST', '/groups', { token: user.token, body: { name: '' } }), 400);
    assertError(
      await request('POST', '/groups', { token: user.token, body: { name: 'floor', parent_id: root } }),
      409,
    );
    assertError(await request('PUT', `/groups/${root}`, { token: other.token, body: { name: 'mine' } }), 404);
    assertError(await request('DELETE', `/groups/${root}`, { token: other.token }), 404);
    assertError(
      await request('POST', `/groups/${child}/members`, {
        token: user.token,
        body: { type: 'things', members: ['fresh-1', 'outside-1'] },
      }),
      409,
    );
    assertError(await request('DELETE', `/groups/${root}`, { token: user.token }), 409);

    // Out: only members that were there; the one never assigned changes nothing.
    const out = await request('DELETE', `/groups/${child}/members`, {
      token: user.token,
      body: { members: ['outside-1', 'never-there'] },
    });
    assert.equal(out.status, 204, out.text);
    // A removed thing leaves its groups: one group.unassign by no one.
    assert.equal((await request('DELETE', `/things/${thing.id}`, { token: user.token })).status, 204);

    const groupEvents = await allEvents(request, user.token, 'entity_type=group');
    assert.deepEqual(
      groupEvents.map((e) => [e.action, e.entity_id, e.related_id]),
      [
        ['group.create', root, null],
        ['group.create', child, null],
        ['group.create', grandchild, null],
        ['group.update', root, null],
        ['group.assign', child, thing.id],
        ['group.assign', child, 'outside-1'],
        ['group.assign', child, 'outside-2'],
        ['group.assign', root, user.id],
        ['group.unassign', child, 'outside-1'],
        ['group.unassign', child, thing.id],
      ],
    );
    for (const e of groupEvents) assert.equal(e.owner, user.email);
    expectEvent(groupEvents[0], {
      actor: user.email,
      details: { name: 'site', description: 'the site', metadata_fields: ['a'], parent_id: null, level: 1 },
    });
    expectEvent(groupEvents[1], {
      details: { name: 'floor', description: '', metadata_fields: [], parent_id: root, level: 2 },
    });
    expectEvent(groupEvents[3], { details: { name: 'site-2', description: '', metadata_fields: ['b'] } });
    expectEvent(groupEvents[4], { details: { member_type: 'things', member_id: thing.id } });
    expectEvent(groupEvents[7], { details: { member_type: 'users', member_id: user.id } });
    expectEvent(groupEvents[8], {
      actor: user.email,
      details: { member_type: 'things', member_id: 'outside-1' },
    });
    expectEvent(groupEvents[9], {
      actor: 'system',
      actor_user: null,
      details: { member_type: 'things', member_id: thing.id, reason: 'thing.remove' },
    });
    // The member's history shows it: the thing's events include its group memberships.
    const history = await request('GET', `/things/${thing.id}/events?dir=asc`, { token: user.token });
    assert.deepEqual(
      history.json.events.map((e: AuditEvent) => e.action),
      ['thing.create', 'group.assign', 'thing.remove', 'group.unassign'],
    );

    // Empty the tree, then remove it: one group.remove a group of the subtree.
    for (const [group, ids] of [
      [child, ['outside-2']],
      [root, [user.id]],
    ] as const) {
      const r = await request('DELETE', `/groups/${group}/members`, {
        token: user.token,
        body: { members: ids },
      });
      assert.equal(r.status, 204, r.text);
    }
    assert.equal((await request('DELETE', `/groups/${root}`, { token: user.token })).status, 204);
    assertError(await request('DELETE', `/groups/${root}`, { token: user.token }), 404);
    const removed = await allEvents(request, user.token, 'action=group.remove');
    assert.deepEqual(
      removed.map((e) => [e.entity_id, e.details]).sort(),
      [
        [root, { name: 'site-2' }],
        [child, { name: 'floor', with: root }],
        [grandchild, { name: 'room', with: root }],
      ].sort(),
    );
    assert.equal((await allEvents(request, user.token, 'entity_type=group')).length, 15);
  });

  it('layouts: create, update, remove record one event each, naming parameters, never the TOML', async () => {
    const user = await account();
    const name = `sensor-${uid()}`;
    const created = await request('POST', '/layouts', { token: user.token, body: { name, toml: LAYOUT } });
    assert.equal(created.status, 201, created.text);
    const updated = await request('PUT', `/layouts/${name}`, {
      token: user.token,
      body: { toml: LAYOUT.replace('floor = { type = "integer", default = 1 }\n', '') },
    });
    assert.equal(updated.status, 200, updated.text);
    // Refused: no event.
    assertError(await request('POST', '/layouts', { token: user.token, body: { name, toml: LAYOUT } }), 409);
    assertError(
      await request('POST', '/layouts', { token: user.token, body: { name: 'bad', toml: '[[x' } }),
      400,
    );
    assertError(
      await request('POST', '/layouts', { token: user.token, body: { name: 'default', toml: LAYOUT } }),
      409,
    );
    assertError(await request('PUT', '/layouts/missing', { token: user.token, body: { toml: LAYOUT } }), 404);
    assertError(await request('DELETE', '/layouts/default', { token: user.token }), 403);
    const other = await account();
    assertError(await request('DELETE', `/layouts/${name}`, { token: other.token }), 404);
    assert.equal((await request('DELETE', `/layouts/${name}`, { token: user.token })).status, 204);
    assertError(await request('DELETE', `/layouts/${name}`, { token: user.token }), 404);

    const list = await allEvents(request, user.token, 'entity_type=layout');
    assert.deepEqual(
      list.map((e) => [e.action, e.entity_id, e.owner, e.actor, e.details]),
      [
        ['layout.create', name, user.email, user.email, { name, parameters: ['site', 'floor'] }],
        ['layout.update', name, user.email, user.email, { name, parameters: ['site'] }],
        ['layout.remove', name, user.email, user.email, { name }],
      ],
    );
    assert.ok(!JSON.stringify(list).includes('external_id'), 'no TOML in an event');
    assert.equal((await allEvents(request, other.token, 'entity_type=layout')).length, 0);
  });

  it('a user reads events about their own accounts, keys, groups and layouts; the admin reads all', async () => {
    const alice = await account();
    const bob = await account();
    const group = await createGroup(alice.token, { name: 'alices' });
    const key = await request('POST', '/keys', { token: alice.token, body: { type: 2 } });
    secrets.add(key.json.value);
    for (const entity of [alice.id, group, key.json.id]) {
      assert.equal((await events(request, bob.token, `entity_id=${entity}`)).total, 0, entity);
      assert.equal((await events(request, alice.token, `entity_id=${entity}`)).total, 1, entity);
    }
    assert.deepEqual(
      (await allEvents(request, bob.token)).map((e) => e.owner),
      [bob.email],
      'bob sees only his own registration',
    );
    const admin = await adminToken();
    for (const entity of [alice.id, bob.id, group, key.json.id]) {
      assert.equal((await events(request, admin, `entity_id=${entity}`)).total, 1, entity);
    }
    // The admin account the server made at start: by no one.
    const made = await events(request, admin, `action=user.register&actor=system`);
    assert.equal(made.total, 1);
    expectEvent(made.events[0], {
      owner: ADMIN.email,
      actor_user: null,
      details: { email: ADMIN.email, metadata_fields: [] },
    });
  });

  it('a change whose event cannot be written rolls back; so does the event of a change that fails', async () => {
    const user = await account();
    const { db } = fixture.server.app.services;
    const root = await createGroup(user.token, { name: 'keep' });
    const before = await allEvents(request, user.token);
    const trigger =
      db.dialect === 'postgres'
        ? [
            sql`CREATE FUNCTION refuse_account_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`,
            sql`CREATE TRIGGER refuse_accounts BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_account_events()`,
          ]
        : [
            sql`CREATE TRIGGER refuse_accounts BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'refused'); END`,
          ];
    for (const s of trigger) await s.execute(db.kysely);
    const email = `never-${uid()}@example.com`;
    const layout = `never-${uid()}`;
    try {
      for (const [what, reply] of [
        ['register', await request('POST', '/users', { body: { email, password: 'never-pass-1' } })],
        ['metadata', await request('PUT', '/users', { token: user.token, body: { metadata: { gone: 1 } } })],
        [
          'password',
          await request('PATCH', '/password', {
            token: user.token,
            body: { old_password: user.password, password: 'never-pass-2' },
          }),
        ],
        ['key', await request('POST', '/keys', { token: user.token, body: { type: 2 } })],
        ['group', await request('POST', '/groups', { token: user.token, body: { name: 'never' } })],
        ['rename', await request('PUT', `/groups/${root}`, { token: user.token, body: { name: 'gone' } })],
        [
          'assign',
          await request('POST', `/groups/${root}/members`, {
            token: user.token,
            body: { type: 'things', members: ['m1'] },
          }),
        ],
        ['remove', await request('DELETE', `/groups/${root}`, { token: user.token })],
        [
          'layout',
          await request('POST', '/layouts', { token: user.token, body: { name: layout, toml: LAYOUT } }),
        ],
      ] as const)
        assert.equal(reply.status, 500, `${what}: ${reply.text}`);
    } finally {
      await sql`DROP TRIGGER refuse_accounts${sql.raw(db.dialect === 'postgres' ? ' ON events' : '')}`.execute(
        db.kysely,
      );
      if (db.dialect === 'postgres') await sql`DROP FUNCTION refuse_account_events()`.execute(db.kysely);
    }
    assertError(await request('POST', '/tokens', { body: { email, password: 'never-pass-1' } }), 403);
    assert.deepEqual((await request('GET', '/users/profile', { token: user.token })).json.metadata, {
      team: 'a',
    });
    assert.equal(
      (await request('POST', '/tokens', { body: { email: user.email, password: user.password } })).status,
      201,
      'the password change rolled back',
    );
    const groups = await request('GET', '/groups', { token: user.token });
    assert.deepEqual(
      groups.json.groups.map((g: { name: string }) => g.name),
      ['keep'],
    );
    const members = await request('GET', `/groups/${root}/members?type=things`, { token: user.token });
    assert.equal(members.json.total, 0);
    assertError(await request('GET', `/layouts/${layout}`, { token: user.token }), 404);
    assert.deepEqual(await allEvents(request, user.token), before, 'no event of what rolled back');
  });

  it('no event holds a password, a key or a token', async () => {
    assert.ok(secrets.size >= 10, `the tests above used secrets (${secrets.size})`);
    const all = await allEvents(request, await adminToken());
    assert.ok(all.length >= 40, `${all.length} events`);
    const text = JSON.stringify(all);
    for (const secret of secrets)
      assert.ok(!text.includes(secret), `a secret in an event: ${secret.slice(0, 12)}…`);
    // Nor any part of a JWT (a token's signature is its secret part).
    for (const secret of secrets) {
      const signature = secret.split('.')[2];
      if (signature) assert.ok(!text.includes(signature), 'a token signature in an event');
    }
    assert.ok(!/hidden/.test(text), 'no password text in an event');
  });
});
