// Child processes for the benchmarks: each server (mock upstream, Easel, Portkey) gets its own process,
// so none shares an event loop with the load generator. Output goes to a log file, not through a pipe
// the load generator would have to drain.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/server-process.ts';

/** A free loopback port (the test helpers' own). */
export { freePort };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RESULTS_DIR = path.join(ROOT, 'bench/results');
export const LOG_DIR = path.join(RESULTS_DIR, 'logs');


export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ChildServer {
  name: string;
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Milliseconds from spawn to the first answer of the readiness probe. */
  startupMs: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  /** Script path, absolute or relative to the repo root. */
  script: string;
  args?: string[];
  nodeArgs?: string[];
  env?: Record<string, string>;
  port?: number;
  /** GET this path until it answers; `any` accepts every HTTP status (servers without a health route). */
  readyPath?: string;
  readyStatus?: 'ok' | 'any';
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();
// Whatever way the benchmark ends (an error, a closed stdout), no server it started outlives it.
process.once('exit', () => killAllStarted());

/**
 * BENCH_PRIORITY=-10 (say) runs the benchmark and its servers at a higher CPU priority than everything else,
 * for a machine that other people's work keeps busy; the results record that it was used.
 */
export const BENCH_PRIORITY = process.env.BENCH_PRIORITY ? Number(process.env.BENCH_PRIORITY) : undefined;

export function raisePriority(pid: number | undefined): void {
  if (BENCH_PRIORITY === undefined || pid === undefined) return;
  try {
    os.setPriority(pid, BENCH_PRIORITY);
  } catch {
    // not allowed (not root): measure at normal priority
  }
}

let retiredTicks = 0;

/** Keeps a stopped server's CPU in the books (cpu.ts), since /proc forgets it once the process exits. */
function retireTicks(pid: number): void {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    retiredTicks += Number(fields[11]) + Number(fields[12]);
  } catch {
    // already gone
  }
}

/** CPU ticks of servers started and since stopped (read just before they were stopped). */
export function stoppedTicks(): number {
  return retiredTicks;
}

/** Process ids of the servers started and still running (for CPU accounting). */
export function startedPids(): number[] {
  return [...running].filter((c) => c.exitCode === null && c.pid !== undefined).map((c) => c.pid!);
}

/** Kills whatever is still running if the benchmark itself dies. */
export function killAllStarted(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
}

export async function startServer(options: StartOptions): Promise<ChildServer> {
  const port = options.port ?? (await freePort());
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${options.name}.log`);
  const log = fs.openSync(logFile, 'w');
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.resolve(ROOT, options.script), ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...options.env },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  running.add(child);
  raisePriority(child.pid);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => running.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const startupMs = await waitUntilAnswering(`${url}${options.readyPath ?? '/healthz'}`, {
    child,
    anyStatus: options.readyStatus === 'any',
    timeoutMs: options.timeoutMs ?? 30_000,
    started,
    describe: () => `${options.name} (log ${logFile}): ${tail(logFile)}`,
  });
  return {
    name: options.name,
    url,
    port,
    pid: child.pid!,
    child,
    logFile,
    startupMs,
    async stop() {
      if (child.exitCode !== null) return;
      retireTicks(child.pid!);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

/** Polls `url` every 2 ms (fine-grained, for cold-start timing); resolves with ms since `started`. */
export async function waitUntilAnswering(
  url: string,
  options: { child: ChildProcess; anyStatus?: boolean; timeoutMs: number; started: number; describe: () => string; headers?: Record<string, string> },
): Promise<number> {
  const deadline = options.started + options.timeoutMs;
  for (;;) {
    if (options.child.exitCode !== null) throw new Error(`exited early (${options.child.exitCode}): ${options.describe()}`);
    try {
      const res = await fetch(url, { headers: options.headers });
      await res.arrayBuffer();
      if (res.ok || options.anyStatus) return performance.now() - options.started;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      options.child.kill('SIGKILL');
      throw new Error(`did not answer ${url} in time: ${options.describe()}`);
    }
    await sleep(2);
  }
}

export interface Memory {
  rssMiB: number;
  /** Peak RSS over the process's life (VmHWM). */
  hwmMiB: number;
}

export function readMemory(pid: number): Memory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

/** Samples RSS while a load runs; VmHWM catches peaks between samples. */
export function sampleMemory(pid: number, intervalMs = 50): { stop(): Memory } {
  let peakRss = 0;
  const sample = () => {
    try {
      peakRss = Math.max(peakRss, readMemory(pid).rssMiB);
    } catch {
      // process gone
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const { hwmMiB } = readMemory(pid);
      return { rssMiB: peakRss, hwmMiB };
    },
  };
}
