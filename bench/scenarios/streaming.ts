// 2. Streaming: time to the first SSE data chunk, direct vs through Easel vs through Portkey, while the
// mock streams N chunks a few ms apart (the first at once). Open loop at a modest fixed rate.
import type { Settings } from '../lib/settings.ts';
import type { RequestSpec } from '../lib/http-client.ts';
import { runPaced, type PacedResult } from '../lib/paced-load.ts';
import { guestLogin, portkeyHeaders, startEasel, startMock, startPortkey } from '../lib/servers.ts';
import { openSeeder, seedConversations, sqliteConfig } from '../lib/seed.ts';
import { round } from '../lib/stats.ts';
import { measured, type Measured } from '../lib/phase.ts';
import { CHAT_BODY, type TargetName } from './overhead.ts';
import { probeChat } from './probes.ts';

export interface StreamingResult {
  rate: number;
  chunks: number;
  gapMs: number;
  targets: Partial<Record<TargetName, Measured<PacedResult>>>;
  skipped: Partial<Record<TargetName, string>>;
}

export async function streamingScenario(settings: Settings, log: (line: string) => void): Promise<StreamingResult> {
  const mock = await startMock('streaming-mock', { MOCK_STREAM_CHUNKS: String(settings.streamChunks), MOCK_STREAM_GAP_MS: String(settings.streamGapMs) });
  const easel = await startEasel({ name: 'streaming-easel', upstream: mock });
  const portkey = await startPortkey('streaming-portkey');
  const seeder = await openSeeder(sqliteConfig(easel.dataDir));
  const result: StreamingResult = { rate: settings.streamRate, chunks: settings.streamChunks, gapMs: settings.streamGapMs, targets: {}, skipped: {} };
  try {
    const { token, userId } = await guestLogin(easel);
    const auth = { authorization: `Bearer ${token}` };
    const body = JSON.stringify({ ...CHAT_BODY, stream: true });
    const count = Math.ceil((settings.streamRate * (settings.pacedWarmupMs + settings.pacedMs)) / 1000);
    const chatProblem = await probeChat(easel.url, token);
    const targets: Array<[TargetName, () => Promise<RequestSpec[]>]> = [
      ['direct', async () => [{ url: `${mock.url}/v1/chat/completions`, body }]],
      ['easel-proxy', async () => [{ url: `${easel.url}/v1/chat/completions`, headers: auth, body }]],
      [
        'easel-full',
        async () =>
          (await seedConversations(seeder, userId, Math.ceil(count / 4), 10)).map((id) => ({
            url: `${easel.url}/v1/chat/completions`,
            headers: auth,
            body: JSON.stringify({ ...CHAT_BODY, stream: true, conversation: id }),
          })),
      ],
      ['portkey', async () => [{ url: `${portkey.url}/v1/chat/completions`, headers: portkeyHeaders(mock), body }]],
    ];
    for (const [name, requests] of targets) {
      if (name.startsWith('easel') && chatProblem) {
        result.skipped[name] = chatProblem;
        log(`  ${name}: skipped (${chatProblem})`);
        continue;
      }
      const specs = await requests();
      const run = await measured(settings, log, () => runPaced({ requests: specs, rate: settings.streamRate, warmupMs: settings.pacedWarmupMs, durationMs: settings.pacedMs, sse: true }));
      result.targets[name] = run;
      log(`  ${name}: first chunk p50 ${run.firstChunk?.p50} ms, p99 ${run.firstChunk?.p99} ms; whole stream p50 ${run.latency.p50} ms; failed ${run.failed}; other CPU ${run.conditions.otherCores}`);
    }
  } finally {
    await seeder.close();
    await Promise.all([easel.dispose(), portkey.stop(), mock.stop()]);
  }
  return result;
}

export function addedFirstChunk(result: StreamingResult, target: TargetName): { p50: number; p99: number } | undefined {
  const direct = result.targets.direct?.firstChunk;
  const other = result.targets[target]?.firstChunk;
  if (!direct || !other) return undefined;
  return { p50: round(other.p50 - direct.p50), p99: round(other.p99 - direct.p99) };
}
