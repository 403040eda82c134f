// 5. Cold start: process spawn to the first answered /healthz, and to the first authenticated request,
// on a first boot (empty data directory: migrations and signing keys are made) and on a restart. Easel runs
// as `npm start` runs it (the bundle, built once before any timing, as a deploy would) and, for comparison,
// from source as `npm run dev` runs it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Settings } from '../lib/settings.ts';
import { buildEasel, guestLogin, startEasel, type EaselFrom } from '../lib/servers.ts';
import { mean, round } from '../lib/stats.ts';
import { measured, type Measured } from '../lib/phase.ts';

export interface ColdStartMode {
  runs: number;
  /** Worst CPU use by other processes during a run (cores). */
  otherCores: number;
  healthzMs: number[];
  authenticatedMs: number[];
  meanHealthzMs: number;
  meanAuthenticatedMs: number;
}

export interface BootModes {
  firstBoot: ColdStartMode;
  restart: ColdStartMode;
}

/** The top-level first boot and restart are the bundle's (`node dist/easel.mjs`, as `npm start` runs it). */
export interface ColdStartResult extends BootModes {
  /** `node -e ''`: what any Node process costs before Easel's own code. */
  nodeBaselineMs: number;
  /** `npm run build`, before the timed runs (not part of the cold start). */
  buildMs?: number;
  /** `node src/main.ts`, as `npm run dev` runs it. */
  source?: BootModes;
}

export async function coldStartScenario(settings: Settings, log: (line: string) => void): Promise<ColdStartResult> {
  const baseline: number[] = [];
  for (let i = 0; i < settings.coldStartRuns; i++) {
    const started = performance.now();
    spawnSync(process.execPath, ['-e', '']);
    baseline.push(performance.now() - started);
  }
  const { buildMs } = buildEasel();
  log(buildMs === undefined ? '  no build script: this copy of Easel runs from source' : `  built the bundle in ${round(buildMs, 0)} ms`);
  const modes: Record<EaselFrom, BootModes> = {
    bundle: { firstBoot: emptyMode(), restart: emptyMode() },
    source: { firstBoot: emptyMode(), restart: emptyMode() },
  };
  // Bundle and source take turns, so that both see the same disturbances on a shared machine.
  for (let i = 0; i < settings.coldStartRuns; i++) {
    for (const from of ['bundle', 'source'] as const) await bootAndRestart(settings, log, from, modes[from]);
  }
  const result: ColdStartResult = {
    nodeBaselineMs: round(mean(baseline), 1),
    buildMs: buildMs === undefined ? undefined : round(buildMs, 0),
    firstBoot: finish(modes.bundle.firstBoot),
    restart: finish(modes.bundle.restart),
    source: { firstBoot: finish(modes.source.firstBoot), restart: finish(modes.source.restart) },
  };
  const describe = (m: BootModes) =>
    `first boot: /healthz ${m.firstBoot.meanHealthzMs} ms, authenticated ${m.firstBoot.meanAuthenticatedMs} ms; restart: /healthz ${m.restart.meanHealthzMs} ms, authenticated ${m.restart.meanAuthenticatedMs} ms`;
  log(`  node baseline ${result.nodeBaselineMs} ms\n  bundle: ${describe(result)}\n  source: ${describe(result.source!)}`);
  return result;
}

/** One first boot on an empty data directory, then one restart on it. */
async function bootAndRestart(settings: Settings, log: (line: string) => void, from: EaselFrom, mode: BootModes): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-bench-cold-'));
  // The bundle's launcher turns on Node's compile cache: empty on a first boot, as on the first start after a
  // deploy, and the restart finds what the first boot left in it. (`npm run dev` runs without one.)
  const compileCache = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-bench-compile-cache-'));
  const env: Record<string, string> = from === 'bundle' ? { NODE_COMPILE_CACHE: compileCache } : {};
  try {
    // Spawn to /healthz, then to the first authenticated request (on a first boot, a guest login comes first).
    let token = '';
    const start = (firstBoot: boolean) =>
      measured(settings, log, async () => {
        const easel = await startEasel({ name: `cold-start-${from}`, dataDir, from, env });
        const readyAt = performance.now();
        if (firstBoot) token = (await guestLogin(easel)).token;
        await authenticated(easel.url, token);
        const times = { healthzMs: easel.startupMs, authenticatedMs: easel.startupMs + performance.now() - readyAt };
        await easel.stop();
        return times;
      });
    // First boot: no database, no keys. Then a restart on the same data, with the token issued before.
    record(mode.firstBoot, await start(true));
    record(mode.restart, await start(false));
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(compileCache, { recursive: true, force: true });
  }
}

async function authenticated(url: string, token: string): Promise<void> {
  const res = await fetch(`${url}/v1/conversations?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET /v1/conversations → ${res.status}`);
}

function emptyMode(): ColdStartMode {
  return { runs: 0, otherCores: 0, healthzMs: [], authenticatedMs: [], meanHealthzMs: NaN, meanAuthenticatedMs: NaN };
}

function record(mode: ColdStartMode, run: Measured<{ healthzMs: number; authenticatedMs: number }>): void {
  mode.runs++;
  mode.otherCores = Math.max(mode.otherCores, run.conditions.otherCores);
  mode.healthzMs.push(round(run.healthzMs, 1));
  mode.authenticatedMs.push(round(run.authenticatedMs, 1));
}

function finish(mode: ColdStartMode): ColdStartMode {
  return { ...mode, meanHealthzMs: round(mean(mode.healthzMs), 1), meanAuthenticatedMs: round(mean(mode.authenticatedMs), 1) };
}
