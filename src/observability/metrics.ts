// Prometheus metrics, one Registry per container (never prom-client's global one), so several apps can
// live in one process (tests) without their numbers mixing. Services call the small functions below;
// only src/http/metrics.ts knows how they are exposed.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface Metrics {
  readonly registry: Registry;
  /** One answered HTTP request; `route` is the route pattern (`/v1/conversations/:id`), never the raw URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** One call to an upstream provider: `outcome` is e.g. 'ok', 'error' or 'timeout'. */
  observeUpstream(provider: string, model: string, seconds: number, outcome: string): void;
  /** `n` images of `size` were generated (or edited) and stored. */
  imagesGenerated(size: string, n: number): void;
  /** `n` bytes of media were written to the media store. */
  bytesStored(n: number): void;
  /** A request was refused by the rate limit `kind` (guestLogin, images, chat, …). */
  rateLimited(kind: string): void;
  /** Reports the database pool's connections on every scrape (PostgreSQL; SQLite has no pool). */
  watchDatabasePool(stats: () => PoolStats): void;
  /** The exposition text for a scrape. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** Distinct values a caller-influenced label (model, provider, size, kind) may take before the rest count as "other". */
const MAX_LABEL_VALUES = 50;
const MAX_LABEL_LENGTH = 100;

/** Keeps a label's cardinality bounded: a client sending random model names must not grow the registry without end. */
function boundedLabel(): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    const v = String(value).slice(0, MAX_LABEL_LENGTH) || 'unknown';
    if (seen.has(v)) return v;
    if (seen.size >= MAX_LABEL_VALUES) return 'other';
    seen.add(v);
    return v;
  };
}

const REQUEST_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface RequestSeries {
  labels: { method: string; route: string; status: string };
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  buckets: number[];
}

/**
 * The per-request counter and histogram, kept as plain numbers and turned into Prometheus samples only
 * when scraped. prom-client's own label handling costs about a microsecond per request; this costs a
 * map lookup and two additions, which matters on a path every request takes.
 */
function requestMetrics(registry: Registry) {
  const series = new Map<string, RequestSeries>();
  const all = () => [...series.values()];
  const counter = {
    name: 'easel_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    type: 'counter',
    aggregator: 'sum',
    get: async () => ({ ...counter, values: all().map((s) => ({ labels: s.labels, value: s.count })) }),
  };
  const histogram = {
    name: 'easel_http_request_duration_seconds',
    help: 'Time from request received to response sent, by method, route pattern and status code',
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({
      ...histogram,
      values: all().flatMap((s) => {
        let cumulative = 0;
        const buckets = s.buckets.map((n, i) => {
          cumulative += n;
          return { metricName: `${histogram.name}_bucket`, labels: { ...s.labels, le: i < REQUEST_BUCKETS.length ? REQUEST_BUCKETS[i]! : '+Inf' }, value: cumulative };
        });
        return [
          ...buckets,
          { metricName: `${histogram.name}_sum`, labels: s.labels, value: s.sum },
          { metricName: `${histogram.name}_count`, labels: s.labels, value: s.count },
        ];
      }),
    }),
  };
  // The registry only calls get() and reads name and type: these two are metrics as far as it can tell.
  registry.registerMetric(counter as unknown as Metric);
  registry.registerMetric(histogram as unknown as Metric);

  return (method: string, route: string, status: number, seconds: number) => {
    const key = `${method} ${status} ${route}`;
    let s = series.get(key);
    if (!s) series.set(key, (s = { labels: { method, route, status: String(status) }, count: 0, sum: 0, buckets: new Array(REQUEST_BUCKETS.length + 1).fill(0) }));
    s.count++;
    s.sum += seconds;
    let i = 0;
    while (i < REQUEST_BUCKETS.length && seconds > REQUEST_BUCKETS[i]!) i++;
    s.buckets[i]!++;
  };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];

  const observeRequest = requestMetrics(registry);
  const upstreamDuration = new Histogram({
    name: 'easel_upstream_request_duration_seconds',
    help: 'Calls to upstream chat and image providers, by provider, model and outcome',
    labelNames: ['provider', 'model', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300],
    registers,
  });
  const images = new Counter({ name: 'easel_images_generated_total', help: 'Images generated or edited, by size', labelNames: ['size'] as const, registers });
  const bytes = new Counter({ name: 'easel_media_stored_bytes_total', help: 'Bytes written to the media store', registers });
  const limited = new Counter({ name: 'easel_rate_limited_total', help: 'Requests refused by a rate limit, by limit', labelNames: ['kind'] as const, registers });

  const provider = boundedLabel();
  const model = boundedLabel();
  const size = boundedLabel();
  const kind = boundedLabel();
  const outcome = boundedLabel();
  let defaultsStarted = false;

  return {
    registry,
    observeRequest,
    observeUpstream(p, m, seconds, o) {
      upstreamDuration.observe({ provider: provider(p), model: model(m), outcome: outcome(o) }, Math.max(0, seconds));
    },
    imagesGenerated(s, n) {
      if (n > 0) images.inc({ size: size(s) }, n);
    },
    bytesStored(n) {
      if (n > 0) bytes.inc(n);
    },
    rateLimited(k) {
      limited.inc({ kind: kind(k) });
    },
    watchDatabasePool(stats) {
      new Gauge({
        name: 'easel_db_pool_connections',
        help: 'Database pool connections: total open, idle, and requests waiting for one',
        labelNames: ['state'] as const,
        registers,
        collect() {
          const s = stats();
          this.set({ state: 'total' }, s.total);
          this.set({ state: 'idle' }, s.idle);
          this.set({ state: 'waiting' }, s.waiting);
        },
      });
    },
    async render() {
      // Process metrics (CPU, memory, GC, event loop) start with the first scrape, so an app that is
      // never scraped (tests, the CLI) sets up no GC observer or event-loop timer.
      if (!defaultsStarted) {
        defaultsStarted = true;
        collectDefaultMetrics({ register: registry });
      }
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
