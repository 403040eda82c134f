// `npm run soak`: the real server processes on loopback under a steady mixed load (logins, conversations,
// items, chat with the demo model and with a loopback upstream, demo images, signed URLs) for SOAK_SECONDS
// (default 60) at SOAK_RATE requests per second (default 25). Reports every error (there must be none) and
// each server's memory before, at peak and after. Exits 1 on any error or an unclean shutdown.
import { startServer, type Server } from './server.ts';
import { startChatUpstream } from './upstream.ts';
import { login, OPERATIONS, type Operation, type Session } from './workload.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const RATE = Number(process.env.SOAK_RATE ?? 25);
const SESSIONS_PER_SERVER = 10;
const LOGIN: Operation = { name: 'auth.guest-login', weight: 2, target: 'demo', run: async () => undefined };

interface Tally {
  count: number;
  errors: number;
  latencies: number[];
  samples: string[];
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : 0);

function weighted(operations: Operation[]): () => Operation {
  const total = operations.reduce((sum, o) => sum + o.weight, 0);
  return () => {
    let r = Math.random() * total;
    for (const operation of operations) if ((r -= operation.weight) < 0) return operation;
    return operations.at(-1)!;
  };
}

async function main(): Promise<void> {
  const upstream = await startChatUpstream();
  // One client IP makes all the logins: the per-IP guest-login limit is lifted for the run.
  const common = { RATE_LIMIT_GUEST_LOGIN: '100000/min' };
  const servers: Record<'demo' | 'upstream', Server> = {
    demo: await startServer('demo', common),
    upstream: await startServer('upstream', { ...common, LLM_PROVIDER_URL: upstream.url }),
  };
  const pools: Record<'demo' | 'upstream', Session[]> = { demo: [], upstream: [] };
  for (const target of ['demo', 'upstream'] as const) {
    for (let i = 0; i < SESSIONS_PER_SERVER; i++) pools[target].push(await login(servers[target].url));
  }
  const refreshing = new Set<Session>();
  const rssBefore = { demo: servers.demo.rssMiB(), upstream: servers.upstream.rssMiB() };
  const rssPeak = { ...rssBefore };
  /** RSS every 10 s: a leak climbs steadily, a warm-up levels off. */
  const rssTrace: Record<'demo' | 'upstream', number[]> = { demo: [rssBefore.demo], upstream: [rssBefore.upstream] };
  const heapTrace: Record<'demo' | 'upstream', number[]> = { demo: [await servers.demo.heapMiB()], upstream: [await servers.upstream.heapMiB()] };
  let ticks = 0;
  log(`soak: ${SECONDS} s at ${RATE} requests/s against two server processes (demo chat; loopback upstream chat)`);

  const next = weighted([...OPERATIONS, LOGIN]);
  const tallies = new Map<string, Tally>();
  const inFlight = new Set<Promise<void>>();
  const run = async (operation: Operation) => {
    const tally = tallies.get(operation.name) ?? { count: 0, errors: 0, latencies: [], samples: [] };
    tallies.set(operation.name, tally);
    const pool = pools[operation.target];
    const session = pool[Math.floor(Math.random() * pool.length)]!;
    // A refresh token is single-use: one refresh per session at a time.
    if (operation.name === 'auth.refresh' && refreshing.has(session)) return;
    if (operation.name === 'auth.refresh') refreshing.add(session);
    const started = performance.now();
    try {
      if (operation === LOGIN) pool[Math.floor(Math.random() * pool.length)] = await login(servers[operation.target].url);
      else await operation.run(session);
      tally.latencies.push(performance.now() - started);
    } catch (error) {
      tally.errors++;
      if (tally.samples.length < 3) tally.samples.push(error instanceof Error ? error.message : String(error));
    } finally {
      tally.count++;
      refreshing.delete(session);
    }
  };

  const sampler = setInterval(() => {
    ticks++;
    for (const target of ['demo', 'upstream'] as const) {
      const rss = servers[target].rssMiB();
      rssPeak[target] = Math.max(rssPeak[target], rss);
      if (ticks % 10 !== 0) continue;
      rssTrace[target].push(rss);
      void servers[target].heapMiB().then((heap) => heapTrace[target].push(heap), () => undefined);
    }
  }, 1000);
  const started = performance.now();
  const total = Math.round(SECONDS * RATE);
  for (let i = 0; i < total; i++) {
    // Open loop: each request leaves on schedule, whether or not the earlier ones are answered.
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const promise = run(next()).finally(() => inFlight.delete(promise));
    inFlight.add(promise);
  }
  await Promise.all(inFlight);
  clearInterval(sampler);
  const elapsed = (performance.now() - started) / 1000;
  const rssAfter = { demo: servers.demo.rssMiB(), upstream: servers.upstream.rssMiB() };
  const exitCodes = { demo: await servers.demo.stop(), upstream: await servers.upstream.stop() };
  await upstream.close();

  let requests = 0;
  let errors = 0;
  log(`\n${'operation'.padEnd(22)} ${'count'.padStart(6)} ${'errors'.padStart(6)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`);
  for (const [name, tally] of [...tallies].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = tally.latencies.sort((a, b) => a - b);
    requests += tally.count;
    errors += tally.errors;
    log(`${name.padEnd(22)} ${String(tally.count).padStart(6)} ${String(tally.errors).padStart(6)} ${percentile(sorted, 50).toFixed(1).padStart(8)} ${percentile(sorted, 99).toFixed(1).padStart(8)}`);
    for (const sample of tally.samples) log(`    ${sample}`);
  }
  log(`\n${requests} operations in ${elapsed.toFixed(1)} s (${(requests / elapsed).toFixed(1)}/s), ${errors} errors; upstream answered ${upstream.calls()} chat calls`);
  for (const target of ['demo', 'upstream'] as const) {
    log(`RSS ${target.padEnd(8)} before ${rssBefore[target]} MiB, peak ${rssPeak[target]} MiB, after ${rssAfter[target]} MiB; exit code ${exitCodes[target]}`);
    log(`    RSS every 10 s:       ${rssTrace[target].join(', ')} MiB`);
    log(`    JS heap used every 10 s: ${heapTrace[target].join(', ')} MiB`);
  }
  const clean = exitCodes.demo === 0 && exitCodes.upstream === 0;
  if (!clean) log('a server did not shut down cleanly');
  process.exit(errors === 0 && clean ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
