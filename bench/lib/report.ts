// Turns the raw results into the tables and the goal checks printed by `npm run bench` and kept in
// BENCHMARKS.md. Added latency = the path's latency minus the direct path's, same rate, same run.
import type { OverheadResult, TargetName } from '../scenarios/overhead.ts';
import { addedLatency } from '../scenarios/overhead.ts';
import type { StreamingResult } from '../scenarios/streaming.ts';
import { addedFirstChunk } from '../scenarios/streaming.ts';
import type { ImagesResult } from '../scenarios/images.ts';
import { addedImageLatency } from '../scenarios/images.ts';
import type { ItemsResult } from '../scenarios/items.ts';
import type { ColdStartMode, ColdStartResult } from '../scenarios/cold-start.ts';
import { formatNumber, ms, signedMs, table, times, type Cell } from './table.ts';
import { worstOther } from './phase.ts';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  portkey: string;
  commit: string;
  /** Nice value of the benchmark's processes (BENCH_PRIORITY); 0 = normal. */
  priority: number;
}

export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  quick: boolean;
  machine: Machine;
  /** Set when another copy of Easel was measured (BENCH_EASEL_DIR). */
  easelDir?: string;
  /** Set when some scenarios were run again into an earlier run's results (BENCH_MERGE). */
  rerun?: { at: string; only: string[] };
  overhead?: OverheadResult;
  streaming?: StreamingResult;
  images?: ImagesResult;
  items?: ItemsResult;
  coldStart?: ColdStartResult;
  goals?: Goal[];
}

export interface Goal {
  goal: string;
  target: string;
  measured: string;
  met: boolean | null;
}

const PATH_LABEL: Record<TargetName, string> = {
  direct: 'direct to mock',
  'bare-proxy': 'bare node:http proxy (reference)',
  'easel-proxy': 'Easel proxy path',
  'easel-full': 'Easel full path',
  portkey: 'Portkey 1.15.2',
};

const pair = (added: { p50: number; p99: number } | undefined) => (added ? `${signedMs(added.p50)} / ${signedMs(added.p99)}` : '—');
const cores = (value: number | undefined) => (value === undefined ? '—' : value.toFixed(2));
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);

export function overheadTable(result: OverheadResult, rates: number[]): string {
  const names = Object.keys(PATH_LABEL) as TargetName[];
  const direct = result.targets.direct?.max?.rps;
  const portkey = result.targets.portkey?.max?.rps;
  const headers = ['path', ...rates.flatMap((r) => [`p50 / p99 @${r}/s`, `added p50 / p99 @${r}/s`]), 'max req/s', '÷ direct', '÷ Portkey', 'server CPU/req', 'other CPU'];
  const rows: Cell[][] = names.map((name) => {
    const target = result.targets[name];
    if (!target) return [PATH_LABEL[name], ...rates.flatMap(() => ['skipped', '']), '—', '—', '—', '—', '—'];
    const rps = target.max?.rps;
    return [
      PATH_LABEL[name],
      ...rates.flatMap((rate) => {
        const run = target.paced[rate];
        return [run ? `${ms(run.latency.p50)} / ${ms(run.latency.p99)}` : '—', name === 'direct' ? '' : pair(addedLatency(result, name, rate))];
      }),
      rps,
      times(ratio(rps, direct)),
      times(ratio(rps, portkey)),
      target.max ? `${formatNumber(target.max.serverCpuUsPerRequest)} µs` : '—',
      cores(worstOther(...Object.values(target.paced), target.max)),
    ];
  });
  return table(headers, rows);
}

export function streamingTable(result: StreamingResult): string {
  // The bare proxy buffers whole answers, so it has no place in a streaming comparison.
  const names = (Object.keys(PATH_LABEL) as TargetName[]).filter((name) => name !== 'bare-proxy');
  const rows: Cell[][] = names.map((name) => {
    const run = result.targets[name];
    if (!run?.firstChunk) return [PATH_LABEL[name], 'skipped', '', '', '', ''];
    return [PATH_LABEL[name], `${ms(run.firstChunk.p50)} / ${ms(run.firstChunk.p99)}`, name === 'direct' ? '' : pair(addedFirstChunk(result, name)), ms(run.latency.p50), run.failed, cores(worstOther(run))];
  });
  return table(['path', 'first chunk p50 / p99', 'added p50 / p99', 'whole stream p50', 'failed', 'other CPU'], rows);
}

