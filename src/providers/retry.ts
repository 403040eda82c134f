// When an upstream call may be tried again. Only when the provider cannot have started the work: the
// connection was refused (the request never arrived), or it answered 429/503 (it turned the request away).
// A 500, a timeout or a reset may come after the provider began, and image calls are billed and not
// idempotent, so those are never retried. Retries back off, honour Retry-After up to a cap, and stop
// when the budget is spent, so a caller waits at most a couple of seconds longer than without them.

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  /** No retry starts later than this after the first attempt did. */
  budgetMs: number;
  /** The first backoff; each retry doubles it (half of it jittered). */
  baseDelayMs: number;
  /** A longer Retry-After is not waited for: the refusal goes back to the caller at once. */
  maxRetryAfterMs: number;
  /** The wait between attempts; tests replace it. Rejects when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const UPSTREAM_RETRY: RetryPolicy = { retries: 2, budgetMs: 2000, baseDelayMs: 200, maxRetryAfterMs: 2000 };

export type Outcome<T> = { value: T } | { error: unknown };

/** Whether to try again, and the least wait the upstream asked for (Retry-After). */
export type Verdict = { retry: false } | { retry: true; afterMs?: number };

const GIVE_UP: Verdict = { retry: false };

/** Retry-After in milliseconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  // An HTTP date names its day and month; anything else (a negative number, say) is unreadable.
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const REFUSED = new Set(['ECONNREFUSED']);

/** True when the connection was refused, however the client wrapped it (fetch puts it in `cause`, happy eyeballs in `errors`). */
export function isConnectionRefused(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown } | null | undefined;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && REFUSED.has(e.code)) return true;
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isConnectionRefused)) return true;
  return e.cause !== undefined && e.cause !== error && isConnectionRefused(e.cause);
}

/** A status by which the upstream turned the request away before doing any work. */
export function isRefusalStatus(status: number): boolean {
  return status === 429 || status === 503;
}

/** The verdict for an HTTP exchange, given how to read a response's status and Retry-After. */
export function upstreamVerdict<T>(read: (response: T) => { status: number; retryAfter: string | null | undefined }) {
  return (outcome: Outcome<T>): Verdict => {
    if ('error' in outcome) return isConnectionRefused(outcome.error) ? { retry: true } : GIVE_UP;
    const { status, retryAfter } = read(outcome.value);
    return isRefusalStatus(status) ? { retry: true, afterMs: retryAfterMs(retryAfter) } : GIVE_UP;
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The wait before retry number `retry` (0-based), or undefined to give up. */
export function retryDelay(policy: RetryPolicy, retry: number, elapsedMs: number, afterMs: number | undefined, random = Math.random()): number | undefined {
  if (retry >= policy.retries) return undefined;
  if (afterMs !== undefined && afterMs > policy.maxRetryAfterMs) return undefined;
  const backoff = policy.baseDelayMs * 2 ** retry;
  const delay = Math.max(Math.round(backoff / 2 + (random * backoff) / 2), afterMs ?? 0);
  return elapsedMs + delay > policy.budgetMs ? undefined : delay;
}

/**
 * Runs `attempt` until `judge` says not to retry or the policy runs out, and returns (or throws) the last
 * outcome. A response that is retried is handed to `discard` first, so its connection is freed.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  judge: (outcome: Outcome<T>) => Verdict,
  options: { policy: RetryPolicy; signal?: AbortSignal; discard?: (value: T) => void },
): Promise<T> {
  const { policy, signal } = options;
  const started = Date.now();
  for (let retry = 0; ; retry++) {
    let outcome: Outcome<T>;
    try {
      outcome = { value: await attempt() };
    } catch (error) {
      outcome = { error };
    }
    const verdict = signal?.aborted ? GIVE_UP : judge(outcome);
    const delay = verdict.retry ? retryDelay(policy, retry, Date.now() - started, verdict.afterMs) : undefined;
    if (delay === undefined) {
      if ('error' in outcome) throw outcome.error;
      return outcome.value;
    }
    if ('value' in outcome) options.discard?.(outcome.value);
    await (policy.sleep ?? sleep)(delay, signal);
  }
}
