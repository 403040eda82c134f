// Maximum throughput with autocannon: a fixed number of kept-alive connections, each sending its next
// request as soon as the last is answered. A short warm-up run goes first and is discarded.
import autocannon from 'autocannon';
import type { RequestSpec } from './http-client.ts';
import { round } from './stats.ts';

export interface ThroughputOptions {
  request: RequestSpec;
  /** Bodies sent in turn instead of request.body (each full-path request continues its own conversation). */
  bodies?: string[];
  connections: number;
  durationS: number;
  warmupS: number;
}

export interface ThroughputResult {
  connections: number;
  /** 2xx responses per second. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  latencyP50: number;
  latencyP99: number;
  /** Every response, warm-up included (for CPU per request). */
  sentInAll: number;
}

export async function maxThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const base = {
    url: options.request.url,
    method: options.request.method ?? (options.request.body ? 'POST' : 'GET'),
    headers: { ...(options.request.body ? { 'content-type': 'application/json' } : {}), ...options.request.headers },
    body: options.request.body,
    connections: options.connections,
    pipelining: 1,
    timeout: 10,
    ...(options.bodies ? { requests: [{ setupRequest: nextBody(options.bodies) }] } : {}),
  } as const;
  const warmup = options.warmupS > 0 ? await autocannon({ ...base, duration: options.warmupS }) : undefined;
  const result = await autocannon({ ...base, duration: options.durationS });
  return {
    connections: options.connections,
    rps: round(result['2xx'] / result.duration, 0),
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    sentInAll: result['2xx'] + result.non2xx + (warmup ? warmup['2xx'] + warmup.non2xx : 0),
  };
}

function nextBody(bodies: string[]) {
  let i = 0;
  return <R extends { body?: unknown }>(request: R): R => ({ ...request, body: bodies[i++ % bodies.length] });
}
