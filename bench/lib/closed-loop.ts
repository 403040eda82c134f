// Closed-loop load: `concurrency` clients each send their next request when the last one is answered.
// Used for the image path, where the question is "how many can it serve with N at once, and at what memory".
import { keepAliveAgent, prepare, send, type RequestSpec } from './http-client.ts';
import { round, summarize, type LatencySummary } from './stats.ts';

export interface ClosedLoopOptions {
  request: RequestSpec;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  timeoutMs?: number;
}

export interface ClosedLoopResult {
  concurrency: number;
  completed: number;
  failed: number;
  errors: Record<string, number>;
  throughput: number;
  latency: LatencySummary;
  /** Every request sent, warm-up included (for CPU per request). */
  sentInAll: number;
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const agent = keepAliveAgent();
  const request = prepare(options.request);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let failed = 0;
  let lastEnd = measureFrom;
  let sentInAll = 0;

  const client = async () => {
    while (performance.now() < stopAt) {
      const sentAt = performance.now();
      const outcome = await send(agent, request, { timeoutMs });
      sentInAll++;
      if (sentAt < measureFrom) continue;
      lastEnd = Math.max(lastEnd, outcome.endAt);
      if (outcome.error) {
        failed++;
        errors[outcome.error] = (errors[outcome.error] ?? 0) + 1;
      } else {
        latencies.push(outcome.endAt - sentAt);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  agent.destroy();
  return {
    concurrency: options.concurrency,
    completed: latencies.length,
    failed,
    errors,
    throughput: round(latencies.length / ((lastEnd - measureFrom) / 1000), 2),
    latency: summarize(latencies),
    sentInAll,
  };
}
