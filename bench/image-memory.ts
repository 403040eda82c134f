// Where an image load's CPU and memory go in the Easel process: CPU per image by thread (main, libuv pool,
// V8's GC helpers), peak RSS, and with SMAPS=1 the resident memory by mapping (the malloc heap, anonymous
// memory, the node binary) before and after; TRACE_GC=1 counts the collections. Node flags for Easel go in
// EASEL_NODE_ARGS; EASEL_FROM=bundle runs the bundle as npm start does (default: source).
// Usage: node bench/image-memory.ts [seconds=5]
import fs from 'node:fs';
import { runClosedLoop } from './lib/closed-loop.ts';
import { noisyPng } from './lib/fixtures.ts';
import { killAllStarted } from './lib/processes.ts';
import { guestLogin, startEasel, startMock } from './lib/servers.ts';

function smaps(pid: number, label: string): void {
  const lines = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n');
  const groups = new Map<string, number>();
  let current = '';
  for (const line of lines) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) current = head[1] ? (head[1].startsWith('/') ? head[1].split('/').slice(-1)[0]! : head[1]) : 'anon';
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (rss) groups.set(current, (groups.get(current) ?? 0) + Number(rss[1]));
  }
  console.log(label, [...groups].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ${(v / 1024).toFixed(1)} MiB`).join(', '));
}

function threads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, (out.get(name) ?? 0) + Number(f[11]) + Number(f[12]));
  }
  return out;
}

const png = await noisyPng();
const mock = await startMock('t-mock', { MOCK_IMAGE_FILE: png.file });
const easel = await startEasel({ name: 't-easel', upstream: mock, from: (process.env.EASEL_FROM as 'source' | 'bundle') ?? 'source', nodeArgs: [...(process.env.TRACE_GC ? ['--trace-gc'] : []), ...(process.env.EASEL_NODE_ARGS ? process.env.EASEL_NODE_ARGS.split(' ') : [])] });
try {
  const mem = (field: string) => (fs.readFileSync(`/proc/${easel.pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0) + ' kB';
  console.log('start: VmRSS', mem('VmRSS'));
  const { token } = await guestLogin(easel);
  if (process.env.SMAPS) smaps(easel.pid, 'start:');
  const request = { url: `${easel.url}/v1/images/generations`, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'a fox', size: '1024x1024', response_format: 'url' }) };
  await runClosedLoop({ request, concurrency: 20, durationMs: 2000, warmupMs: 0 } as never);
  const before = threads(easel.pid);
  const result = await runClosedLoop({ request, concurrency: 20, durationMs: Number(process.argv[2] ?? 5) * 1000, warmupMs: 0 } as never);
  const after = threads(easel.pid);
  if (process.env.SMAPS) smaps(easel.pid, 'after:');
  const n = result.sentInAll;
  console.log(`${result.throughput} img/s, ${n} images, VmHWM ${mem('VmHWM')}, VmRSS now ${mem('VmRSS')}`);
  let total = 0;
  for (const [name, ticks] of after) {
    const used = (ticks - (before.get(name) ?? 0)) * 10; // ms at 100 Hz
    total += used;
    if (used > 0) console.log(`${name.padEnd(18)} ${(used / n).toFixed(2)} ms/img`);
  }
  console.log(`${'all'.padEnd(18)} ${(total / n).toFixed(2)} ms/img`);
  if (process.env.TRACE_GC) {
    const log = fs.readFileSync(easel.logFile, 'utf8');
    for (const kind of ['Scavenge', 'Mark-Compact', 'Minor Mark-Sweep', 'Mark-sweep']) console.log(kind, (log.match(new RegExp(kind, 'g')) ?? []).length);
    console.log(log.split('\n').filter((l) => l.includes('Mark-Compact')).slice(-3).join('\n'));
  }
} finally {
  await easel.dispose();
  await mock.stop();
  killAllStarted();
}
