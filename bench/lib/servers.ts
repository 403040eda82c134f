// Starting the three kinds of server the benchmarks compare, and the few API calls that set Easel up.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, ROOT, startServer, type ChildServer } from './processes.ts';

/** Limits high enough never to refuse a benchmark request. */
const NO_RATE_LIMITS = {
  RATE_LIMIT_CHAT: '100000000/min',
  RATE_LIMIT_IMAGES: '100000000/min',
  RATE_LIMIT_GUEST_LOGIN: '100000000/min',
};

export async function startMock(name: string, env: Record<string, string> = {}): Promise<ChildServer> {
  return startServer({ name, script: 'bench/lib/mock-upstream.ts', env, readyPath: '/v1/models' });
}

export interface EaselOptions {
  name: string;
  upstream?: ChildServer;
  dataDir?: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
  /** How Easel runs: `bundle` (default) as `npm start` does, or `source` as `npm run dev` does. */
  from?: EaselFrom;
}

export type EaselFrom = 'bundle' | 'source';

// BENCH_EASEL_DIR runs another copy of Easel (e.g. one with a proposed fix) against the same harness.
const EASEL_DIR = path.resolve(ROOT, process.env.BENCH_EASEL_DIR ?? '.');
const EASEL_SOURCE = path.join(EASEL_DIR, 'src/main.ts');
const EASEL_BUILD = path.join(EASEL_DIR, 'scripts/build.ts');

let built: { script: string; buildMs?: number } | undefined;

/** The Node flags `npm start` gives the bundle (package.json's start script), so the benchmark runs it alike. */
export function startFlags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(EASEL_DIR, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  return (pkg.scripts?.start ?? '').split(/\s+/).filter((word) => word.startsWith('--'));
}

/**
 * Builds Easel's bundle (scripts/build.ts, as `npm start` does before starting), once per benchmark run and
 * before any timing, as a deploy would. A copy of Easel from before the bundle existed runs from source.
 */
export function buildEasel(): { script: string; buildMs?: number } {
  if (!built) {
    const started = performance.now();
    if (!fs.existsSync(EASEL_BUILD)) built = { script: EASEL_SOURCE };
    else {
      execFileSync(process.execPath, [EASEL_BUILD], { cwd: EASEL_DIR, stdio: ['ignore', 'ignore', 'pipe'] });
      built = { script: path.join(EASEL_DIR, 'dist/easel.mjs'), buildMs: performance.now() - started };
    }
  }
  return built;
}

export interface EaselServer extends ChildServer {
  dataDir: string;
  /** Stops the process and removes a data directory it created. */
  dispose(): Promise<void>;
}

export async function startEasel(options: EaselOptions): Promise<EaselServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'easel-bench-'));
  const upstream: Record<string, string> = options.upstream ? { LLM_PROVIDER_URL: `${options.upstream.url}/v1`, IMAGE_PROVIDER_URL: `${options.upstream.url}/v1` } : {};
  const server = await startServer({
    name: options.name,
    script: options.from === 'source' ? EASEL_SOURCE : buildEasel().script,
    nodeArgs: [...(options.from === 'source' ? [] : startFlags()), ...(options.nodeArgs ?? [])],
    env: { DATA_DIR: dataDir, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', ...NO_RATE_LIMITS, ...upstream, ...options.env },
  });
  return {
    ...server,
    dataDir,
    async dispose() {
      await server.stop();
      if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The reference proxy of bench/lib/bare-proxy.ts in front of `upstream`. */
export async function startBareProxy(name: string, upstream: ChildServer): Promise<ChildServer> {
  return startServer({ name, script: 'bench/lib/bare-proxy.ts', env: { UPSTREAM: upstream.url }, readyPath: '/v1/models' });
}

/** Portkey's gateway, routed per request by headers (see portkeyHeaders). */
export async function startPortkey(name: string): Promise<ChildServer> {
  const port = await freePort();
  return startServer({
    name,
    script: 'bench/lib/portkey-loopback.ts',
    // Portkey reads its port from argv only.
    args: ['--headless', `--port=${port}`],
    port,
    readyPath: '/',
    readyStatus: 'any',
  }).catch((error) => {
    throw new Error(`Portkey did not start: ${(error as Error).message}`);
  });
}

export function portkeyHeaders(upstream: ChildServer): Record<string, string> {
  return {
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': `${upstream.url}/v1`,
    authorization: 'Bearer sk-bench',
  };
}

async function api<T>(url: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url} → ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

export async function guestLogin(easel: { url: string }): Promise<{ token: string; userId: string }> {
  const body = await api<{ access_token: string; user_id: string }>(`${easel.url}/auth/guest-login`, { body: {} });
  return { token: body.access_token, userId: body.user_id };
}

export function priorMessages(count: number): Array<{ role: 'user' | 'assistant'; content: string }> {
  return Array.from({ length: count }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: i % 2 === 0 ? `Question ${i}: what is a good name for a cat?` : `Answer ${i}: Whiskers is a classic name for a cat.`,
  }));
}

export async function createConversation(easel: { url: string }, token: string, items: unknown[] = []): Promise<string> {
  const body = await api<{ id: string }>(`${easel.url}/v1/conversations`, { token, body: { items } });
  return body.id;
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function inBatches<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}
