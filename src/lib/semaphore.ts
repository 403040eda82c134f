// At most `limit` holders at once; the rest wait in arrival order.
export class Semaphore {
  private readonly limit: number;
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Runs `work` once a slot is free, and frees the slot when it settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.held < this.limit) this.held++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so `held` stays counted.
      const next = this.waiting.shift();
      if (next) next();
      else this.held--;
    }
  }
}
