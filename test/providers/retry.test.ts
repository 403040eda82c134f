// The shared retry policy: which failures are retried (refused connections, 429/503), how long it waits
// (backoff, Retry-After up to a cap, a total budget), and that everything else is final.
import { describe, expect, it } from 'vitest';
import { isConnectionRefused, retryAfterMs, retryDelay, upstreamVerdict, withRetry, type RetryPolicy } from '../../src/providers/retry.ts';

const errno = (code: string) => Object.assign(new Error(code), { code });
const policy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy & { waits: number[] } => {
  const waits: number[] = [];
  return { retries: 2, budgetMs: 2000, baseDelayMs: 200, maxRetryAfterMs: 2000, sleep: async (ms) => void waits.push(ms), waits, ...overrides };
};
const judge = upstreamVerdict((r: { status: number; retryAfter?: string }) => ({ status: r.status, retryAfter: r.retryAfter }));

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates, and ignores the unreadable', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('1', now)).toBe(1000);
    expect(retryAfterMs(' 2.5 ', now)).toBe(2500);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    for (const junk of [undefined, null, '', 'soon', '-1']) expect(retryAfterMs(junk, now)).toBeUndefined();
  });
});

describe('isConnectionRefused', () => {
  it('finds ECONNREFUSED however the client wrapped it', () => {
    expect(isConnectionRefused(errno('ECONNREFUSED'))).toBe(true);
    expect(isConnectionRefused(new TypeError('fetch failed', { cause: errno('ECONNREFUSED') }))).toBe(true);
    expect(isConnectionRefused(Object.assign(new AggregateError([errno('ECONNREFUSED'), errno('ECONNREFUSED')]), { code: undefined }))).toBe(true);
  });

  it('is false for failures that may come after the upstream started', () => {
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET']) expect(isConnectionRefused(errno(code)), code).toBe(false);
    expect(isConnectionRefused(new AggregateError([errno('ECONNREFUSED'), errno('ETIMEDOUT')]))).toBe(false);
    expect(isConnectionRefused(new DOMException('timed out', 'TimeoutError'))).toBe(false);
    expect(isConnectionRefused(null)).toBe(false);
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(isConnectionRefused(loop)).toBe(false);
  });
});

describe('retryDelay', () => {
  it('backs off exponentially with jitter, at most `retries` times', () => {
    const p = policy();
    expect(retryDelay(p, 0, 0, undefined, 0)).toBe(100);
    expect(retryDelay(p, 0, 0, undefined, 1)).toBe(200);
    expect(retryDelay(p, 1, 0, undefined, 1)).toBe(400);
    expect(retryDelay(p, 2, 0, undefined, 0)).toBeUndefined();
  });

  it('waits at least what Retry-After asks, gives up when it asks more than the cap or the budget allows', () => {
    const p = policy();
    expect(retryDelay(p, 0, 0, 1500, 0)).toBe(1500);
    expect(retryDelay(p, 0, 0, 2001, 0)).toBeUndefined();
    expect(retryDelay(p, 1, 900, 1500, 0)).toBeUndefined();
    expect(retryDelay(p, 1, 1900, undefined, 0)).toBeUndefined();
  });
});

describe('withRetry', () => {
  it('retries a refused connection and returns the answer that follows', async () => {
    const p = policy();
    let attempts = 0;
    const result = await withRetry(async () => {
      if (++attempts === 1) throw errno('ECONNREFUSED');
      return { status: 200 };
    }, judge, { policy: p });
    expect(result).toEqual({ status: 200 });
    expect(attempts).toBe(2);
    expect(p.waits).toHaveLength(1);
  });

  it('never retries a reset, a timeout or a 500: the first failure is final', async () => {
    for (const failure of [errno('ECONNRESET'), new DOMException('timed out', 'TimeoutError')]) {
      let attempts = 0;
      await expect(withRetry(async () => { attempts++; throw failure; }, judge, { policy: policy() })).rejects.toBe(failure);
      expect(attempts).toBe(1);
    }
    for (const status of [500, 502, 504, 400, 401]) {
      let attempts = 0;
      expect(await withRetry(async () => ({ status, n: ++attempts }), judge, { policy: policy() })).toEqual({ status, n: 1 });
    }
  });

  it('retries 429 and 503 twice, freeing each refused answer, then hands back the last', async () => {
    const p = policy();
    const discarded: number[] = [];
    let attempts = 0;
    const result = await withRetry(async () => ({ status: 503, n: ++attempts }), judge, { policy: p, discard: (r) => discarded.push(r.n) });
    expect(result).toEqual({ status: 503, n: 3 });
    expect(discarded).toEqual([1, 2]);
    expect(p.waits).toHaveLength(2);
  });

  it('honours Retry-After, and does not wait for one beyond the cap', async () => {
    const p = policy();
    let attempts = 0;
    await withRetry(async () => ({ status: ++attempts === 1 ? 429 : 200, retryAfter: '1' }), judge, { policy: p });
    expect(p.waits).toEqual([1000]);
    const capped = policy();
    const res = await withRetry(async () => ({ status: 429, retryAfter: '30' }), judge, { policy: capped });
    expect(res.status).toBe(429);
    expect(capped.waits).toEqual([]);
  });

  it('stops when the caller has gone (aborted signal)', async () => {
    const controller = new AbortController();
    controller.abort();
    let attempts = 0;
    await expect(withRetry(async () => { attempts++; throw errno('ECONNREFUSED'); }, judge, { policy: policy(), signal: controller.signal })).rejects.toThrow('ECONNREFUSED');
    expect(attempts).toBe(1);
  });

  it('the real wait ends early when the signal aborts', async () => {
    const controller = new AbortController();
    const p: RetryPolicy = { retries: 2, budgetMs: 60_000, baseDelayMs: 20_000, maxRetryAfterMs: 60_000 };
    const pending = withRetry(async () => { throw errno('ECONNREFUSED'); }, judge, { policy: p, signal: controller.signal });
    // By now the refused attempt is over and the 10-20 s wait has begun.
    setTimeout(() => controller.abort(new Error('client left')), 50);
    await expect(pending).rejects.toThrow('client left');
  });
});
