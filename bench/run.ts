// `npm run bench`: every benchmark on loopback, one after another; prints the tables and writes
// bench/results/latest.json (+ latest.md). BENCH_QUICK=1 for short loads, BENCH_ONLY=overhead,streaming,
// images,items,cold-start for a subset (BENCH_MERGE=1: keep the other scenarios' figures from the last
// run), BENCH_WRITE_DOC=1 to put the tables into BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { BENCH_PRIORITY, killAllStarted, raisePriority, RESULTS_DIR, ROOT } from './lib/processes.ts';
import { loadSettings } from './lib/settings.ts';
import { evaluateGoals, renderReport, type BenchResults, type Machine } from './lib/report.ts';
import { overheadScenario } from './scenarios/overhead.ts';
import { streamingScenario } from './scenarios/streaming.ts';
import { imagesScenario } from './scenarios/images.ts';
import { itemsScenario } from './scenarios/items.ts';
import { coldStartScenario } from './scenarios/cold-start.ts';

const settings = loadSettings();
const log = (line: string) => process.stderr.write(`${line}\n`);

function machine(): Machine {
  const require = createRequire(import.meta.url);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT }).toString().trim()) commit += ' + uncommitted changes';
  } catch {
    // not a git checkout
  }
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    portkey: (require('@portkey-ai/gateway/package.json') as { version: string }).version,
    commit,
    priority: BENCH_PRIORITY ?? 0,
  };
}

const SCENARIOS = [
  ['overhead', 'overhead and throughput', async (r: BenchResults) => (r.overhead = await overheadScenario(settings, log))],
  ['streaming', 'streaming first chunk', async (r: BenchResults) => (r.streaming = await streamingScenario(settings, log))],
  ['images', 'image path', async (r: BenchResults) => (r.images = await imagesScenario(settings, log))],
  ['items', 'items at scale', async (r: BenchResults) => (r.items = await itemsScenario(settings, log))],
  ['cold-start', 'cold start', async (r: BenchResults) => (r.coldStart = await coldStartScenario(settings, log))],
] as const;

const DOC_START = '<!-- bench:results:start -->';
const DOC_END = '<!-- bench:results:end -->';

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllStarted();
      process.exit(130);
    });
  }
  raisePriority(process.pid);
  const name = process.env.BENCH_RESULTS_NAME ?? 'latest';
  const fresh: BenchResults = { startedAt: new Date().toISOString(), quick: settings.quick, machine: machine(), easelDir: process.env.BENCH_EASEL_DIR };
  // BENCH_MERGE=1 with BENCH_ONLY re-runs some scenarios and keeps the others' figures from the last run.
  const results: BenchResults = process.env.BENCH_MERGE === '1' && fs.existsSync(path.join(RESULTS_DIR, `${name}.json`))
    ? { ...(JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, `${name}.json`), 'utf8')) as BenchResults), rerun: { at: fresh.startedAt, only: [...(settings.only ?? [])] } }
    : fresh;
  log(`Easel benchmarks${settings.quick ? ' (quick)' : ''}: ${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}`);
  for (const [key, title, run] of SCENARIOS) {
    if (settings.only && !settings.only.has(key)) continue;
    log(`\n== ${title}`);
    const started = performance.now();
    try {
      await run(results);
    } catch (error) {
      log(`  FAILED: ${(error as Error).stack ?? error}`);
      killAllStarted();
    }
    log(`  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  results.goals = evaluateGoals(results, settings.rates);
  results.finishedAt = new Date().toISOString();

  const report = renderReport(results, { rates: settings.rates, imageConcurrency: settings.imageConcurrency });
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  // BENCH_RESULTS_NAME keeps a side run (e.g. of a BENCH_EASEL_DIR copy) from replacing latest.*.
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.md`), report);
  if (process.env.BENCH_WRITE_DOC === '1') writeDoc(report);
  process.stdout.write(`\n${report}`);
  log(`\nwrote ${path.relative(ROOT, path.join(RESULTS_DIR, name))}.json and .md`);
}

/** Replaces the results section of BENCHMARKS.md (between the markers) with this run's tables. */
function writeDoc(report: string): void {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const doc = fs.readFileSync(file, 'utf8');
  const start = doc.indexOf(DOC_START);
  const end = doc.indexOf(DOC_END);
  if (start < 0 || end < start) throw new Error(`BENCHMARKS.md has no ${DOC_START} … ${DOC_END} section`);
  fs.writeFileSync(file, `${doc.slice(0, start + DOC_START.length)}\n${report}${doc.slice(end)}`);
}

main().catch((error: unknown) => {
  killAllStarted();
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
