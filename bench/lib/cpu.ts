// Other people's work on the same machine (test suites, builds) skews a benchmark on 2 cores. Before each
// measured phase we wait for the machine to go quiet, and during it we record how much CPU went to
// processes that are not ours, so every figure carries its own interference reading.
import fs from 'node:fs';
import { startedPids, sleep, stoppedTicks } from './processes.ts';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function machineBusyTicks(): number {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …: busy is everything but idle and iowait.
  return fields.reduce((a, b) => a + b, 0) - fields[3]! - (fields[4] ?? 0);
}

/** CPU time (user + system) a process has used so far, in ticks of 10 ms. */
export function processTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

export interface CpuWindow {
  /** Cores' worth of CPU used by every process on the machine that is not the benchmark or its children. */
  otherCores: number;
  /** Cores' worth used by the benchmark and its children. */
  ownCores: number;
}

/** Starts measuring; stop() gives the CPU split since. */
export function cpuWindow(): { stop(): CpuWindow } {
  const pids = () => [process.pid, ...startedPids()];
  const startedAt = performance.now();
  const machineStart = machineBusyTicks();
  const ownStart = new Map(pids().map((pid) => [pid, processTicks(pid)]));
  const stoppedStart = stoppedTicks();
  return {
    stop() {
      const seconds = (performance.now() - startedAt) / 1000;
      const machine = machineBusyTicks() - machineStart;
      // Servers stopped meanwhile: what they used before the window is in ownStart, so only the rest counts.
      let own = stoppedTicks() - stoppedStart;
      for (const pid of pids()) own += processTicks(pid) - (ownStart.get(pid) ?? 0);
      for (const [pid, ticks] of ownStart) if (!pids().includes(pid)) own -= ticks;
      const cores = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
      return { otherCores: Math.max(0, cores(machine - own)), ownCores: cores(own) };
    },
  };
}

export interface QuietWait {
  waitedS: number;
  /** Other processes' CPU (cores) in the last second before the phase started. */
  otherCores: number;
}

/**
 * Waits (up to `maxWaitS`) until processes other than ours use less than `threshold` cores over a second.
 * Our own servers sit idle between phases, so this reads the rest of the machine.
 */
export async function waitForQuiet(maxWaitS: number, threshold = 0.25, log?: (line: string) => void): Promise<QuietWait> {
  const started = performance.now();
  let warned = false;
  for (;;) {
    const window = cpuWindow();
    await sleep(1000);
    const { otherCores } = window.stop();
    const waitedS = Math.round((performance.now() - started) / 100) / 10;
    if (otherCores < threshold || waitedS >= maxWaitS) {
      if (otherCores >= threshold) log?.(`  (machine still busy after ${waitedS} s: ${otherCores} cores used by other processes; measuring anyway)`);
      return { waitedS, otherCores };
    }
    if (!warned) {
      log?.(`  (waiting for the machine to go quiet: ${otherCores} cores used by other processes)`);
      warned = true;
    }
  }
}

/** CPU a process uses while `run` runs, in ms. */
export async function cpuOf<T>(pid: number, run: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  const before = processTicks(pid);
  const result = await run();
  return { result, cpuMs: ((processTicks(pid) - before) * 1000) / TICKS_PER_SECOND };
}
