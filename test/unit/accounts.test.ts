import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { KeysRepository } from '../../src/auth/repo.js';
import { KeyType } from '../../src/auth/types.js';
import { dialect } from '../helpers/server.js';
import { loggedIn, openStore, type Store } from './wiring.js';

/**
 * UsersService and AuthService on a real database, for the branches the end-to-end tests
 * reach slowly or not at all: a user gone from the store (there is no API to delete
 * one), the admin account at start, an API key revoked on another instance, a server
 * without SMTP.
 */
describe(`accounts and keys, services alone (${dialect})`, () => {
  let store: Store;
  const email = () => `u${crypto.randomBytes(5).toString('hex')}@example.com`;

  before(async () => {
    store = await openStore();
  });
  after(() => store?.close());

  it('a token of a user no longer stored identifies nobody, and its reset finds no user', async () => {
    const user = await loggedIn(store, email());
    const recovery = await store.auth.issueRecovery(user);
    assert.equal((await store.users.profile(user.token)).email, user.email);
    await store.db.kysely.deleteFrom('users').where('email', '=', user.email).execute();
    // The token itself is still valid: what refuses it is the missing account.
    assert.equal((await store.auth.identify(user.token)).email, user.email);
    await assert.rejects(store.users.profile(user.token), { kind: 'unauthenticated' });
    await assert.rejects(store.users.update(user.token, { a: 1 }), { kind: 'unauthenticated' });
    await assert.rejects(store.users.resetPassword(recovery, 'new-password-1', 'new-password-1'), {
      kind: 'malformed',
      message: 'non-existent user',
    });
  });

  it('a reset takes a recovery or login token, never an API key', async () => {
    const user = await loggedIn(store, email());
    const key = await store.auth.issueKey(user.token, KeyType.api, 0);
    await assert.rejects(store.users.resetPassword(key.value, 'new-password-1', 'new-password-1'), {
      kind: 'unauthenticated',
    });
    await store.users.resetPassword(user.token, 'new-password-2', 'new-password-2');
    await store.users.resetPassword(await store.auth.issueRecovery(user), 'new-password-3', 'new-password-3');
    await assert.rejects(store.users.login(user.email, 'new-password-2'), { kind: 'unauthenticated' });
    assert.ok(await store.users.login(user.email, 'new-password-3'));
  });

  it('the admin account: created once, skipped when unset or present, a refused password stops the start', async () => {
    const admin = email();
    assert.equal(await store.users.ensureAdmin('', 'whatever-password'), false);
    await assert.rejects(store.users.ensureAdmin(admin, 'short'), (err: Error) => {
      // A plain Error (the start fails), not a DomainError a client would be shown.
      assert.equal(err.name, 'Error');
      assert.match(
        err.message,
        new RegExp(`^cannot create the admin account ${admin}: password does not meet`),
      );
      return true;
    });
    assert.equal(await store.users.ensureAdmin(admin, 'admin-password-1'), true);
    assert.equal(await store.users.ensureAdmin(admin, 'another-password'), false);
    assert.ok(await store.users.login(admin, 'admin-password-1'), 'the first password stays');
  });

  it('password reset without an SMTP server is "not configured", and nothing is issued', async () => {
    const user = await loggedIn(store, email());
    await assert.rejects(store.users.requestReset(user.email, 'http://ui.example.com'), {
      kind: 'not_configured',
      message: 'password reset by e-mail is not available: no SMTP server is configured (MF_EMAIL_HOST)',
    });
    // The checks of the request come first.
    await assert.rejects(store.users.requestReset('', 'http://ui.example.com'), { kind: 'malformed' });
    await assert.rejects(store.users.requestReset(user.email, ''), { kind: 'malformed' });
  });

  it('an API key revoked on another instance is refused at once when its event arrives, or when caches are stale', async () => {
    const user = await loggedIn(store, email());
    const keys = new KeysRepository(store.db);
    for (const arrives of [
      (id: string) => store.events.applyRemote('key.revoked', { id, issuerId: user.id }),
      () => store.events.applyRemote('caches.stale', {}),
    ]) {
      const key = await store.auth.issueKey(user.token, KeyType.api, 0);
      assert.equal((await store.auth.identify(key.value)).keyId, key.id);
      // Another instance removes it from the shared store: this one trusts its recent
      // positive check for a few seconds (the documented bound)...
      await keys.remove(user.id, key.id!);
      assert.equal((await store.auth.identify(key.value)).keyId, key.id);
      // ...until the event (or a "caches are stale" after a bus outage) arrives.
      await arrives(key.id!);
      await assert.rejects(store.auth.identify(key.value), { kind: 'unauthenticated' });
    }
  });
});
