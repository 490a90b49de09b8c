import { Api, type CreatedThing } from '../api.js';
import { formatInt, formatMiB, formatMs } from '../format.js';
import {
  accountOn,
  connectedThings,
  cpuMeter,
  createThings,
  gcText,
  harnessLoopMeter,
  instanceInfo,
  logFindings,
  loopDelayText,
  measuredHttp,
  metricDelta,
  metricSum,
  openFilesLimit,
  runTag,
  serverMetrics,
  startInstance,
  warmupSeconds,
} from '../instances.js';
import { type LoadResult, type LoadSpec, runLoad } from '../load.js';
import { inPool, MqttConnection, type MqttVersion, publishPacket, settleCount, sleep } from '../mqtt-load.js';
import { type BenchNats, startNats } from '../nats.js';
import type { BenchServer } from '../server.js';
import { customLoad, type ExtendedScenario, latencySummary, type OutcomeLoad } from './extended.js';
import type { BenchContext } from './types.js';

/**
 * Messaging: the HTTP adapter (in-process bus and NATS), the MQTT broker (QoS 0
 * throughput with fan-out, fan-out latency, CONNECT with uncached credentials, 10,000
 * sessions held open) and two instances joined by NATS. MQTT load comes from the
 * minimal client in ../mqtt-load.ts, in the harness process; servers and nats-server
 * that a scenario needs beyond the main server are its own, started and stopped by it.
 */

const MQTT_EMAIL = 'bench-mqtt@example.com';
const SENML = '[{"bn":"bench:","n":"temperature","u":"Cel","v":21.5}]';
const HOST = '127.0.0.1';

/** Things connected to one channel, per server: publishers and subscribers of the MQTT scenarios. */
interface MqttFixture {
  token: string;
  channel: string;
  things: CreatedThing[];
}
const fixtures = new WeakMap<BenchServer, Promise<MqttFixture>>();
const FIXTURE_THINGS = 111;

function mqttFixture(server: BenchServer, api: Api): Promise<MqttFixture> {
  let fixture = fixtures.get(server);
  if (!fixture) {
    fixture = (async () => {
      const { token } = await accountOn(api, MQTT_EMAIL);
      const { channel, things } = await connectedThings(api, token, FIXTURE_THINGS, `bench-mqtt-${runTag()}`);
      return { token, channel, things };
    })();
    fixtures.set(server, fixture);
  }
  return fixture;
}

const topicOf = (channel: string) => `channels/${channel}/messages/bench`;

async function openThing(
  port: number,
  thing: CreatedThing,
  clientId: string,
  timeoutMs = 10_000,
  version: MqttVersion = 4,
  localAddress?: string,
) {
  return MqttConnection.open({
    host: HOST,
    port,
    clientId,
    username: thing.id,
    password: thing.key,
    keepalive: 60,
    timeoutMs,
    version,
    ...(localAddress ? { localAddress } : {}),
  });
}

async function subscriber(
  port: number,
  thing: CreatedThing,
  topic: string,
  i: number,
  version: MqttVersion = 4,
) {
  const { conn } = await openThing(port, thing, `bench-sub-${i}-${runTag()}`, 10_000, version);
  await conn.subscribe(topic);
  return conn;
}

async function closeAll(conns: MqttConnection[]): Promise<void> {
  await inPool(conns, 500, (c) => c.disconnect(2000));
}

// ---------------------------------------------------------------------------------------
// 3. HTTP publish

const PUBLISH_TARGET_P99 = 15;

/** 3a. POST /http/channels/{id}/messages on the main server (in-process bus). */
export const publishHttp: ExtendedScenario = {
  id: 'publish-http',
  title: 'POST /http/channels/{id}/messages (SenML, connected thing key, in-process bus)',
  stage: 'full',
  connections: 32,
  unit: 'req/s',
  target: { minThroughput: 8000, maxP99Ms: PUBLISH_TARGET_P99 },
  reference: '3,084 req/s, p99 25 ms',
  async run(ctx: BenchContext, duration: number): Promise<LoadResult> {
    const things = ctx.accessThings.slice(0, 256);
    const path = `/http/channels/${ctx.accessChannel}/messages`;
    await ctx.api.sdk.messages.publish(things[0]!.key, ctx.accessChannel, SENML);
    const spec: LoadSpec = {
      url: ctx.server.url,
      connections: 32,
      duration,
      method: 'POST',
      path,
      headers: { 'content-type': 'application/senml+json' },
      body: SENML,
      okStatus: 202,
      headerVariants: things.map((t) => ({ authorization: t.key })),
    };
    const { load, cpu } = await measuredHttp(ctx.server, spec, { server: ctx.server.pid });
    const result: OutcomeLoad = {
      ...load,
      outcome: { notes: [`${things.length} connected things' keys in turn, no subscribers; ${cpu}`] },
    };
    return result;
  },
};

