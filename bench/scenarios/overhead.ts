// 1. Overhead and throughput: the same mock upstream reached directly, through a bare node:http proxy (the
// floor under any gateway on node:http), through Easel's proxy path (no conversation), through Easel's
// full path (token, conversation history replayed, turn appended) and through Portkey. Fixed rates (open
// loop) for added latency, then autocannon for maximum throughput.
import type { Settings } from '../lib/settings.ts';
import type { RequestSpec } from '../lib/http-client.ts';
import { runPaced, type PacedResult } from '../lib/paced-load.ts';
import { maxThroughput, type ThroughputResult } from '../lib/max-throughput.ts';
import { guestLogin, portkeyHeaders, startBareProxy, startEasel, startMock, startPortkey } from '../lib/servers.ts';
import { openSeeder, seedConversations, sqliteConfig } from '../lib/seed.ts';
import { round } from '../lib/stats.ts';
import { cpuOf } from '../lib/cpu.ts';
import { measured, type Measured } from '../lib/phase.ts';
import { probeChat } from './probes.ts';

export const CHAT_BODY = { model: 'bench-model', messages: [{ role: 'user', content: 'Say hello.' }] };
/** Prior items in each full-path conversation, and the turns one conversation takes at most per phase. */
const PRIOR_ITEMS = 10;
const TURNS_PER_CONVERSATION = 4;
/** Upper bound of the full path's rate, to size its pool of conversations for the autocannon run. */
const FULL_PATH_MAX_RPS_GUESS = 4000;

export type TargetName = 'direct' | 'bare-proxy' | 'easel-proxy' | 'easel-full' | 'portkey';

/** Plus the serving process's CPU per request (µs), measured over the whole run including warm-up. */
export type WithServerCpu<T> = T & { serverCpuUsPerRequest: number };

export interface TargetResult {
  paced: Record<string, Measured<WithServerCpu<PacedResult>>>;
  max?: Measured<WithServerCpu<ThroughputResult>>;
}

export interface OverheadResult {
  targets: Partial<Record<TargetName, TargetResult>>;
  skipped: Partial<Record<TargetName, string>>;
  fullPath: { priorItems: number; turnsPerConversation: number };
}

interface Target {
  name: TargetName;
  /** The process that serves this path (its CPU per request is recorded). */
  serverPid: number;
  /** Requests for a phase that sends about `count` of them. */
  requests(count: number): Promise<RequestSpec[]>;
}

export async function overheadScenario(settings: Settings, log: (line: string) => void): Promise<OverheadResult> {
  const mock = await startMock('overhead-mock');
  const easel = await startEasel({ name: 'overhead-easel', upstream: mock });
  const portkey = await startPortkey('overhead-portkey');
  const bare = await startBareProxy('overhead-bare-proxy', mock);
  const seeder = await openSeeder(sqliteConfig(easel.dataDir));
  const result: OverheadResult = { targets: {}, skipped: {}, fullPath: { priorItems: PRIOR_ITEMS, turnsPerConversation: TURNS_PER_CONVERSATION } };
  try {
    const { token, userId } = await guestLogin(easel);
    const auth = { authorization: `Bearer ${token}` };
    const body = JSON.stringify(CHAT_BODY);
    const targets: Target[] = [
      { name: 'direct', serverPid: mock.pid, requests: async () => [{ url: `${mock.url}/v1/chat/completions`, body }] },
      { name: 'bare-proxy', serverPid: bare.pid, requests: async () => [{ url: `${bare.url}/v1/chat/completions`, body }] },
      { name: 'easel-proxy', serverPid: easel.pid, requests: async () => [{ url: `${easel.url}/v1/chat/completions`, headers: auth, body }] },
      {
        name: 'easel-full',
        serverPid: easel.pid,
        // A fresh pool per phase, so every phase sees conversations of PRIOR_ITEMS..PRIOR_ITEMS+2×TURNS items.
        requests: async (count) => {
          const ids = await seedConversations(seeder, userId, Math.ceil(count / TURNS_PER_CONVERSATION), PRIOR_ITEMS);
          return ids.map((id) => ({ url: `${easel.url}/v1/chat/completions`, headers: auth, body: JSON.stringify({ ...CHAT_BODY, conversation: id }) }));
        },
      },
      { name: 'portkey', serverPid: portkey.pid, requests: async () => [{ url: `${portkey.url}/v1/chat/completions`, headers: portkeyHeaders(mock), body }] },
    ];

    const chatProblem = await probeChat(easel.url, token);
    const runnable = targets.filter((t) => {
      if (t.name.startsWith('easel') && chatProblem) {
        result.skipped[t.name] = chatProblem;
        log(`  ${t.name}: skipped (${chatProblem})`);
        return false;
      }
      return true;
    });

    for (const target of runnable) result.targets[target.name] = { paced: {} };
    // Every target at one rate before the next rate, so the comparison at a rate is made close in time.
    for (const rate of settings.rates) {
      for (const target of runnable) {
        const count = Math.ceil((rate * (settings.pacedWarmupMs + settings.pacedMs)) / 1000);
        const requests = await target.requests(count);
        const run = await measured(settings, log, () => withServerCpu(target.serverPid, () => runPaced({ requests, rate, warmupMs: settings.pacedWarmupMs, durationMs: settings.pacedMs })));
        result.targets[target.name]!.paced[rate] = run;
        log(`  ${target.name} @${rate}/s: p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms, ${run.throughput}/s, server CPU ${run.serverCpuUsPerRequest} µs/req, failed ${run.failed}${run.failed ? ` ${JSON.stringify(run.errors)}` : ''}; other CPU ${run.conditions.otherCores}`);
      }
    }
    for (const target of runnable) {
      const count = FULL_PATH_MAX_RPS_GUESS * (settings.throughputWarmupS + settings.throughputS);
      const [first, ...rest] = await target.requests(count);
      const bodies = rest.length > 0 ? [first!, ...rest].map((r) => r.body as string) : undefined;
      const max = await measured(settings, log, () =>
        withServerCpu(target.serverPid, () =>
          maxThroughput({ request: first!, bodies, connections: settings.throughputConnections, warmupS: settings.throughputWarmupS, durationS: settings.throughputS }),
        ),
      );
      result.targets[target.name]!.max = max;
      log(`  ${target.name} max: ${max.rps} req/s, server CPU ${max.serverCpuUsPerRequest} µs/req (${max.connections} connections, non-2xx ${max.non2xx}, errors ${max.errors}; other CPU ${max.conditions.otherCores})`);
    }
  } finally {
    await seeder.close();
    await Promise.all([easel.dispose(), portkey.stop(), bare.stop(), mock.stop()]);
  }
  return result;
}

/** Latency a target adds over the direct path at the same rate, p50 and p99. */
export function addedLatency(result: OverheadResult, target: TargetName, rate: number): { p50: number; p99: number } | undefined {
  const direct = result.targets.direct?.paced[rate]?.latency;
  const other = result.targets[target]?.paced[rate]?.latency;
  if (!direct || !other) return undefined;
  return { p50: round(other.p50 - direct.p50), p99: round(other.p99 - direct.p99) };
}

/** Runs a load and divides the serving process's CPU by the requests it answered (warm-up included). */
async function withServerCpu<T extends PacedResult | ThroughputResult>(pid: number, run: () => Promise<T>): Promise<WithServerCpu<T>> {
  const { result, cpuMs } = await cpuOf(pid, run);
  return { ...result, serverCpuUsPerRequest: round((cpuMs * 1000) / result.sentInAll, 0) };
}
