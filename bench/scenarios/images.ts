// 3. Image path: the upstream answers /v1/images/generations with a ~1.5 MB base64 PNG. Easel decodes,
// stores and signs it (response_format url); Portkey passes the same JSON through. One at a time for
// added latency, then N at once (closed loop) for throughput and the server's peak RSS.
import type { Settings } from '../lib/settings.ts';
import type { RequestSpec } from '../lib/http-client.ts';
import { runClosedLoop, type ClosedLoopResult } from '../lib/closed-loop.ts';
import { noisyPng } from '../lib/fixtures.ts';
import { readMemory, sampleMemory, type ChildServer, type Memory } from '../lib/processes.ts';
import { guestLogin, portkeyHeaders, startBareProxy, startEasel, startMock, startPortkey } from '../lib/servers.ts';
import { round } from '../lib/stats.ts';
import { cpuOf } from '../lib/cpu.ts';
import { measured, type Measured } from '../lib/phase.ts';
import { probeImages } from './probes.ts';

export type ImageTargetName = 'direct' | 'bare-proxy' | 'easel' | 'portkey';

export interface ImageTargetResult {
  sequential: Measured<ClosedLoopResult>;
  concurrent: Measured<ClosedLoopResult>;
  /** The serving process: RSS before the load, and peak (VmHWM) over its life, which began just before. */
  memory: { idleMiB: number; peakMiB: number };
  /** CPU of the serving process per image, over the concurrent load (ms). */
  serverCpuMsPerImage: number;
}

export interface ImagesResult {
  png: { bytes: number; base64Bytes: number };
  targets: Partial<Record<ImageTargetName, ImageTargetResult>>;
  skipped: Partial<Record<ImageTargetName, string>>;
}

export async function imagesScenario(settings: Settings, log: (line: string) => void): Promise<ImagesResult> {
  const png = await noisyPng();
  const result: ImagesResult = { png: { bytes: png.bytes, base64Bytes: png.base64Bytes }, targets: {}, skipped: {} };
  const mock = await startMock('images-mock', { MOCK_IMAGE_FILE: png.file });
  try {
    const openaiBody = JSON.stringify({ model: 'bench-image', prompt: 'a red fox in the snow', n: 1, size: '1024x1024' });
    // Each target gets a fresh process, so its VmHWM is this load's peak and nothing earlier.
    const targets: Array<[ImageTargetName, () => Promise<{ server: ChildServer; request: RequestSpec; dispose(): Promise<void> }>]> = [
      ['direct', async () => ({ server: mock, request: { url: `${mock.url}/v1/images/generations`, body: openaiBody }, dispose: async () => {} })],
      [
        'bare-proxy',
        async () => {
          const bare = await startBareProxy('images-bare-proxy', mock);
          return { server: bare, request: { url: `${bare.url}/v1/images/generations`, body: openaiBody }, dispose: () => bare.stop() };
        },
      ],
      [
        'easel',
        async () => {
          const easel = await startEasel({ name: 'images-easel', upstream: mock });
          const { token } = await guestLogin(easel);
          const problem = await probeImages(easel.url, token);
          if (problem) {
            await easel.dispose();
            throw new Skip(problem);
          }
          const body = JSON.stringify({ prompt: 'a red fox in the snow', size: '1024x1024', response_format: 'url' });
          return { server: easel, request: { url: `${easel.url}/v1/images/generations`, headers: { authorization: `Bearer ${token}` }, body }, dispose: () => easel.dispose() };
        },
      ],
      [
        'portkey',
        async () => {
          const portkey = await startPortkey('images-portkey');
          return { server: portkey, request: { url: `${portkey.url}/v1/images/generations`, headers: portkeyHeaders(mock), body: openaiBody }, dispose: () => portkey.stop() };
        },
      ],
    ];
    for (const [name, start] of targets) {
      let target;
      try {
        target = await start();
      } catch (error) {
        if (!(error instanceof Skip)) throw error;
        result.skipped[name] = error.message;
        log(`  ${name}: skipped (${error.message})`);
        continue;
      }
      try {
        const idle = readMemory(target.server.pid);
        const sequential = await measured(settings, log, () =>
          runClosedLoop({ request: target.request, concurrency: 1, warmupMs: settings.imageWarmupMs / 2, durationMs: settings.imageMs / 2 }),
        );
        let memory: Memory | undefined;
        let cpuMs = 0;
        const concurrent = await measured(settings, log, async () => {
          const sampler = sampleMemory(target.server.pid);
          const run = await cpuOf(target.server.pid, () =>
            runClosedLoop({ request: target.request, concurrency: settings.imageConcurrency, warmupMs: settings.imageWarmupMs, durationMs: settings.imageMs }),
          );
          memory = sampler.stop();
          cpuMs = run.cpuMs;
          return run.result;
        });
        const serverCpuMsPerImage = round(cpuMs / concurrent.sentInAll, 2);
        result.targets[name] = { sequential, concurrent, memory: { idleMiB: round(idle.rssMiB, 1), peakMiB: round(Math.max(memory!.hwmMiB, memory!.rssMiB), 1) }, serverCpuMsPerImage };
        log(
          `  ${name}: 1 at a time p50 ${sequential.latency.p50} ms p99 ${sequential.latency.p99} ms; ${settings.imageConcurrency} at once ${concurrent.throughput} req/s, ` +
            `p50 ${concurrent.latency.p50} ms, peak RSS ${round(memory!.hwmMiB, 1)} MiB, server CPU ${serverCpuMsPerImage} ms/image; failed ${sequential.failed + concurrent.failed}; other CPU ${Math.max(sequential.conditions.otherCores, concurrent.conditions.otherCores)}`,
        );
      } finally {
        await target.dispose();
      }
    }
  } finally {
    await mock.stop();
  }
  return result;
}

class Skip extends Error {}

export function addedImageLatency(result: ImagesResult, target: ImageTargetName): { p50: number; p99: number } | undefined {
  const direct = result.targets.direct?.sequential.latency;
  const other = result.targets[target]?.sequential.latency;
  if (!direct || !other) return undefined;
  return { p50: round(other.p50 - direct.p50), p99: round(other.p99 - direct.p99) };
}
