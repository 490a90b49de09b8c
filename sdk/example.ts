// A device fleet in a dozen lines: `npx tsx sdk/example.ts http://localhost:9000`
// (against `npm start`). Registers an account, creates a sensor and a channel, connects
// them, publishes as the sensor and lists what was made.
import { Tethys, TethysError } from './src/index.js';

const url = process.argv[2] ?? 'http://localhost:9000';
const tethys = new Tethys({ url });
const email = `example-${Date.now()}@example.com`;
await tethys.users.register(email, 'a long password');
const me = tethys.withToken(await tethys.users.login(email, 'a long password'));

const [sensor] = await me.things.createMany([{ name: 'sensor-1', metadata: { site: 'north' } }]);
const [channel] = await me.channels.createMany([{ name: 'telemetry' }]);
await me.connect([channel!.id], [sensor!.id]);
await me.messages.publish(
  sensor!.key,
  channel!.id,
  JSON.stringify([{ n: 'temperature', u: 'Cel', v: 21.5 }]),
);

for await (const thing of me.things.all({ metadata: { site: 'north' } }))
  console.log('thing', thing.id, thing.name);
try {
  await me.things.get('00000000-0000-4000-8000-000000000000');
} catch (err) {
  if (err instanceof TethysError) console.log(`as expected: ${err.status} ${err.message}`);
}