export function imagesTable(result: ImagesResult, concurrency: number): string {
  const labels = {
    direct: 'direct to mock',
    'bare-proxy': 'bare node:http proxy (reference, pass-through)',
    easel: 'Easel (decode, store, sign URL)',
    portkey: 'Portkey 1.15.2 (pass-through)',
  } as const;
  const portkey = result.targets.portkey?.concurrent.throughput;
  const rows: Cell[][] = (Object.keys(labels) as Array<keyof typeof labels>).map((name) => {
    const t = result.targets[name];
    if (!t) return [labels[name], 'skipped', '', '', '', '', '', '', ''];
    return [
      labels[name],
      `${ms(t.sequential.latency.p50)} / ${ms(t.sequential.latency.p99)}`,
      name === 'direct' ? '' : pair(addedImageLatency(result, name)),
      t.concurrent.throughput,
      `${ms(t.concurrent.latency.p50)} / ${ms(t.concurrent.latency.p99)}`,
      `${t.memory.peakMiB} MiB`,
      name === 'direct' ? '' : times(ratio(t.concurrent.throughput, portkey)),
      ms(t.serverCpuMsPerImage),
      cores(worstOther(t.sequential, t.concurrent)),
    ];
  });
  return table(['path', '1 at a time p50 / p99', 'added p50 / p99', `req/s, ${concurrency} at once`, `p50 / p99, ${concurrency} at once`, 'peak RSS', '÷ Portkey', 'server CPU/image', 'other CPU'], rows);
}

export function itemsTable(result: ItemsResult): string {
  const rows: Cell[][] = [];
  for (const [kind, runs] of Object.entries(result.databases)) {
    for (const run of runs ?? []) {
      rows.push([
        kind,
        run.size.toLocaleString('en-US'),
        `${ms(run.firstPage.latency.p50)} / ${ms(run.firstPage.latency.p99)}`,
        `${ms(run.deepCursor.latency.p50)} / ${ms(run.deepCursor.latency.p99)}`,
        run.firstPage.failed + run.deepCursor.failed,
        cores(worstOther(run.firstPage, run.deepCursor)),
      ]);
    }
  }
  for (const [kind, why] of Object.entries(result.skipped)) rows.push([kind, 'skipped', why ?? '', '', '', '']);
  return table(['database', 'items', 'first page p50 / p99', `after a cursor 90% deep p50 / p99`, 'failed', 'other CPU'], rows);
}

export function coldStartTable(result: ColdStartResult): string {
  const row = (start: string, mode: ColdStartMode) => [start, ms(mode.meanHealthzMs), ms(mode.meanAuthenticatedMs), mode.runs, cores(mode.otherCores)];
  // Results from before the bundle have no buildMs: their top-level figures are from source.
  const how = result.buildMs === undefined ? '' : ', `npm start` (bundle)';
  const rows = [
    row(`first boot (empty DATA_DIR)${how}`, result.firstBoot),
    row(`restart (existing DATA_DIR)${how}`, result.restart),
  ];
  if (result.source) {
    rows.push(row('first boot, `node src/main.ts` (`npm run dev`)', result.source.firstBoot), row('restart, `node src/main.ts`', result.source.restart));
  }
  rows.push(['`node -e ""` (Node itself)', ms(result.nodeBaselineMs), '', '', '']);
  return table(['start', 'to /healthz (mean)', 'to first authenticated request (mean)', 'runs', 'other CPU'], rows);
}

