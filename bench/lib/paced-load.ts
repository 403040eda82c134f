// Open-loop load at a fixed rate: request i is due at start + i/rate whatever the replies, and its latency
// is measured from that due time, not from when it actually left. A server that stalls is charged for
// every request that queued behind the stall (no coordinated omission).
import { keepAliveAgent, prepare, send, type RequestSpec } from './http-client.ts';
import { summarize, round, type LatencySummary } from './stats.ts';
import { sleep } from './processes.ts';

export interface PacedOptions {
  /** Sent in turn, round-robin (several when each request needs its own body). */
  requests: RequestSpec[];
  /** Requests per second. */
  rate: number;
  durationMs: number;
  /** Sent at the same rate before measuring; their results are dropped. */
  warmupMs: number;
  timeoutMs?: number;
  /** Also time the first SSE `data:` chunk. */
  sse?: boolean;
  /** Connections opened before the clock starts, so the first measured requests do not pay for TCP setup. */
  preconnect?: number;
}

export interface PacedResult {
  rate: number;
  measured: number;
  failed: number;
  errors: Record<string, number>;
  /** Completed requests per second over the measured window. */
  throughput: number;
  /** Due time to last byte, ms. */
  latency: LatencySummary;
  /** Due time to the first SSE data chunk, ms (sse only). */
  firstChunk?: LatencySummary;
  /** How late the generator itself sent (p99, ms): large values mean the client, not the server, fell behind. */
  sendLagP99: number;
  maxInFlight: number;
  /** Every request sent, warm-up and pre-connection included (for CPU per request). */
  sentInAll: number;
}

export async function runPaced(options: PacedOptions): Promise<PacedResult> {
  const agent = keepAliveAgent();
  const requests = options.requests.map(prepare);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const preconnections = options.preconnect ?? Math.min(64, Math.ceil(options.rate / 50));
  await preconnect(agent, requests[0]!, preconnections, timeoutMs);

  const interval = 1000 / options.rate;
  const warmupCount = Math.round((options.warmupMs / 1000) * options.rate);
  const total = warmupCount + Math.round((options.durationMs / 1000) * options.rate);
  const latencies: number[] = [];
  const firstChunks: number[] = [];
  const lags: number[] = [];
  const errors: Record<string, number> = {};
  let failed = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let lastEnd = 0;
  const pending: Promise<void>[] = [];

  const fire = (index: number, due: number) => {
    const measured = index >= warmupCount;
    if (measured) lags.push(performance.now() - due);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    pending.push(
      send(agent, requests[index % requests.length]!, { timeoutMs, sse: options.sse }).then((outcome) => {
        inFlight--;
        if (!measured) return;
        lastEnd = Math.max(lastEnd, outcome.endAt);
        if (outcome.error) {
          failed++;
          errors[outcome.error] = (errors[outcome.error] ?? 0) + 1;
          return;
        }
        latencies.push(outcome.endAt - due);
        if (options.sse) firstChunks.push(outcome.firstChunkAt - due);
      }),
    );
  };

  const start = performance.now() + 5;
  const measuredStart = start + warmupCount * interval;
  let next = 0;
  // Timers, not a busy loop: on 2 cores a spinning client would steal the servers' CPU. A late tick
  // sends everything that has fallen due, each still timed from its own due time.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        fire(next, start + next * interval);
        next++;
      }
      if (next >= total) return resolve();
      setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    setTimeout(tick, 5);
  });
  await Promise.all(pending);
  agent.destroy();

  const window = (lastEnd - measuredStart) / 1000;
  return {
    rate: options.rate,
    measured: total - warmupCount,
    failed,
    errors,
    throughput: round(latencies.length / window, 1),
    latency: summarize(latencies),
    ...(options.sse ? { firstChunk: summarize(firstChunks) } : {}),
    sendLagP99: summarize(lags).p99,
    maxInFlight,
    sentInAll: preconnections + total,
  };
}

/** Opens `count` kept-alive connections by sending that many requests at once. */
async function preconnect(agent: ReturnType<typeof keepAliveAgent>, request: ReturnType<typeof prepare>, count: number, timeoutMs: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, () => send(agent, request, { timeoutMs })));
  await sleep(20);
}
