import { startServer, client, userToken } from '/work/main/test/helpers/server.js';
import { createThings, createChannel, connect } from '/work/main/test/helpers/entities.js';
import mqtt from 'mqtt';
const server = await startServer({ TETHYS_LOG_LEVEL: 'debug' });
const request = client(server.url);
const { token } = await userToken(request);
const things = await createThings(request, token, [{ name: 'a' }, { name: 'b' }]);
const ch = await createChannel(request, token, { name: 'c' });
await connect(request, token, [ch.id], things.map((t) => t.id));
const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.app.mqtt.ports.mqtt}`, { username: things[0].id, password: things[0].key, reconnectPeriod: 0 });
c.on('close', () => console.log('CLOSED'));
c.on('error', (e) => console.log('ERR', e.message));
for (let round = 0; round < 50; round++) {
  for (let i = 0; i < 20; i++) c.publish(`channels/${ch.id}/messages`, 'x', { qos: 0 });
  await c.publishAsync(`channels/${ch.id}/messages`, 'fence', { qos: 1 });
}
console.log('done rounds');
await c.endAsync();
await server.close();
