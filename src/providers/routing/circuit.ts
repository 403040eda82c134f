// Passive health of one provider: `failureThreshold` failures in a row open the circuit, which keeps
// traffic away for `cooldownMs`; then it is half-open and lets one trial request through. The trial's
// success closes it; its failure opens it for another cool-down.
import type { CircuitSettings } from '../config-file.ts';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitView {
  state: CircuitState;
  consecutive_failures: number;
  /** When an open circuit lets a trial through (Unix seconds); null otherwise. */
  retry_at: number | null;
}

export class Circuit {
  private readonly settings: CircuitSettings;
  private readonly now: () => number;
  private failures = 0;
  private openUntil: number | undefined;
  private trialOut = false;

  constructor(settings: CircuitSettings, now: () => number = Date.now) {
    this.settings = settings;
    this.now = now;
  }

  get state(): CircuitState {
    if (this.openUntil === undefined) return 'closed';
    return this.now() < this.openUntil ? 'open' : 'half_open';
  }

  /** Whether a request may go now. Asking takes nothing; enter() does. */
  get available(): boolean {
    const state = this.state;
    return state === 'closed' || (state === 'half_open' && !this.trialOut);
  }

  /** A request goes to the provider; true when it is the half-open circuit's one trial. */
  enter(): boolean {
    if (this.state !== 'half_open' || this.trialOut) return false;
    this.trialOut = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.openUntil = undefined;
    this.trialOut = false;
  }

  /** The trial ended with no verdict (the caller left): the next request may be the trial. */
  abandonTrial(): void {
    this.trialOut = false;
  }

  failure(): void {
    this.failures++;
    const trialFailed = this.state === 'half_open';
    if (trialFailed || this.failures >= this.settings.failureThreshold) {
      this.openUntil = this.now() + this.settings.cooldownMs;
      this.trialOut = false;
    }
  }

  view(): CircuitView {
    const state = this.state;
    return { state, consecutive_failures: this.failures, retry_at: state === 'open' ? Math.ceil(this.openUntil! / 1000) : null };
  }
}
