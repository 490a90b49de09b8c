import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Pki } from '../../src/certs/pki.js';
import { CertsRepository } from '../../src/certs/repo.js';
import { CertsService, openPki } from '../../src/certs/service.js';
import { newEntityId } from '../../src/ids.js';
import { dialect } from '../helpers/server.js';
import { loggedIn, openStore, type Store } from './wiring.js';

/**
 * The local CA behind a PKI whose revocations can be made to fail (Vault away), and which
 * can call itself external (what makes a failed request's certificates be revoked there).
 */
function flaky(local: Pki) {
  const state = { external: false, fails: (_serial: string) => false };
  const pki: Pki = {
    get external() {
      return state.external;
    },
    get caPem() {
      return local.caPem;
    },
    issue: (request) => local.issue(request),
    generateKey: (type, bits) => local.generateKey!(type, bits),
    sign: (request) => local.sign(request),
    revoke: async (serial) => {
      if (state.fails(serial)) throw new Error('PKI unreachable');
      return local.revoke(serial);
    },
    crl: () => local.crl(),
    revocationsChanged: () => local.revocationsChanged(),
  };
  return { pki, state };
}

/**
 * What CertsService does when a revocation fails: the thing's deletion or the failed
 * request goes on, the failure is logged, and the certificate is kept where the orphan
 * sweep finds it (valid, for a thing that does not exist) until a sweep revokes it.
 * End to end this takes a Vault double made to fail at the right moment and a sweep
 * 5 minutes later; here both are called directly.
 */
describe(`certificates the PKI could not revoke, service alone (${dialect})`, () => {
  let store: Store;
  let repo: CertsRepository;
  let certs: CertsService;
  let state: ReturnType<typeof flaky>['state'];
  const revoked: { thingId: string; serial: string }[] = [];
  /** Whether `msg` was logged, with these fields. */
  const logged = (msg: string, fields: Record<string, string> = {}) =>
    store.logged.some((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));

  before(async () => {
    store = await openStore();
    repo = new CertsRepository(store.db, store.repositories.thingsRepo);
    const made = flaky(await openPki(store.config.certs, store.config.dataDir, repo, store.logger));
    state = made.state;
    const { cnFromKey, defaultValidityMs, defaultRsaBits } = store.config.certs;
    const settings = { cnFromKey, defaultValidityMs, defaultRsaBits };
    certs = new CertsService(
      store.db,
      repo,
      made.pki,
      store.things,
      store.audit,
      settings,
      store.logger,
      store.events,
    );
    await certs.start();
    store.events.on('cert.revoked', (event) => void revoked.push(event));
  });
  after(async () => {
    certs?.close();
    await store?.close();
  });

  const isOrphan = async (serial: string) => (await repo.orphans(new Date())).includes(serial);

  it('a thing deleted while its certificate cannot be revoked: deleted all the same, the certificate left to the sweep', async () => {
    const user = await loggedIn(store, `c${crypto.randomBytes(4).toString('hex')}@example.com`);
    const [thing] = await store.things.createThings(user.token, [{ name: 'doomed' }]);
    const cert = await certs.issue(user.token, { thingId: thing!.id, keyType: 'ec', keyBits: 256 });
    assert.equal(await certs.activeThing(cert.serial), thing!.id);

    state.fails = () => true;
    await store.things.removeThing(user.token, thing!.id);
    await assert.rejects(store.things.viewThing(user.token, thing!.id), { kind: 'not_found' });
    assert.ok(
      logged('could not revoke the certificates of a deleted thing; will retry', { thingId: thing!.id }),
    );
    assert.equal(await certs.activeThing(cert.serial), null, 'its thing is gone: no MQTT login with it');
    assert.ok(await isOrphan(cert.serial), 'valid, for a thing that does not exist: the sweep finds it');

    // A sweep while the PKI is still away keeps it, and says so.
    await certs.sweepOrphans();
    assert.ok(logged('could not revoke the certificates of deleted things; will retry'));
    assert.ok(await isOrphan(cert.serial));
    assert.equal((await repo.bySerial(cert.serial))!.revokedAt, null);

    state.fails = () => false;
    await certs.sweepOrphans();
    assert.equal(await isOrphan(cert.serial), false);
    assert.ok((await repo.bySerial(cert.serial))!.revokedAt, 'recorded revoked');
    assert.deepEqual(
      revoked.filter((r) => r.serial === cert.serial),
      [{ thingId: thing!.id, serial: cert.serial }],
      'every instance is told (live sessions end)',
    );
  });

  it("a failed request's certificates (external PKI): revoked and recorded so; one it cannot revoke is recorded for the sweep", async () => {
    state.external = true;
    try {
      const owner = 'provisioner@example.com';
      const key = () => certs.prepareKey({ keyType: 'ec', keyBits: 256 });
      // As provisioning signs them: for things chosen up front, not created yet.
      const sign = async () =>
        certs.sign({ id: newEntityId(), key: crypto.randomUUID() }, { valid: '1h', key: await key() });
      const [kept, lost] = [await sign(), await sign()];
      state.fails = (serial) => serial === lost.serial;
      await certs.abandon(owner, [kept, lost]);

      assert.ok((await repo.bySerial(kept.serial))!.revokedAt, 'revoked at the PKI and recorded so');
      assert.equal(await isOrphan(kept.serial), false);
      const record = await repo.bySerial(lost.serial);
      assert.equal(record?.owner, owner);
      assert.equal(record?.revokedAt, null, 'recorded valid: the PKI still says so');
      assert.ok(await isOrphan(lost.serial));
      assert.ok(
        logged('could not revoke a certificate issued for a request that failed; the sweep will retry', {
          serial: lost.serial,
        }),
      );

      state.fails = () => false;
      await certs.sweepOrphans();
      assert.ok((await repo.bySerial(lost.serial))!.revokedAt);
      assert.equal(await isOrphan(lost.serial), false);
    } finally {
      state.external = false;
      state.fails = () => false;
    }
  });
});
