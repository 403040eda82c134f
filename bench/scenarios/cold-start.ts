// 5. Cold start: process spawn to the first answered /healthz, and to the first authenticated request,
// on a first boot (empty data directory: migrations and signing keys are made) and on a restart.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Settings } from '../lib/settings.ts';
import { guestLogin, startEasel } from '../lib/servers.ts';
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

export interface ColdStartResult {
  /** `node -e ''`: what any Node process costs before Easel's own code. */
  nodeBaselineMs: number;
  firstBoot: ColdStartMode;
  restart: ColdStartMode;
}

export async function coldStartScenario(settings: Settings, log: (line: string) => void): Promise<ColdStartResult> {
  const baseline: number[] = [];
  for (let i = 0; i < settings.coldStartRuns; i++) {
    const started = performance.now();
    spawnSync(process.execPath, ['-e', '']);
    baseline.push(performance.now() - started);
  }
  const firstBoot = emptyMode();
  const restart = emptyMode();
  for (let i = 0; i < settings.coldStartRuns; i++) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-bench-cold-'));
    try {
      // First boot: no database, no keys. The first authenticated request needs a guest login first.
      let token = '';
      const first = await measured(settings, log, async () => {
        const easel = await startEasel({ name: 'cold-start', dataDir });
        const readyAt = performance.now();
        token = (await guestLogin(easel)).token;
        await authenticated(easel.url, token);
        const times = { healthzMs: easel.startupMs, authenticatedMs: easel.startupMs + performance.now() - readyAt };
        await easel.stop();
        return times;
      });
      record(firstBoot, first);
      // Restart on the same data, with a token issued before.
      const again = await measured(settings, log, async () => {
        const easel = await startEasel({ name: 'cold-start', dataDir });
        const readyAt = performance.now();
        await authenticated(easel.url, token);
        const times = { healthzMs: easel.startupMs, authenticatedMs: easel.startupMs + performance.now() - readyAt };
        await easel.stop();
        return times;
      });
      record(restart, again);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const result = { nodeBaselineMs: round(mean(baseline), 1), firstBoot: finish(firstBoot), restart: finish(restart) };
  log(`  node baseline ${result.nodeBaselineMs} ms; first boot: /healthz ${result.firstBoot.meanHealthzMs} ms, authenticated ${result.firstBoot.meanAuthenticatedMs} ms; restart: /healthz ${result.restart.meanHealthzMs} ms, authenticated ${result.restart.meanAuthenticatedMs} ms`);
  return result;
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
