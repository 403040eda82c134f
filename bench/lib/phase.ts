// A measured phase: wait for a quiet machine, run the load, and keep the CPU reading with the result.
import { cpuWindow, waitForQuiet } from './cpu.ts';
import type { Settings } from './settings.ts';

export interface PhaseConditions {
  /** Seconds spent waiting for other processes to go quiet before starting. */
  waitedS: number;
  /** Cores used by processes other than the benchmark's during the phase (0 on an idle machine). */
  otherCores: number;
  /** Cores used by the benchmark (load generator and servers) during the phase. */
  ownCores: number;
  /** Runs made; the least disturbed one is kept. */
  attempts: number;
}

export type Measured<T> = T & { conditions: PhaseConditions };

/**
 * Runs the phase once the machine is quiet; when other processes still took more than the quiet threshold
 * of CPU while it ran, runs it again (up to settings.attempts in all) and keeps the least disturbed run.
 */
export async function measured<T extends object>(settings: Settings, log: (line: string) => void, run: () => Promise<T>): Promise<Measured<T>> {
  let best: Measured<T> | undefined;
  for (let attempt = 1; attempt <= settings.attempts; attempt++) {
    const quiet = await waitForQuiet(settings.quietWaitS, settings.quietThreshold, log);
    const window = cpuWindow();
    const result = await run();
    const cpu = window.stop();
    const current = { ...result, conditions: { waitedS: quiet.waitedS, otherCores: cpu.otherCores, ownCores: cpu.ownCores, attempts: attempt } };
    if (!best || current.conditions.otherCores < best.conditions.otherCores) best = current;
    best.conditions.attempts = attempt;
    if (cpu.otherCores <= settings.quietThreshold) break;
    if (attempt < settings.attempts) log(`  (other processes took ${cpu.otherCores} cores during the run; running it again)`);
  }
  return best!;
}

/** The worst interference among phases, for a table column. */
export function worstOther(...phases: Array<{ conditions?: PhaseConditions } | undefined>): number | undefined {
  const values = phases.map((p) => p?.conditions?.otherCores).filter((v): v is number => v !== undefined);
  return values.length ? Math.max(...values) : undefined;
}
