// Summarises a V8 .cpuprofile (from BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=…"):
// self time by function and by file, the top entries first.
//   npx tsx bench/profile-top.ts /tmp/prof/CPU.*.cpuprofile [rows]
import fs from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) {
  console.error('usage: profile-top <file.cpuprofile> [rows]');
  process.exit(2);
}
const rows = Number(process.argv[3] ?? 40);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// Only the seconds in which the server was mostly busy (the load), unless BUSY=0.
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const perSecond = new Map<number, { busy: number; all: number }>();
let clock = 0;
const secondOf = profile.samples.map((id, i) => {
  clock += profile.timeDeltas[i] ?? 0;
  const sec = Math.floor(clock / 1e6);
  const s = perSecond.get(sec) ?? { busy: 0, all: 0 };
  s.all++;
  if (!idleIds.has(id)) s.busy++;
  perSecond.set(sec, s);
  return sec;
});
const busySeconds = new Set(
  [...perSecond].filter(([, s]) => process.env.BUSY === '0' || s.busy / s.all > 0.5).map(([sec]) => sec),
);
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  if (!busySeconds.has(secondOf[i]!)) return;
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);

const short = (url: string) =>
  url.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/.*?\/(dist|src)\//, '$1/');
const fnTotals = new Map<string, number>();
const fileTotals = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const f = n.callFrame;
  const key = `${f.functionName || '(anon)'}  ${short(f.url)}:${f.lineNumber + 1}`;
  fnTotals.set(key, (fnTotals.get(key) ?? 0) + us);
  const pkg = short(f.url).split('/').slice(0, 2).join('/') || f.functionName;
  fileTotals.set(pkg, (fileTotals.get(pkg) ?? 0) + us);
}
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
console.log(`${(total / 1e6).toFixed(1)} s sampled`);
print('by package / folder', fileTotals);
print('by function', fnTotals);
