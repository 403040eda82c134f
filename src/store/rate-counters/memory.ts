// In-process counters: exact for one instance; each instance counts on its own.
import type { WindowCounter, WindowHit } from './window-counter.ts';

interface Window {
  count: number;
  resetAt: number;
}

const SWEEP_INTERVAL_MS = 60_000;

export class MemoryWindowCounter implements WindowCounter {
  readonly kind = 'memory' as const;
  private readonly windows = new Map<string, Window>();
  private nextSweepAt = 0;
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  async hit(key: string, windowMs: number): Promise<WindowHit> {
    const now = this.now();
    if (now >= this.nextSweepAt) this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return { count: window.count, resetInMs: window.resetAt - now };
  }

  /** Drops closed windows now and then, so one-off clients (IPs) do not pile up. */
  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    this.nextSweepAt = now + SWEEP_INTERVAL_MS;
  }
}
