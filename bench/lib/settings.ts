// How long and how hard each benchmark runs. BENCH_QUICK=1 shortens every load for iterating;
// BENCH_ONLY=overhead,streaming,… runs a subset.

export interface Settings {
  quick: boolean;
  only: Set<string> | undefined;
  /** Fixed-rate phases: warm-up, then measured, at each rate. */
  rates: number[];
  pacedWarmupMs: number;
  pacedMs: number;
  /** autocannon maximum-throughput runs. */
  throughputConnections: number;
  throughputWarmupS: number;
  throughputS: number;
  /** Streaming: rate of streamed requests and the mock's chunking. */
  streamRate: number;
  streamChunks: number;
  streamGapMs: number;
  /** Image path. */
  imageConcurrency: number;
  imageWarmupMs: number;
  imageMs: number;
  imageSequentialCount: number;
  /** Items at scale. */
  itemSizes: number[];
  itemRate: number;
  itemMs: number;
  postgresUrl: string;
  /** Cold start: runs averaged. */
  coldStartRuns: number;
  /** Before each phase, wait up to this long for other processes to use under quietThreshold cores. */
  quietWaitS: number;
  quietThreshold: number;
  /** Runs of a phase at most, when other processes disturbed it; the least disturbed is kept. */
  attempts: number;
}

export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const only = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
  return {
    quick,
    only,
    rates: [200, 1000],
    pacedWarmupMs: quick ? 1_000 : 3_000,
    pacedMs: quick ? 3_000 : 10_000,
    throughputConnections: 64,
    throughputWarmupS: quick ? 1 : 3,
    throughputS: quick ? 3 : 10,
    streamRate: 100,
    streamChunks: 20,
    streamGapMs: 5,
    imageConcurrency: 20,
    imageWarmupMs: quick ? 1_000 : 2_000,
    imageMs: quick ? 3_000 : 10_000,
    imageSequentialCount: quick ? 20 : 60,
    itemSizes: [1_000, 10_000, 100_000],
    itemRate: 200,
    itemMs: quick ? 2_000 : 5_000,
    postgresUrl: env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    coldStartRuns: quick ? 2 : 5,
    quietWaitS: Number(env.BENCH_QUIET_WAIT_S ?? (quick ? 15 : 120)),
    quietThreshold: Number(env.BENCH_QUIET_CORES ?? 0.25),
    attempts: Number(env.BENCH_ATTEMPTS ?? (quick ? 1 : 3)),
  };
}
