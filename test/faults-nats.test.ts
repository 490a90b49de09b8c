import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { connect, createChannel, createThings, type ThingView } from './helpers/entities.js';
import { connectThing, mqttUrl, type TestClient } from './helpers/mqtt.js';
import { type NatsServer, startNats } from './helpers/nats.js';
import { dialect, type Pair, type Request, startPair, type TestServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

/**
 * nats-server going away between two instances (issue 16): A publishes, B's MQTT
 * subscriber listens. While the bus is down A refuses publishes (503, no PUBACK); every
 * message A acknowledged reaches B; delivery resumes within 5 s of NATS's return; and
 * a revocation made while the bus was down still takes effect on B.
 */
/**
 * Core NATS: stopped (SIGTERM, a restart), nothing acknowledged is lost. With JetStream:
 * crashed (SIGKILL), nothing acknowledged is lost either (the stream kept it).
 */
for (const mode of ['core', 'jetstream'] as const)
  describe(`NATS outage between two instances, ${mode === 'core' ? 'core NATS stopped' : 'JetStream, nats-server crashed'} (${dialect})`, {
    timeout: 120_000,
  }, () => {
    let nats: NatsServer;
    const jetstream = mode === 'jetstream';
    /** Takes nats-server down: stopped for core NATS, killed with JetStream. */
    const takeDown = () => (jetstream ? nats.kill() : nats.stop());
    const bringBack = async () => {
      nats = await startNats({ port: nats.port, ...(nats.storeDir ? { storeDir: nats.storeDir } : {}) });
    };
    let pair: Pair | undefined;
    let { a, b, reqA, reqB, token } = {} as Pair;
    const clients: TestClient[] = [];

    before(async () => {
      nats = await startNats({ jetstream });
      pair = await startPair(nats.url, { TETHYS_NATS_JETSTREAM: jetstream ? 'on' : 'off' });
      ({ a, b, reqA, reqB, token } = pair);
    });

    after(async () => {
      await Promise.all(clients.map((c) => c.end()));
      await pair?.close();
      await nats?.stop();
      if (nats?.storeDir) fs.rmSync(nats.storeDir, { recursive: true, force: true });
    });

    const publish = (request: Request, channel: string, key: string, payload: string) =>
      request('POST', `/http/channels/${channel}/messages`, {
        raw: payload,
        contentType: 'text/plain',
        headers: { authorization: key },
      });

    /** A QoS 1 publish on a fresh connection: 'puback', or 'closed' when the connection ends without one. */
    /**
     * A QoS 1 publish on a fresh connection: 'puback', 'closed' when the connection ends
     * without one (MQTT 3.1.1), or MQTT 5's negative PUBACK as `refused <code>`.
     */
    function qos1(
      server: TestServer,
      thing: ThingView,
      channel: string,
      protocolVersion: 4 | 5 = 4,
    ): Promise<string> {
      return new Promise((resolve) => {
        const c = mqtt.connect(mqttUrl(server.app), {
          username: thing.id,
          password: thing.key,
          protocolVersion,
          reconnectPeriod: 0,
          clean: true,
        });
        let settled = false;
        const finish = (r: string) => {
          if (settled) return;
          settled = true;
          c.end(true);
          resolve(r);
        };
        c.on('error', () => {});
        c.on('close', () => finish('closed'));
        c.on('connect', () => {
          c.publish(`channels/${channel}/messages`, 'qos1', { qos: 1 }, (err) => {
            const code = (err as (Error & { code?: number }) | undefined)?.code;
            finish(
              !err ? 'puback' : typeof code === 'number' && !c.disconnected ? `refused ${code}` : 'closed',
            );
          });
        });
      });
    }

    it('no acknowledged message is lost, QoS 1 gets no PUBACK while down, delivery resumes within 5 s', async () => {
      const [publisher, subscriber] = await createThings(reqA, token, [{ name: 'pub' }, { name: 'sub' }]);
      const channel = (await createChannel(reqA, token, { name: 'c' })).id;
      await connect(reqA, token, [channel], [publisher!.id, subscriber!.id]);
      const listener = await connectThing(mqttUrl(b.app), subscriber!);
      clients.push(listener);
      assert.equal(await listener.subscribe(`channels/${channel}/messages`), 0);

      const acknowledged: number[] = [];
      const refused: { seq: number; status: number; retryAfter: string | null; body: string }[] = [];
      let running = true;
      let seq = 0;
      const loop = (async () => {
        while (running) {
          const n = seq++;
          const reply = await publish(reqA, channel, publisher!.key, String(n));
          if (reply.status === 202) acknowledged.push(n);
          else {
            refused.push({
              seq: n,
              status: reply.status,
              retryAfter: reply.headers.get('retry-after'),
              body: reply.text,
            });
            // Paces the retries of a refused request: not synchronisation.
            await new Promise((r) => setTimeout(r, 5));
          }
        }
      })();
      const received = () => new Set(listener.messages.map((m) => Number(m.payload.toString())));
      try {
        await eventually('messages crossing to B', () => received().size >= 20);
        assert.equal(await qos1(a, publisher!, channel), 'puback');

        await takeDown();
        const down = Date.now();
        await eventually('A refusing publishes', () => refused.length > 0, { timeoutMs: 5000 });
        const health = await reqA('GET', '/health');
        assert.equal(health.status, 503);
        assert.equal(health.json.bus, 'disconnected');
        assert.equal(
          await qos1(a, publisher!, channel),
          'closed',
          'a QoS 1 publish gets no PUBACK while the bus is down',
        );
        assert.equal(await qos1(a, publisher!, channel, 5), 'refused 128', 'MQTT 5: PUBACK 0x80');
        const duringOutage = acknowledged.length;
        await eventually('a few refusals', () => refused.length >= 10);
        // Nothing was acknowledged while the bus was down (a publish in flight when it went may have been).
        assert.ok(acknowledged.length <= duringOutage + 1, 'publishes acknowledged while the bus was down');
        for (const r of refused) {
          assert.equal(r.status, 503, r.body);
          assert.ok(Number(r.retryAfter) > 0, 'Retry-After');
          assert.equal(JSON.parse(r.body).error, 'message bus unavailable');
        }

        await bringBack();
        const back = Date.now();
        const seqAtReturn = seq;
        await eventually(
          'a message published on A after NATS returned reaching B',
          () => [...received()].some((n) => n >= seqAtReturn),
          { timeoutMs: 5000 },
        );
        const resumedMs = Date.now() - back;
        assert.ok(resumedMs < 5000, `delivery resumed after ${resumedMs} ms`);
        assert.ok(Date.now() - down > 0);
        assert.equal((await reqA('GET', '/health')).json.bus, 'connected');
        assert.equal(await qos1(a, publisher!, channel), 'puback');
        await eventually(
          'more messages after the return',
          () => acknowledged.filter((n) => n > seqAtReturn).length >= 50,
        );
      } finally {
        running = false;
        await loop;
      }
      // Every message A acknowledged reaches B.
      const last = acknowledged[acknowledged.length - 1]!;
      await eventually('the last acknowledged message at B', () => received().has(last));
      const got = received();
      const lost = acknowledged.filter((n) => !got.has(n));
      assert.deepEqual(
        lost,
        [],
        `${lost.length} of ${acknowledged.length} acknowledged messages never reached B`,
      );
      assert.ok(refused.length > 0);
    });

    it('a connection removed on A while the bus was down is enforced on B once it is back', async () => {
      const [thing] = await createThings(reqA, token, [{ name: 'revoked' }]);
      const channel = (await createChannel(reqA, token, { name: 'r' })).id;
      await connect(reqA, token, [channel], [thing!.id]);
      // Both instances on the bus again after the previous test's outage.
      for (const r of [reqA, reqB]) {
        await eventually(
          'the bus connected',
          async () => (await r('GET', '/health')).json.bus === 'connected',
        );
      }
      // B has the key and the connection cached, and a live session subscribed to the channel.
      assert.equal((await publish(reqB, channel, thing!.key, 'warm')).status, 202);
      const session = await connectThing(mqttUrl(b.app), thing!);
      clients.push(session);
      assert.equal(await session.subscribe(`channels/${channel}/messages`), 0);

      await takeDown();
      for (const r of [reqA, reqB]) {
        await eventually(
          'both noticing the bus is down',
          async () => (await r('GET', '/health')).json.bus === 'disconnected',
        );
      }
      // B checked its sessions again when the bus went away (its caches may miss changes
      // from then on); the removal below comes after that check.
      await b.app.mqtt.sessionsChecked();
      const removed = await reqA('DELETE', `/channels/${channel}/things/${thing!.id}`, { token });
      assert.equal(removed.status, 204, removed.text);
      assert.equal(session.closed, false, 'B cannot know yet');

      await bringBack();
      await eventually("B closing the revoked thing's session", () => session.closed, { timeoutMs: 5000 });
      await eventually(
        'B refusing the revoked pair',
        async () => {
          const reply = await publish(reqB, channel, thing!.key, 'after');
          return reply.status === 403;
        },
        { timeoutMs: 5000 },
      );
    });
  });
