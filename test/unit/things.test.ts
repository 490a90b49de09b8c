import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dialect } from '../helpers/server.js';
import { loggedIn, openStore, type Store } from './wiring.js';

/**
 * Mainflux's single-user mode of the things service (MF_THINGS_SINGLE_USER_EMAIL and
 * _TOKEN): one configured token owns everything, and no other credential is asked about.
 * No end-to-end test starts a server in that mode.
 */
describe(`things in single-user mode, service alone (${dialect})`, () => {
  const owner = 'single@example.com';
  const token = 'the-single-user-token';
  const page = { offset: 0, limit: 10, order: 'id', dir: 'asc' } as const;
  let store: Store;

  before(async () => {
    store = await openStore({ MF_THINGS_SINGLE_USER_EMAIL: owner, MF_THINGS_SINGLE_USER_TOKEN: token });
  });
  after(() => store?.close());

  it('the configured token alone is accepted, and what it makes belongs to the configured email', async () => {
    const [thing] = await store.things.createThings(token, [{ name: 'solo' }]);
    assert.equal(thing!.owner, owner);
    assert.deepEqual(
      (await store.things.listThings(token, page)).items.map((t) => t.id),
      [thing!.id],
    );
    // A user's valid login token is not: in this mode the things service asks nobody.
    const user = await loggedIn(store, 'someone@example.com');
    for (const other of [user.token, `${token}x`, '', undefined])
      await assert.rejects(store.things.listThings(other, page), {
        kind: 'unauthenticated',
      });
  });

  it("an identity another service verified is taken as it is (bootstrap's and provisioning's calls)", async () => {
    const identity = { email: 'gateway-owner@example.com', userId: 'u', type: 0 as const };
    const [thing] = await store.things.createThings(identity, [{ name: 'provisioned' }]);
    assert.equal(thing!.owner, identity.email);
    assert.equal((await store.things.viewThing(identity, thing!.id)).name, 'provisioned');
    await assert.rejects(store.things.viewThing(token, thing!.id), { kind: 'not_found' });
  });
});