/**
 * A message-adapter load on `server`: 32 connections, keys rotating among connected
 * things; a fixed body, or `body()` made for each request (the end-to-end timestamps).
 */
function httpPublishSpec(
  server: BenchServer,
  fixture: MqttFixture,
  duration: number,
  body?: () => string,
): LoadSpec {
  const things = fixture.things;
  const spec: LoadSpec = {
    url: server.url,
    connections: 32,
    duration,
    method: 'POST',
    path: `/http/channels/${fixture.channel}/messages/bench`,
    headers: { 'content-type': 'application/senml+json' },
    body: SENML,
    okStatus: 202,
  };
  if (!body) return { ...spec, headerVariants: things.map((t) => ({ authorization: t.key })) };
  let n = 0;
  return {
    ...spec,
    headers: { ...spec.headers, authorization: things[0]!.key },
    setupRequest: (req) => ({
      ...req,
      body: body(),
      headers: { ...req.headers, authorization: things[n++ % things.length]!.key },
    }),
  };
}

function natsNote(
  before: Awaited<ReturnType<BenchNats['varz']>>,
  after: Awaited<ReturnType<BenchNats['varz']>>,
) {
  if (!before || !after) return 'nats-server monitoring did not answer';
  const inMsgs = after.in_msgs - before.in_msgs;
  const outMsgs = after.out_msgs - before.out_msgs;
  return `nats-server ${after.version} during the measurement: ${formatInt(inMsgs)} messages in, ${formatInt(outMsgs)} out (${(outMsgs / Math.max(inMsgs, 1)).toFixed(2)} out per message in), ${after.slow_consumers - before.slow_consumers} new slow consumers`;
}

/** 3b. The same on a server of its own with MF_NATS_URL (nats-server started by the bench). */
/** TETHYS_NATS_JETSTREAM for a scenario: the stream (JetStream), or core NATS as Mainflux uses it. */
const busEnv = (jetstream: boolean) => ({ TETHYS_NATS_JETSTREAM: jetstream ? 'on' : 'off' });

const publishHttpNatsScenario = (jetstream: boolean): ExtendedScenario => ({
  id: jetstream ? 'publish-http-jetstream' : 'publish-http-nats',
  title: `POST /http/channels/{id}/messages (SenML, connected thing key, ${jetstream ? 'NATS JetStream' : 'NATS'} bus, own server)`,
  stage: 'full',
  connections: 32,
  unit: 'req/s',
  target: { minThroughput: 5000, maxP99Ms: PUBLISH_TARGET_P99 },
  reference: '3,084 req/s, p99 25 ms',
  async run(ctx: BenchContext, duration: number): Promise<LoadResult> {
    const { dbUrl } = instanceInfo(ctx.server);
    let nats: BenchNats | null = null;
    let server: BenchServer | null = null;
    try {
      nats = await startNats();
      server = await startInstance({ dbUrl, extraEnv: { MF_NATS_URL: nats.url, ...busEnv(jetstream) } });
      const api = new Api(server.url);
      const fixture = await mqttFixture(server, api);
      await api.sdk.messages.publish(fixture.things[0]!.key, fixture.channel, SENML);
      const spec = httpPublishSpec(server, fixture, duration);
      server.takeLog();
      const n = nats;
      const { load, cpu, alongside } = await measuredHttp(
        server,
        spec,
        { server: server.pid, 'nats-server': nats.pid },
        () => {
          const before = n.varz();
          return { stop: async () => natsNote(await before, await n.varz()) };
        },
      );
      const rssPeakKiB = server.rss.takeWindow();
      const found = logFindings('the server', server.takeLog());
      const result: OutcomeLoad = {
        ...load,
        outcome: {
          rssPeakKiB,
          problems: found.problems,
          notes: [
            `own server with MF_NATS_URL on ${dbUrl ? 'the same PostgreSQL database' : 'a SQLite database of its own'}, no subscribers; peak RSS ${formatMiB(rssPeakKiB)}`,
            alongside ?? '',
            cpu,
            ...found.notes,
          ],
        },
      };
      return result;
    } finally {
      await server?.stop();
      await nats?.stop();
    }
  },
});

export const publishHttpNats = publishHttpNatsScenario(false);
export const publishHttpJetStream = publishHttpNatsScenario(true);

// ---------------------------------------------------------------------------------------
// 4. MQTT QoS 0 throughput, 100 publishers → 10 subscribers

const PUBLISHERS = 100;
const SUBSCRIBERS = 10;
/** QoS 0 publishes a publisher writes before each QoS 1 fence. */
const WINDOW = 20;

interface PhaseResult {
  accepted: number;
  unconfirmed: number;
  seconds: number;
  fenceRtts: number[];
  failures: string[];
}

/**
 * Every publisher writes WINDOW QoS 0 publishes and a QoS 1 fence in one write, and waits
 * for the fence's PUBACK before the next window; a window counts as accepted at that
 * PUBACK. Publishers start no window after the deadline.
 */
