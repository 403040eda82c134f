// Sums self time in a V8 .cpuprofile (from `node --cpu-prof`) by function, file or package, to see where a
// process spends its CPU. Usage: node bench/profile-summary.ts FILE.cpuprofile [function|file|package] [top=30]
// or FILE.cpuprofile callers=REGEX [depth=6]: the call paths leading to matching functions.
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export type Grouping = 'function' | 'file' | 'package';

export function selfTimes(profile: Profile, by: Grouping): Array<{ key: string; ms: number; share: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node) return;
    const key = keyOf(node, by);
    totals.set(key, (totals.get(key) ?? 0) + delta);
    all += delta;
  });
  return [...totals.entries()]
    .map(([key, ms]) => ({ key, ms, share: ms / all }))
    .sort((a, b) => b.ms - a.ms);
}

function keyOf(node: ProfileNode, by: Grouping): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*?\/work\/main\//, '');
  if (by === 'function') return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
  if (by === 'file') return file || functionName;
  if (!file) return functionName; // (garbage collector), (program), (idle), native
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
  if (pkg) return pkg;
  if (file.startsWith('node:')) return 'node: (core)';
  return file.split('/').slice(0, 2).join('/');
}

/** Where time spent in functions matching `pattern` comes from: self time summed by call path (innermost first). */
export function callers(profile: Profile, pattern: RegExp, depth = 6): Array<{ key: string; ms: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node || !pattern.test(keyOf(node, 'function'))) return;
    const path: string[] = [];
    for (let at: number | undefined = id; at !== undefined && path.length < depth; at = parent.get(at)) path.push(keyOf(byId.get(at)!, 'function'));
    const key = path.join('\n      ← ');
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals.entries()].map(([key, ms]) => ({ key, ms })).sort((a, b) => b.ms - a.ms);
}

if (import.meta.main) {
  const [file, by = 'function', top = '30'] = process.argv.slice(2);
  if (file && by.startsWith('callers=')) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
    for (const row of callers(profile, new RegExp(by.slice('callers='.length)), Number(top) || 6).slice(0, 8)) {
      process.stdout.write(`${row.ms.toFixed(1).padStart(9)} ms  ${row.key}\n`);
    }
    process.exit(0);
  }
  if (!file) {
    process.stderr.write('usage: node bench/profile-summary.ts FILE.cpuprofile [function|file|package] [top]\n');
    process.exit(2);
  }
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const rows = selfTimes(profile, by as Grouping);
  const total = (profile.endTime - profile.startTime) / 1000;
  process.stdout.write(`${file}: ${total.toFixed(0)} ms profiled, self time by ${by}\n`);
  for (const row of rows.slice(0, Number(top))) {
    process.stdout.write(`${row.ms.toFixed(1).padStart(9)} ms ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.key}\n`);
  }
}