export function evaluateGoals(results: BenchResults, rates: number[]): Goal[] {
  const goals: Goal[] = [];
  const add = (goal: string, target: string, measured: string, met: boolean | null) => goals.push({ goal, target, measured, met });
  const top = Math.max(...rates);
  const o = results.overhead;
  if (o) {
    const proxy = o.targets['easel-proxy']?.max?.rps;
    const vsPortkey = ratio(proxy, o.targets.portkey?.max?.rps);
    const vsDirect = ratio(proxy, o.targets.direct?.max?.rps);
    // What the bare node:http proxy reached in the same run: the most a gateway on node:http could show here.
    const bare = o.targets['bare-proxy']?.max?.rps;
    const floor = (r: number | undefined) => (r === undefined ? '' : ` (bare proxy: ${times(r)})`);
    add('proxy path throughput vs Portkey', '≥ 5×', times(vsPortkey) + floor(ratio(bare, o.targets.portkey?.max?.rps)), vsPortkey === undefined ? null : vsPortkey >= 5);
    add('proxy path throughput vs direct', '≥ 0.5×', times(vsDirect) + floor(ratio(bare, o.targets.direct?.max?.rps)), vsDirect === undefined ? null : vsDirect >= 0.5);
    const proxyAdded = addedLatency(o, 'easel-proxy', top);
    add(`proxy path added p50 @${top}/s`, '≤ 0.5 ms', signedMs(proxyAdded?.p50), proxyAdded ? proxyAdded.p50 <= 0.5 : null);
    add(`proxy path added p99 @${top}/s`, '≤ 3 ms', signedMs(proxyAdded?.p99), proxyAdded ? proxyAdded.p99 <= 3 : null);
    const fullAdded = addedLatency(o, 'easel-full', top);
    add(`full path added p50 @${top}/s`, '≤ 1.5 ms', signedMs(fullAdded?.p50), fullAdded ? fullAdded.p50 <= 1.5 : null);
    add(`full path added p99 @${top}/s`, '≤ 5 ms', signedMs(fullAdded?.p99), fullAdded ? fullAdded.p99 <= 5 : null);
  }
  const s = results.streaming;
  if (s) {
    const added = addedFirstChunk(s, 'easel-proxy');
    add('streaming first chunk added (proxy path, p50)', '≤ 1 ms', signedMs(added?.p50), added ? added.p50 <= 1 : null);
  }
  const im = results.images;
  if (im) {
    const easel = im.targets.easel;
    const vsPortkey = ratio(easel?.concurrent.throughput, im.targets.portkey?.concurrent.throughput);
    const bareVsPortkey = ratio(im.targets['bare-proxy']?.concurrent.throughput, im.targets.portkey?.concurrent.throughput);
    const floor = bareVsPortkey === undefined ? '' : ` (bare pass-through proxy: ${times(bareVsPortkey)})`;
    add('image path throughput vs Portkey pass-through', '≥ 10×', times(vsPortkey) + floor, vsPortkey === undefined ? null : vsPortkey >= 10);
    const added = addedImageLatency(im, 'easel');
    add('image path added p50 (1 at a time)', '≤ 15 ms', signedMs(added?.p50), added ? added.p50 <= 15 : null);
    const peakMB = easel ? (easel.memory.peakMiB * 1024 * 1024) / 1e6 : undefined;
    add(`image path peak RSS, ${easel?.concurrent.concurrency ?? 20} at once`, '≤ 250 MB', peakMB === undefined ? '—' : `${Math.round(peakMB)} MB (${easel!.memory.peakMiB} MiB)`, peakMB === undefined ? null : peakMB <= 250);
  }
  const it = results.items;
  if (it) {
    for (const [kind, runs] of Object.entries(it.databases)) {
      const small = runs?.[0];
      const large = runs?.at(-1);
      if (!small || !large) continue;
      const worstP99 = Math.max(large.firstPage.latency.p99, large.deepCursor.latency.p99);
      add(`items list p99 at ${large.size.toLocaleString('en-US')} (${kind})`, '≤ 10 ms', ms(worstP99), worstP99 <= 10);
      // Flat: the largest conversation's p50 within 1 ms or 1.5× of the smallest's, for both queries.
      const flat = (a: number, b: number) => b <= Math.max(a + 1, a * 1.5);
      const isFlat = flat(small.firstPage.latency.p50, large.firstPage.latency.p50) && flat(small.deepCursor.latency.p50, large.deepCursor.latency.p50);
      add(
        `items list flat in size (${kind})`,
        'p50 at 100k ≤ max(p50 at 1k + 1 ms, 1.5×)',
        `first ${ms(small.firstPage.latency.p50)} → ${ms(large.firstPage.latency.p50)}, cursor ${ms(small.deepCursor.latency.p50)} → ${ms(large.deepCursor.latency.p50)}`,
        isFlat,
      );
    }
  }
  const c = results.coldStart;
  if (c) {
    const worst = Math.max(c.firstBoot.meanAuthenticatedMs, c.restart.meanAuthenticatedMs);
    add('cold start to first authenticated request (worse of first boot, restart)', '≤ 1 s', ms(worst), worst <= 1000);
  }
  return goals;
}

export function goalsTable(goals: Goal[]): string {
  return table(['goal', 'target', 'measured', 'met'], goals.map((g) => [g.goal, g.target, g.measured, g.met === null ? 'not measured' : g.met ? 'yes' : '**no**']));
}

export function renderReport(results: BenchResults, options: { rates: number[]; imageConcurrency: number }): string {
  const m = results.machine;
  const parts = [
    `Run ${results.startedAt}${results.quick ? ' (BENCH_QUICK: short loads, indicative only)' : ''} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, Portkey ${m.portkey}, commit ${m.commit}${m.priority ? `, benchmark processes at nice ${m.priority} (BENCH_PRIORITY)` : ''}${results.easelDir ? `; Easel from ${results.easelDir} (BENCH_EASEL_DIR)` : ''}.${results.rerun ? ` Re-run at ${results.rerun.at}: ${results.rerun.only.join(', ')}.` : ''}`,
  ];
  if (results.overhead) parts.push('### 1. Overhead and throughput (chat completions, non-stream)', overheadTable(results.overhead, options.rates));
  if (results.streaming) {
    parts.push(`### 2. Streaming: time to first chunk (${results.streaming.chunks} chunks ${results.streaming.gapMs} ms apart, ${results.streaming.rate} streams/s)`, streamingTable(results.streaming));
  }
  if (results.images) parts.push(`### 3. Image path (upstream: 1024x1024 PNG, ${(results.images.png.base64Bytes / 1e6).toFixed(2)} MB base64)`, imagesTable(results.images, options.imageConcurrency));
  if (results.items) parts.push(`### 4. Items at scale (GET …/items?limit=20, ${results.items.rate} req/s)`, itemsTable(results.items));
  if (results.coldStart) parts.push('### 5. Cold start', coldStartTable(results.coldStart));
  if (results.goals) parts.push('### Goals', goalsTable(results.goals));
  return parts.join('\n\n') + '\n';
}
