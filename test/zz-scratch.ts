import { startServer, client, userToken } from '/work/main/test/helpers/server.js';
import { createThings, createChannel, connect } from '/work/main/test/helpers/entities.js';
import { connectThing, mqttUrl } from '/work/main/test/helpers/mqtt.js';
import { execFileSync } from 'node:child_process';
const s = await startServer({TETHYS_LOG_LEVEL:'debug'});
const r = client(s.url);
const tok = (await userToken(r)).token;
const things = await createThings(r, tok, [{name:'a'},{name:'b'}]);
const ch = await createChannel(r, tok);
await connect(r, tok, [ch.id], things.map(t=>t.id));
const sub = await connectThing(mqttUrl(s.app), things[0]!);
console.log(await sub.subscribe(`channels/${ch.id}/messages/#`));
try { console.log(execFileSync('mosquitto_pub', ['-d','-h','127.0.0.1','-p',String(s.app.mqtt.ports.mqtt),'-u',things[1]!.id,'-P',things[1]!.key,'-t',`channels/${ch.id}/messages/m/q`,'-m','hello','-q','1'], {encoding:'utf8'})); } catch(e) { console.log('ERR', (e as any).stdout, (e as any).stderr); }
await new Promise(r=>setTimeout(r,500));
console.log(sub.messages);
await sub.end(); await s.close();
