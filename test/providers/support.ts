// Shared pieces of the provider-routing tests: a providers file on disk, image upstreams that answer n
// images and remember what they were asked, and waiting for something to happen without timing it.
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { tempDir } from '../helpers/app.ts';
import { sendJson, startUpstream, type RecordedRequest, type Upstream } from '../images/support.ts';
import { UPSTREAM_RETRY, type RetryPolicy } from '../../src/providers/retry.ts';

/** The adapters' retries without the waits between them. */
export const NO_WAIT_RETRY: RetryPolicy = { ...UPSTREAM_RETRY, sleep: async () => undefined };

/** Writes a providers file and returns its path. */
export function providersFile(yaml: string): string {
  const file = path.join(tempDir('easel-providers-'), 'providers.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

/** The JSON body of a request an image upstream received. */
export const bodyOf = (request: RecordedRequest) => JSON.parse(request.body.toString());

/** Generation requests only (an upstream may also be asked for /models). */
export const generations = (upstream: Upstream) => upstream.requests.filter((r) => r.path.endsWith('/images/generations'));

/** An image upstream that answers each generation with n copies of `image`. */
export function imageUpstream(image: Buffer): Promise<Upstream> {
  return startUpstream(answerImages(image));
}

export function answerImages(image: Buffer) {
  return (request: RecordedRequest, res: http.ServerResponse) => {
    if (request.path.endsWith('/models')) return sendJson(res, 200, { object: 'list', data: [] });
    const n = request.headers['content-type']?.startsWith('application/json') ? bodyOf(request).n : 1;
    sendJson(res, 200, { created: 1, data: Array.from({ length: n }, () => ({ b64_json: image.toString('base64') })) });
  };
}

/** Polls `probe` until it returns something; fails (not a timing assertion: a guard against hanging) after `limitMs`. */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
