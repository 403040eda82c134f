// Counts hits per key in a fixed window that opens with the key's first hit (rate limits).

export interface WindowHit {
  /** Hits in the current window, this one included. */
  count: number;
  /** Milliseconds until the window closes and the count starts again. */
  resetInMs: number;
}

export interface WindowCounter {
  readonly kind: 'memory' | 'redis';
  /** Records one hit for key; throws when the backing store is unreachable. */
  hit(key: string, windowMs: number): Promise<WindowHit>;
}