async function publishPhase(
  pubs: MqttConnection[],
  topic: string,
  seconds: number,
  version: MqttVersion = 4,
): Promise<PhaseResult> {
  const payload = Buffer.from(SENML);
  const qos0 = publishPacket(topic, payload, 0, 1, version).bytes;
  const fence = publishPacket(topic, payload, 1, 1, version);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const result: PhaseResult = { accepted: 0, unconfirmed: 0, seconds: 0, fenceRtts: [], failures: [] };
  await Promise.all(
    pubs.map(async (pub) => {
      const bytes = Buffer.concat([...Array.from({ length: WINDOW }, () => qos0), fence.bytes]);
      const idOffset = qos0.length * WINDOW + fence.idOffset;
      while (performance.now() < deadline && !pub.isClosed) {
        const t0 = performance.now();
        try {
          const code = await pub.fenced(bytes, idOffset, 30_000);
          if (code >= 0x80) throw new Error(`PUBACK reason ${code}`);
          result.accepted += WINDOW + 1;
          result.fenceRtts.push(performance.now() - t0);
        } catch (err) {
          result.unconfirmed += WINDOW + 1;
          if (result.failures.length < 5) result.failures.push((err as Error).message);
          break;
        }
      }
    }),
  );
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

const versionName = (v: MqttVersion) => (v === 5 ? 'MQTT 5' : 'MQTT');

const mqttThroughputScenario = (version: MqttVersion): ExtendedScenario => ({
  id: version === 5 ? 'mqtt5-throughput' : 'mqtt-throughput',
  title: `${versionName(version)} QoS 0, ${PUBLISHERS} publishers → ${SUBSCRIBERS} subscribers on one channel (windows of ${WINDOW} + QoS 1 fence)`,
  stage: 'full',
  connections: PUBLISHERS + SUBSCRIBERS,
  unit: 'req/s',
  unitLabel: 'msg/s',
  target: { minThroughput: 9000 },
  targetText: '≥ 9,000 msg/s accepted, 0 lost',
  reference: '3,702 msg/s',
  async run(ctx: BenchContext, duration: number): Promise<LoadResult> {
    const { mqttPort } = instanceInfo(ctx.server);
    const fixture = await mqttFixture(ctx.server, ctx.api);
    const topic = topicOf(fixture.channel);
    const tag = runTag();
    const conns: MqttConnection[] = [];
    try {
      const subs = await Promise.all(
        fixture.things.slice(0, SUBSCRIBERS).map((t, i) => subscriber(mqttPort, t, topic, i, version)),
      );
      conns.push(...subs);
      const pubs: MqttConnection[] = [];
      await inPool(fixture.things.slice(SUBSCRIBERS, SUBSCRIBERS + PUBLISHERS), 20, async (t, i) => {
        const { conn } = await openThing(mqttPort, t, `bench-pub-${i}-${tag}`, 10_000, version);
        pubs.push(conn);
        conns.push(conn);
      });
      const received = () => subs.reduce((a, s) => a + s.received, 0);

      const warmup = warmupSeconds();
      if (warmup > 0) {
        const w = await publishPhase(pubs, topic, warmup, version);
        await settleCount(received, w.accepted * SUBSCRIBERS, { quietMs: 1000, maxMs: 15_000 });
      }
      ctx.server.rss.takeWindow();
      const base = received();
      const metricsBefore = await serverMetrics(ctx.server.url);
      const meter = cpuMeter({ server: ctx.server.pid });
      const phase = await publishPhase(pubs, topic, duration, version);
      const cpu = meter.stop();
      const metricsAfter = await serverMetrics(ctx.server.url);
      const counted = metricDelta(
        metricsBefore,
        metricsAfter,
        'tethys_messages_published_total{protocol="mqtt"}',
      );
      const refused =
        metricSum(metricsAfter, 'tethys_messages_refused_total{protocol="mqtt"') -
        metricSum(metricsBefore, 'tethys_messages_refused_total{protocol="mqtt"');
      const expected = phase.accepted * SUBSCRIBERS;
      const drainMs = await settleCount(() => received() - base, expected, { quietMs: 2000, maxMs: 20_000 });
      const got = received() - base;
      const lost = expected - got;
      const dropped = conns.filter((c) => c.isClosed).length;
      const rtt = latencySummary(phase.fenceRtts);
      const problems: string[] = [];
      if (lost > 0)
        problems.push(
          `${formatInt(lost)} messages lost (${formatInt(got)} of ${formatInt(expected)} deliveries)`,
        );
      if (phase.unconfirmed > 0)
        problems.push(
          `${formatInt(phase.unconfirmed)} messages unconfirmed (no PUBACK): ${phase.failures.join('; ')}`,
        );
      if (dropped > 0) problems.push(`${dropped} MQTT connections closed during the load`);
      if (refused > 0) problems.push(`the server refused ${formatInt(refused)} messages (access check)`);
      const perSub = subs.map((s) => s.received);
      return customLoad({
        ok: phase.accepted,
        seconds: phase.seconds,
        p50: Number.NaN,
        p99: Number.NaN,
        max: Number.NaN,
        errors: dropped,
        outcome: {
          throughput: `${formatInt(phase.accepted / phase.seconds)} msg/s accepted (${formatInt(got / phase.seconds)} deliveries/s), ${formatInt(Math.max(0, lost))} lost`,
          checks: [{ what: '0 lost', ok: lost === 0 && phase.unconfirmed === 0 }],
          problems,
          notes: [
            `accepted = counted at the PUBACK of the QoS 1 fence that follows each window of ${WINDOW} QoS 0 publishes (the broker reads a connection in order, so the PUBACK proves it read the window); ${formatInt(phase.accepted)} accepted in ${phase.seconds.toFixed(1)} s, ${formatInt(got)} of ${formatInt(expected)} deliveries received (subscribers settled ${formatInt(drainMs)} ms after the last PUBACK); window round trip p50 ${formatMs(rtt.p50)}, p99 ${formatMs(rtt.p99)}`,
            ...(lost < 0
              ? [
                  `${formatInt(-lost)} more deliveries than accepted × ${SUBSCRIBERS}: unconfirmed windows were delivered`,
                ]
              : []),
            `per subscriber (with the warm-up): ${perSub.map((n) => formatInt(n)).join(', ')}`,
            metricsAfter
              ? `the server's counters over the measurement: ${formatInt(counted)} MQTT messages accepted after the access check, ${formatInt(refused)} refused (the harness counted ${formatInt(phase.accepted + phase.unconfirmed)} written)`
              : 'GET /metrics did not answer',
            `${cpu}; ${loopDelayText(metricsAfter)}; ${gcText(metricsBefore, metricsAfter, phase.seconds)}`,
          ],
        },
      });
    } finally {
      await closeAll(conns);
    }
  },
});

export const mqttThroughput = mqttThroughputScenario(4);
export const mqtt5Throughput = mqttThroughputScenario(5);

// ---------------------------------------------------------------------------------------
// 5. MQTT fan-out latency, 1 publisher at 1,000 msg/s → 10 subscribers

const LATENCY_RATE = 1000;

export const mqttLatency: ExtendedScenario = {
  id: 'mqtt-latency',
  title: `MQTT fan-out latency, 1 publisher at ${formatInt(LATENCY_RATE)} msg/s → ${SUBSCRIBERS} subscribers (publish → delivery)`,
  stage: 'full',
  connections: 1 + SUBSCRIBERS,
  unit: 'req/s',
  unitLabel: 'msg/s',
  target: { minThroughput: LATENCY_RATE * 0.95, maxP99Ms: 10 },
  targetText: 'p99 < 10 ms, 0 lost',
  reference: 'p50 1.2 ms, p99 26 ms',
  async run(ctx: BenchContext, duration: number): Promise<LoadResult> {
    const { mqttPort } = instanceInfo(ctx.server);
    const fixture = await mqttFixture(ctx.server, ctx.api);
    const topic = topicOf(fixture.channel);
    const conns: MqttConnection[] = [];
    try {
      const subs = await Promise.all(
        fixture.things.slice(0, SUBSCRIBERS).map((t, i) => subscriber(mqttPort, t, topic, i)),
      );
      conns.push(...subs);
      const { conn: pub } = await openThing(
        mqttPort,
        fixture.things[SUBSCRIBERS]!,
        `bench-lat-pub-${runTag()}`,
      );
      conns.push(pub);
      const warmup = warmupSeconds();
      const started = performance.now();
      const measureFrom = started + warmup * 1000;
      const end = measureFrom + duration * 1000;
      const samples: number[] = [];
      let receivedMeasured = 0;
      for (const s of subs) {
        s.onPublish = (payload) => {
          const now = performance.now();
          const sentAt = payload.readDoubleLE(0);
          if (sentAt >= measureFrom) {
            samples.push(now - sentAt);
            receivedMeasured++;
          }
        };
      }
      const template = publishPacket(topic, Buffer.alloc(16), 0).bytes;
      const payloadAt = template.length - 16;
      let sent = 0;
      let sentMeasured = 0;
      let meter: ReturnType<typeof cpuMeter> | null = null;
      // Paced by a 1 ms timer: each tick writes the messages due by then, each stamped
      // with the time it is written.
      await new Promise<void>((resolve) => {
        const tick = () => {
          const now = performance.now();
          if (!meter && now >= measureFrom) {
            meter = cpuMeter({ server: ctx.server.pid });
            void serverMetrics(ctx.server.url);
          }
          const due = Math.min(
            Math.floor(((now - started) * LATENCY_RATE) / 1000),
            Math.floor(((end - started) * LATENCY_RATE) / 1000),
          );
          if (due > sent) {
            const batch: Buffer[] = [];
            for (; sent < due; sent++) {
              const bytes = Buffer.from(template);
              const stamp = performance.now();
              bytes.writeDoubleLE(stamp, payloadAt);
              bytes.writeUInt32LE(sent, payloadAt + 8);
              if (stamp >= measureFrom) sentMeasured++;
              batch.push(bytes);
            }
            pub.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
          }
          if (now >= end || pub.isClosed) resolve();
          else setTimeout(tick, 1);
        };
        tick();
      });
      const publishSeconds = (performance.now() - measureFrom) / 1000;
      // Set inside the timer callback, which the type checker does not follow.
      const cpu = `${(meter as ReturnType<typeof cpuMeter> | null)?.stop() ?? ''}; ${loopDelayText(await serverMetrics(ctx.server.url))}`;
      await settleCount(() => receivedMeasured, sentMeasured * SUBSCRIBERS, { quietMs: 1000, maxMs: 10_000 });
      const lat = latencySummary(samples);
      const expected = sentMeasured * SUBSCRIBERS;
      const lost = expected - receivedMeasured;
      const dropped = conns.filter((c) => c.isClosed).length;
      const problems: string[] = [];
      if (lost > 0) problems.push(`${formatInt(lost)} deliveries lost of ${formatInt(expected)}`);
      if (dropped > 0) problems.push(`${dropped} MQTT connections closed during the load`);
      return customLoad({
        ok: sentMeasured,
        seconds: publishSeconds,
        p50: lat.p50,
        p99: lat.p99,
        max: lat.max,
        errors: dropped,
        outcome: {
          throughput: `${formatInt(sentMeasured / publishSeconds)} msg/s → ${formatInt(receivedMeasured / publishSeconds)} deliveries/s`,
          checks: [{ what: '0 lost', ok: lost <= 0 }],
          problems,
          notes: [
            `latency from writing the PUBLISH (timestamp in the payload) to reading it in each subscriber, all in the harness process: ${formatInt(lat.count)} deliveries, p50 ${formatMs(lat.p50)}, p99 ${formatMs(lat.p99)}, max ${formatMs(lat.max)}`,
            cpu,
          ],
        },
      });
    } finally {
      await closeAll(conns);
    }
  },
};

// ---------------------------------------------------------------------------------------
// 6. MQTT CONNECT with first-time credentials

const CONNECT_IN_FLIGHT = 50;
/** Fresh things are created for this many connects a second over warm-up and measurement. */
const CONNECT_RATE_CEILING = 5000;
const CONNECT_MAX_THINGS = 60_000;

const mqttConnectScenario = (version: MqttVersion): ExtendedScenario => ({
  id: version === 5 ? 'mqtt5-connect' : 'mqtt-connect',
  title: `${versionName(version)} CONNECT → CONNACK, first-time credentials (key not cached), ${CONNECT_IN_FLIGHT} at a time`,
  stage: 'full',
  connections: CONNECT_IN_FLIGHT,
  unit: 'req/s',
  unitLabel: 'connects/s',
  target: { minThroughput: 1500, maxP99Ms: 50 },
  reference: '156/s, p99 410 ms',
  async run(ctx: BenchContext, duration: number): Promise<LoadResult> {
    const { mqttPort } = instanceInfo(ctx.server);
    const warmup = warmupSeconds();
    const { token } = await accountOn(ctx.api, MQTT_EMAIL);
    const tag = runTag();
    const need = Math.min(CONNECT_MAX_THINGS, Math.ceil(CONNECT_RATE_CEILING * (warmup + duration)));
    const createdAt = performance.now();
    const things = await createThings(ctx.api, token, need, `bench-connect-${tag}`);
    const createSeconds = (performance.now() - createdAt) / 1000;
    // 60,000 new rows can start an autoanalyze or autovacuum of things; not in the measurement.
    const settled = await ctx.settle();
    let next = 0;
    const closing = new Set<Promise<void>>();
    const phase = async (seconds: number) => {
      const samples: number[] = [];
      const failures: string[] = [];
      let failed = 0;
      let ranOut = false;
      const started = performance.now();
      const deadline = started + seconds * 1000;
      const worker = async () => {
        while (performance.now() < deadline) {
          if (next >= things.length) {
            ranOut = true;
            return;
          }
          const i = next++;
          try {
            const { conn, connectMs } = await openThing(
              mqttPort,
              things[i]!,
              `bench-c-${tag}-${i}`,
              10_000,
              version,
            );
            samples.push(connectMs);
            // The broker closes after DISCONNECT; the next connect does not wait for it.
            const closed = conn.disconnect(3000);
            closing.add(closed);
            closed.then(() => closing.delete(closed));
          } catch (err) {
            failed++;
            if (failures.length < 3 && !failures.includes((err as Error).message))
              failures.push((err as Error).message);
          }
        }
      };
      await Promise.all(Array.from({ length: CONNECT_IN_FLIGHT }, worker));
      return { samples, failed, failures, ranOut, seconds: (performance.now() - started) / 1000 };
    };
    try {
      if (warmup > 0) await phase(warmup);
      await Promise.all(closing);
      ctx.server.rss.takeWindow();
      const used = next;
      const metricsBefore = await serverMetrics(ctx.server.url);
      const meter = cpuMeter({ server: ctx.server.pid });
      const harness = harnessLoopMeter();
      const m = await phase(duration);
      const serverCpu = meter.stop();
      const harnessLoop = harness.stop();
      const metricsAfter = await serverMetrics(ctx.server.url);
      const cpu = `${serverCpu}; ${loopDelayText(metricsAfter)}; ${gcText(metricsBefore, metricsAfter, m.seconds)}; ${harnessLoop}`;
      await Promise.all(closing);
      const lat = latencySummary(m.samples);
      const notes = [
        cpu,
        `each connect a thing never connected before (${formatInt(need)} created beforehand in ${createSeconds.toFixed(1)} s${settled ? `, then ${settled}` : ''}; ${formatInt(next - used)} used in the measurement); latency from writing CONNECT to reading CONNACK, TCP handshake excluded; clients send DISCONNECT after CONNACK and the broker closes`,
      ];
      if (m.ranOut)
        notes.push(
          `ran out of fresh things after ${m.seconds.toFixed(1)} s of the ${duration} s: the rate is over the time used`,
        );
      const problems =
        m.failed > 0 ? [`${formatInt(m.failed)} connects failed: ${m.failures.join('; ')}`] : [];
      return customLoad({
        ok: m.samples.length,
        seconds: m.seconds,
        p50: lat.p50,
        p99: lat.p99,
        max: lat.max,
        errors: m.failed,
        outcome: { problems, notes },
      });
    } finally {
      await Promise.all(closing);
    }
  },
});

export const mqttConnect = mqttConnectScenario(4);
export const mqtt5Connect = mqttConnectScenario(5);

// ---------------------------------------------------------------------------------------
// 7. Two instances over NATS: HTTP publish on A, MQTT subscriber on B

const natsTwoInstancesScenario = (jetstream: boolean): ExtendedScenario => ({
  id: jetstream ? 'nats-two-instances-jetstream' : 'nats-two-instances',
  title: `Two instances over ${jetstream ? 'NATS JetStream' : 'NATS'}: POST /http/…/messages on A (32 connections) → MQTT subscriber on B (p50/p99 end to end)`,
  stage: 'full',
  connections: 32,
  unit: 'req/s',
  unitLabel: 'msg/s',
  databases: ['postgres'],
  async run(ctx: BenchContext, duration: number): Promise<LoadResult> {
    const { dbUrl } = instanceInfo(ctx.server);
    let nats: BenchNats | null = null;
    const servers: BenchServer[] = [];
    let sub: MqttConnection | null = null;
    try {
      nats = await startNats();
      const env = { MF_NATS_URL: nats.url, ...busEnv(jetstream) };
      const [a, b] = await Promise.all([
        startInstance({ dbUrl, extraEnv: env }),
        startInstance({ dbUrl, extraEnv: env }),
      ]);
      servers.push(a!, b!);
      const fixture = await mqttFixture(a!, new Api(a!.url));
      const publishers: MqttFixture = { ...fixture, things: fixture.things.slice(1, 33) };
      sub = await subscriber(instanceInfo(b!).mqttPort, fixture.things[0]!, topicOf(fixture.channel), 0);
      let measureFrom = Number.POSITIVE_INFINITY;
      const samples: number[] = [];
      let receivedAll = 0;
      sub.onPublish = (payload) => {
        const now = performance.now();
        receivedAll++;
        const sentAt = (JSON.parse(payload.toString()) as { v: number }[])[0]!.v;
        if (sentAt >= measureFrom) samples.push(now - sentAt);
      };
      // One message first: the path A → NATS → B works.
      const api = new Api(a!.url);
      await api.sdk.messages.publish(
        publishers.things[0]!.key,
        fixture.channel,
        JSON.stringify([{ bn: 'bench:', n: 'check', v: performance.now() }]),
        { subtopic: 'bench' },
      );
      await settleCount(() => receivedAll, 1, { quietMs: 5000, maxMs: 5000 });
      if (receivedAll < 1)
        throw new Error('a message published on instance A did not reach the subscriber on B within 5 s');

      const body = () => `[{"bn":"bench:","n":"t","v":${performance.now()}}]`;
      const spec = httpPublishSpec(a!, publishers, duration, body);
      const warmup = warmupSeconds();
      if (warmup > 0) {
        await runLoad({ ...spec, duration: warmup });
        await settleCount(() => receivedAll, Number.POSITIVE_INFINITY, { quietMs: 1000, maxMs: 10_000 });
      }
      for (const s of servers) {
        s.rss.takeWindow();
        s.takeLog();
      }
      const before = await nats.varz();
      await Promise.all([serverMetrics(a!.url), serverMetrics(b!.url)]);
      const meter = cpuMeter({ A: a!.pid, B: b!.pid, 'nats-server': nats.pid });
      measureFrom = performance.now();
      const load = await runLoad(spec);
      const [lagA, lagB] = await Promise.all([serverMetrics(a!.url), serverMetrics(b!.url)]);
      const cpu = `${meter.stop()}; ${loopDelayText(lagA, 'A')}; ${loopDelayText(lagB, 'B')}`;
      await settleCount(() => samples.length, load.ok, { quietMs: 2000, maxMs: 20_000 });
      const after = await nats.varz();
      const lat = latencySummary(samples);
      const rss = servers.map((s) => s.rss.takeWindow());
      const problems: string[] = [];
      const notes: string[] = [];
      for (const [i, s] of servers.entries()) {
        const found = logFindings(`instance ${i ? 'B' : 'A'}`, s.takeLog());
        problems.push(...found.problems);
        notes.push(...found.notes);
      }
      const lost = load.ok - samples.length;
      if (lost > 0)
        problems.push(`${formatInt(lost)} of ${formatInt(load.ok)} accepted messages did not reach B`);
      if (sub.isClosed) problems.push('the subscriber on B was disconnected');
      notes.unshift(
        `instances A and B (MF_NATS_URL, same PostgreSQL database) and nats-server started by the bench; HTTP on A: p50 ${formatMs(load.p50)}, p99 ${formatMs(load.p99)}; end to end (body built → MQTT delivery on B): ${formatInt(lat.count)} messages, p50 ${formatMs(lat.p50)}, p99 ${formatMs(lat.p99)}, max ${formatMs(lat.max)}; peak RSS A ${formatMiB(rss[0]!)}, B ${formatMiB(rss[1]!)}`,
        natsNote(before, after),
        cpu,
      );
      const result: OutcomeLoad = {
        ...load,
        p50: lat.p50,
        p99: lat.p99,
        max: lat.max,
        outcome: {
          throughput: `${formatInt(load.okPerSecond)} msg/s on A → ${formatInt(samples.length / load.seconds)}/s delivered on B`,
          rssPeakKiB: Math.max(...rss),
          problems,
          notes,
        },
      };
      return result;
    } finally {
      if (sub) await sub.disconnect(2000);
      await Promise.all(servers.map((s) => s.stop()));
      await nats?.stop();
    }
  },
});

export const natsTwoInstances = natsTwoInstancesScenario(false);
export const natsTwoInstancesJetStream = natsTwoInstancesScenario(true);

// ---------------------------------------------------------------------------------------
// 8. 10,000 MQTT sessions held open

const SESSIONS_IN_FLIGHT = 200;
const HOLD_SECONDS = 10;
const RSS_BOUND_BYTES = 300_000_000;
/** Connections one local address takes before the next is used (Linux's ephemeral ports: 28,232). */
const PORTS_PER_ADDRESS = 25_000;

/**
 * SESSIONS sessions connect and are held while the server's RSS is sampled. 10,000 has
 * the RSS target; more (50,000) report RSS and the connect rate, spread over several
 * 127.0.0.x source addresses once one runs out of ports.
 */
const mqttSessionsScenario = (SESSIONS: number): ExtendedScenario => ({
  id: SESSIONS === 10_000 ? 'mqtt-sessions' : `mqtt-sessions-${SESSIONS / 1000}k`,
  title: `${formatInt(SESSIONS)} MQTT sessions held open ${HOLD_SECONDS} s (server RSS)`,
  stage: 'full',
  connections: SESSIONS,
  unit: 'req/s',
  unitLabel: 'connects/s',
  target: { minThroughput: 0 },
  targetText:
    SESSIONS === 10_000
      ? `${formatInt(SESSIONS)} sessions held, server RSS < 300 MB`
      : `${formatInt(SESSIONS)} sessions held`,
  async run(ctx: BenchContext): Promise<LoadResult> {
    const { mqttPort } = instanceInfo(ctx.server);
    const notes: string[] = [];
    // Each session is a file descriptor in the server and one in the harness.
    const limits = [openFilesLimit(ctx.server.pid), openFilesLimit(process.pid)].filter(
      (n): n is number => n !== null,
    );
    const fdRoom = Math.min(...limits, Number.POSITIVE_INFINITY) - 500;
    const count = Math.max(0, Math.min(SESSIONS, fdRoom));
    if (count < SESSIONS)
      notes.push(
        `open-file limit (server ${openFilesLimit(ctx.server.pid)}, harness ${openFilesLimit(process.pid)}) allows ${formatInt(count)} sessions, not ${formatInt(SESSIONS)}: raise ulimit -n`,
      );
    const { token } = await accountOn(ctx.api, MQTT_EMAIL);
    const tag = runTag();
    const things = await createThings(ctx.api, token, count, `bench-session-${tag}`);
    await sleep(500);
    const baseline = ctx.server.rss.read()?.rss ?? 0;
    const metricsBefore = await serverMetrics(ctx.server.url);
    ctx.server.rss.takeWindow();
    const conns: MqttConnection[] = [];
    const connectMs: number[] = [];
    const failures: string[] = [];
    let failed = 0;
    try {
      const started = performance.now();
      const meter = cpuMeter({ server: ctx.server.pid });
      await serverMetrics(ctx.server.url);
      await inPool(things, SESSIONS_IN_FLIGHT, async (t, i) => {
        try {
          // Binding a source address makes every connect search for a free port (slower
          // in the harness): only once the first address's ports are used up.
          const address = Math.floor(i / PORTS_PER_ADDRESS);
          const local = address === 0 ? undefined : `127.0.0.${1 + address}`;
          const r = await openThing(mqttPort, t, `bench-s-${tag}-${i}`, 30_000, 4, local);
          conns.push(r.conn);
          connectMs.push(r.connectMs);
        } catch (err) {
          failed++;
          if (failures.length < 3 && !failures.includes((err as Error).message))
            failures.push((err as Error).message);
        }
      });
      const connectSeconds = (performance.now() - started) / 1000;
      const cpu = `while connecting: ${meter.stop()}`;
      let peak = 0;
      const holdEnd = performance.now() + HOLD_SECONDS * 1000;
      while (performance.now() < holdEnd) {
        peak = Math.max(peak, ctx.server.rss.read()?.rss ?? 0);
        await sleep(250);
      }
      peak = Math.max(peak, ctx.server.rss.read()?.rss ?? 0);
      const metricsHeld = await serverMetrics(ctx.server.url);
      const held = conns.filter((c) => !c.isClosed).length;
      const mib = (m: Map<string, number> | null, series: string) =>
        `${((m?.get(series) ?? Number.NaN) / 2 ** 20).toFixed(0)} MiB`;
      notes.push(`over the connects and the hold: ${loopDelayText(metricsHeld)}`);
      if (metricsHeld)
        notes.push(
          `server memory before → while held: V8 heap used ${mib(metricsBefore, 'nodejs_heap_size_used_bytes')} → ${mib(metricsHeld, 'nodejs_heap_size_used_bytes')}, heap total ${mib(metricsBefore, 'nodejs_heap_size_total_bytes')} → ${mib(metricsHeld, 'nodejs_heap_size_total_bytes')}, external ${mib(metricsBefore, 'nodejs_external_memory_bytes')} → ${mib(metricsHeld, 'nodejs_external_memory_bytes')}`,
        );
      const lat = latencySummary(connectMs);
      const problems: string[] = [];
      if (failed > 0) problems.push(`${formatInt(failed)} connects failed: ${failures.join('; ')}`);
      if (held < conns.length) problems.push(`${formatInt(conns.length - held)} sessions closed while held`);
      const seeded = ctx.seeded;
      notes.unshift(
        `server RSS before connecting (main account ${formatInt(seeded)} things, after the earlier scenarios): ${formatMiB(baseline)}; peak while ${formatInt(held)} sessions were held ${HOLD_SECONDS} s: ${formatMiB(peak)} (${held ? ((peak - baseline) / held).toFixed(1) : '—'} KiB a session); connected in ${connectSeconds.toFixed(1)} s, ${SESSIONS_IN_FLIGHT} in flight, CONNECT → CONNACK p50 ${formatMs(lat.p50)}, p99 ${formatMs(lat.p99)}`,
      );
      return customLoad({
        ok: conns.length,
        seconds: connectSeconds,
        p50: lat.p50,
        p99: lat.p99,
        max: lat.max,
        errors: failed,
        outcome: {
          throughput: `${formatInt(held)} sessions held, RSS ${formatMiB(peak)} (${formatMiB(baseline)} before); connected at ${formatInt(conns.length / connectSeconds)}/s`,
          checks: [
            // Where the open-file limit cannot be raised (the note says), as many as it allows
            // are measured, and the target is not reached: it asks for all of them.
            { what: `${formatInt(SESSIONS)} sessions held`, ok: held === SESSIONS },
            ...(SESSIONS === 10_000 ? [{ what: 'RSS < 300 MB', ok: peak * 1024 < RSS_BOUND_BYTES }] : []),
          ],
          problems,
          notes: [...notes, cpu],
        },
      });
    } finally {
      await closeAll(conns);
    }
  },
});

export const mqttSessions = mqttSessionsScenario(10_000);
export const mqttSessions50k = mqttSessionsScenario(50_000);

/** In the order they run (after the core scenarios; the sessions last: they leave the most behind). */
export const messagingScenarios: ExtendedScenario[] = [
  publishHttp,
  publishHttpNats,
  publishHttpJetStream,
  mqttThroughput,
  mqtt5Throughput,
  mqttLatency,
  mqttConnect,
  mqtt5Connect,
  natsTwoInstances,
  natsTwoInstancesJetStream,
  mqttSessions,
  mqttSessions50k,
];
