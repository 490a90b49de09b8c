import { startServer, client, userToken } from '/work/main/test/helpers/server.js';
import { createThings, createChannel, connect } from '/work/main/test/helpers/entities.js';
import { MqttConnection, publishPacket } from '/work/main/bench/mqtt-load.js';
const server = await startServer({ TETHYS_LOG_LEVEL: process.env.LL ?? 'warn' });
server.app.mqtt.aedes.on('clientError', (c, e) => console.log('clientError', e.message));
server.app.mqtt.aedes.on('connectionError', (c, e) => console.log('connectionError', e.message));
const request = client(server.url);
const { token } = await userToken(request);
const things = await createThings(request, token, Array.from({length: 110}, (_, i) => ({ name: 'a'+i })));
const ch = await createChannel(request, token, { name: 'c' });
const topic = `channels/${ch.id}/messages/bench`;
await connect(request, token, [ch.id], things.map((t) => t.id));
const subs = await Promise.all(things.slice(100).map((t, i) => MqttConnection.open({ host: '127.0.0.1', port: server.app.mqtt.ports.mqtt!, clientId: 's'+i, username: t.id, password: t.key, keepalive: 60, timeoutMs: 5000 }).then(async r => { await r.conn.subscribe(topic); return r.conn; })));
const pubs = await Promise.all(things.slice(0,100).map((t, i) => MqttConnection.open({ host: '127.0.0.1', port: server.app.mqtt.ports.mqtt!, clientId: 'p'+i, username: t.id, password: t.key, keepalive: 60, timeoutMs: 5000 }).then(r => r.conn)));
const payload = Buffer.from('[{"n":"x","v":1}]');
const qos0 = publishPacket(topic, payload, 0).bytes;
const fence = publishPacket(topic, payload, 1, 1);
const bytes = Buffer.concat([...Array.from({ length: 20 }, () => qos0), fence.bytes]);
const idOffset = qos0.length * 20 + fence.idOffset;
const deadline = performance.now() + 2000;
let n = 0;
await Promise.all(pubs.map(async (pub) => {
  while (performance.now() < deadline && !pub.isClosed) {
    try { await pub.fenced(bytes, idOffset, 5000); n++; } catch (e) { console.log('fence failed', (e as Error).message); break; }
  }
}));
console.log('windows', n, 'closed', pubs.filter(p => p.isClosed).length, 'subs closed', subs.filter(p => p.isClosed).length);
await server.close();
