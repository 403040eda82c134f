// The provider timeout as a deadline that each attempt re-arms: a retry's wait (see retry.ts) does not eat
// into the time the next attempt gets, and the answer's body is read under the attempt that got it.
export class Deadline {
  private readonly ms: number;
  private readonly timeout = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** Aborts when the deadline passes (reason: a TimeoutError) or when `cancel` aborts. */
  readonly signal: AbortSignal;

  constructor(ms: number, cancel?: AbortSignal) {
    this.ms = ms;
    this.signal = cancel ? AbortSignal.any([this.timeout.signal, cancel]) : this.timeout.signal;
  }

  /** Starts (or restarts) the clock. */
  arm(): void {
    this.disarm();
    this.timer = setTimeout(() => this.timeout.abort(new DOMException(`No answer within ${this.ms} ms`, 'TimeoutError')), this.ms);
    this.timer.unref();
  }

  /** Stops the clock: between attempts, and when the exchange is over. */
  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  get timedOut(): boolean {
    return this.timeout.signal.aborted;
  }
}
