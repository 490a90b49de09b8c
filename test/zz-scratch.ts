import { startServer } from '/work/main/test/helpers/server.js';
import net from 'node:net';
const s = await startServer({});
const port = s.app.mqtt.ports.mqtt!;
const str = (x: string) => { const b = Buffer.from(x); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]); };
function pkt(u: string, p: string) { const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str(''), str(u), str(p)]); return Buffer.concat([Buffer.from([0x10, body.length]), body]); }
async function one(i: number) { return new Promise<number>((res) => { const t0 = performance.now(); const so = net.connect(port, '127.0.0.1', () => so.write(pkt(crypto.randomUUID(), 'wrong'+i))); so.on('close', () => res(performance.now() - t0)); so.on('error', () => {}); }); }
const t0 = performance.now(); let n = 0;
await Promise.all(Array.from({ length: 20 }, async () => { while (n < 2000) { n++; await one(n); } }));
console.log('total', Math.round(performance.now() - t0));
await s.close();
