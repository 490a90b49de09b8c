import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { before, describe, it } from 'node:test';
import { connectedGroup, createChannel, type ThingView } from './helpers/entities.js';
import { dialect, userToken, withServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

/**
 * Independent MQTT clients against the broker, in MQTT 3.1.1 and 5: Debian's mosquitto
 * clients and Paho Python (Debian's python3-paho-mqtt, run with Debian's python3).
 */
const MOSQUITTO = ['/usr/bin/mosquitto_pub', '/usr/local/bin/mosquitto_pub'].some((p) => fs.existsSync(p));
const PYTHON = '/usr/bin/python3';
const PAHO = fs.existsSync(PYTHON) && spawnOk(PYTHON, ['-c', 'import paho.mqtt.client']);

function spawnOk(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

const topic = (channel: string, sub?: string) => `channels/${channel}/messages${sub ? `/${sub}` : ''}`;

describe(`real MQTT clients (${dialect})`, { timeout: 90_000 }, () => {
  const fixture = withServer(
    {},
    {
      beforeClose: async () => {
        for (const c of children)
          if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
      },
    },
  );
  const { request } = fixture;
  let token: string;
  let port: string;
  const children: ChildProcess[] = [];

  before(async () => {
    token = (await userToken(request)).token;
    port = String(fixture.server.app.mqtt.ports.mqtt);
  });

  function run(cmd: string, args: string[], input?: string): Promise<{ code: number | null; out: string }> {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const add = (d: Buffer) => {
      out += d.toString();
    };
    child.stdout!.on('data', add);
    child.stderr!.on('data', add);
    child.stdin!.end(input ?? '');
    return new Promise((resolve) => child.once('close', (code) => resolve({ code, out })));
  }

  const group = (n: number) => connectedGroup(request, token, n);

  for (const version of ['mqttv311', 'mqttv5'] as const) {
    it(`mosquitto_sub and mosquitto_pub, -V ${version}: delivery, a refused subscription, a wrong key`, {
      skip: !MOSQUITTO && 'mosquitto-clients not installed',
    }, async () => {
      const { channel, things } = await group(2);
      const [subThing, pubThing] = things as [ThingView, ThingView];
      const auth = (t: ThingView) => ['-h', '127.0.0.1', '-p', port, '-V', version, '-u', t.id, '-P', t.key];
      const subId = `sub-${crypto.randomBytes(4).toString('hex')}`;
      const sub = run('mosquitto_sub', [
        ...auth(subThing),
        '-i',
        subId,
        '-t',
        topic(channel, '#'),
        '-C',
        '1',
        '-W',
        '15',
        '-v',
      ]);
      await eventually(
        'mosquitto_sub subscribed',
        () => fixture.server.app.mqtt.subscriptionsOf(subId).length > 0,
      );
      const pub = await run('mosquitto_pub', [
        ...auth(pubThing),
        '-t',
        topic(channel, 'm/q'),
        '-m',
        `from-${version}`,
        '-q',
        '1',
      ]);
      assert.equal(pub.code, 0, pub.out);
      const got = await sub;
      assert.equal(got.code, 0, got.out);
      assert.match(got.out, new RegExp(`^${topic(channel, 'm/q')} from-${version}$`, 'm'));

      const wrong = await run('mosquitto_pub', [
        ...auth(pubThing).slice(0, -1),
        'wrong',
        '-t',
        topic(channel),
        '-m',
        'x',
      ]);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.out, /bad user name or password|not authori[sz]ed/i, wrong.out);

      const other = await createChannel(request, token, { name: 'other' });
      const denied = await run('mosquitto_sub', [...auth(subThing), '-t', topic(other.id), '-W', '3', '-d']);
      assert.match(denied.out, /SUBACK/);
      assert.match(
        denied.out,
        version === 'mqttv5' ? /\b135\b|not authori[sz]ed/i : /\b128\b|denied/i,
        denied.out,
      );
    });
  }

  it('mosquitto_pub -V mqttv5 -q 1 to a channel it is not connected to: PUBACK with reason 135', {
    skip: !MOSQUITTO && 'mosquitto-clients not installed',
  }, async () => {
    const { things } = await group(1);
    const other = await createChannel(request, token, { name: 'other' });
    const pub = await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-V',
      'mqttv5',
      '-u',
      things[0]!.id,
      '-P',
      things[0]!.key,
      '-t',
      topic(other.id),
      '-m',
      'x',
      '-q',
      '1',
      '-d',
    ]);
    assert.match(pub.out, /PUBACK[^\n]*(RC:135|reason code: 135)/i, pub.out);
  });

  const PAHO_SCRIPT = `
import json, sys, threading, paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes
cfg = json.loads(sys.stdin.read())
v5 = cfg['version'] == 5
out = {'received': [], 'suback': []}
got = threading.Event(); subscribed = threading.Event(); connected = threading.Event()
def on_connect(c, u, flags, rc, props=None):
    out['connack'] = rc if isinstance(rc, int) else rc.value
    connected.set()
def on_subscribe(c, u, mid, granted, props=None):
    out['suback'] = [g if isinstance(g, int) else g.value for g in granted]
    subscribed.set()
def on_message(c, u, msg):
    item = {'topic': msg.topic, 'payload': msg.payload.decode()}
    if v5 and getattr(msg, 'properties', None) is not None and hasattr(msg.properties, 'UserProperty'):
        item['user'] = msg.properties.UserProperty
    out['received'].append(item)
    got.set()
kw = {'client_id': cfg['client_id']}
if v5: kw['protocol'] = mqtt.MQTTv5
else: kw['protocol'] = mqtt.MQTTv311
c = mqtt.Client(**kw)
c.username_pw_set(cfg['id'], cfg['key'])
c.on_connect = on_connect; c.on_subscribe = on_subscribe; c.on_message = on_message
c.connect('127.0.0.1', cfg['port'], 30)
c.loop_start()
connected.wait(10)
if out.get('connack') == 0:
    c.subscribe([(cfg['topic'], 1), (cfg['denied'], 1)])
    subscribed.wait(10)
    props = None
    if v5:
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = [('from', 'paho')]
    c.publish(cfg['topic'], 'hello-paho', qos=1, properties=props) if v5 else c.publish(cfg['topic'], 'hello-paho', qos=1)
    got.wait(10)
c.disconnect(); c.loop_stop()
print(json.dumps(out))
`;

  for (const version of [4, 5] as const) {
    it(`Paho Python, MQTT ${version === 4 ? '3.1.1' : '5'}: connect, subscribe (one granted, one refused), publish, receive`, {
      skip: !PAHO && 'python3-paho-mqtt not installed',
    }, async () => {
      const { channel, things } = await group(1);
      const other = await createChannel(request, token, { name: 'other' });
      const result = await run(
        PYTHON,
        ['-c', PAHO_SCRIPT],
        JSON.stringify({
          version,
          port: Number(port),
          id: things[0]!.id,
          key: things[0]!.key,
          client_id: `paho-${crypto.randomBytes(4).toString('hex')}`,
          topic: topic(channel, 'paho'),
          denied: topic(other.id),
        }),
      );
      assert.equal(result.code, 0, result.out);
      const out = JSON.parse(result.out.trim().split('\n').pop()!);
      assert.equal(out.connack, 0);
      assert.deepEqual(out.suback, version === 5 ? [1, 135] : [1, 128]);
      assert.equal(out.received[0]?.payload, 'hello-paho', result.out);
      assert.equal(out.received[0]?.topic, topic(channel, 'paho'));
      if (version === 5) assert.deepEqual(out.received[0]?.user, [['from', 'paho']]);
    });
  }

  it('Paho Python, a wrong key: CONNACK refuses (4 in MQTT 3.1.1, 134 in MQTT 5)', {
    skip: !PAHO && 'python3-paho-mqtt not installed',
  }, async () => {
    const { channel, things } = await group(1);
    for (const [version, expected] of [
      [4, 4],
      [5, 134],
    ] as const) {
      const result = await run(
        PYTHON,
        ['-c', PAHO_SCRIPT],
        JSON.stringify({
          version,
          port: Number(port),
          id: things[0]!.id,
          key: 'wrong',
          client_id: `paho-${crypto.randomBytes(4).toString('hex')}`,
          topic: topic(channel),
          denied: topic(channel),
        }),
      );
      const out = JSON.parse(result.out.trim().split('\n').pop()!);
      assert.equal(out.connack, expected, result.out);
    }
  });
});
