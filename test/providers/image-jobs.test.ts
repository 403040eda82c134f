// Async image jobs (`Prefer: respond-async`): 202 with a queued job, the job read back with the same data
// as a synchronous answer (URLs signed at read time), images in the conversation, failures recorded as
// errors, another user's job hidden, a bounded number of jobs per provider, and two instances sharing one
// database never running the same job.
import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { countRows, NO_IMAGE_LIMIT, png, sendJson, type RecordedRequest, type Upstream } from '../images/support.ts';
import { answerImages, bodyOf, generations, imageUpstream, providersFile, until } from './support.ts';

const ASYNC = { prefer: 'respond-async' };

function jobsOn(upstream: Upstream, maxConcurrency: number): string {
  return providersFile(`
providers:
  - name: slow-sd
    kind: image
    base_url: ${upstream.origin}/v1
    max_concurrency: ${maxConcurrency}
    models: [{ id: sdxl, upstream_model: sd-xl-base, max_n: 2 }]
`);
}

async function jobStatus(t: TestApp, guest: Guest, id: string): Promise<any> {
  return (await t.as(guest.token, { method: 'GET', url: `/v1/images/jobs/${id}` })).json();
}

/** Reads the job until it is finished (succeeded or failed). */
function finished(t: TestApp, guest: Guest, id: string): Promise<any> {
  return until(async () => {
    const job = await jobStatus(t, guest, id);
    return job.status === 'succeeded' || job.status === 'failed' ? job : undefined;
  }, `job ${id} to finish`);
}

describe.each(DATABASES)('async image jobs on %s', (kind) => {
  let upstream: Upstream;
  let t: TestApp;
  let alice: Guest;
  let bob: Guest;
  let image: Buffer;

  beforeAll(async () => {
    image = await png(24, 24, '#3355ee');
    upstream = await imageUpstream(image);
    t = await startApp(kind, { ...NO_IMAGE_LIMIT, EASEL_PROVIDERS: jobsOn(upstream, 1) });
    t.container.imageJobRunner.start();
    alice = await t.guest();
    bob = await t.guest();
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.requests.length = 0;
    upstream.handler = answerImages(image);
  });

  const submit = (guest: Guest, payload: object) =>
    t.as(guest.token, { method: 'POST', url: '/v1/images/generations', headers: ASYNC, payload: { prompt: 'a blue square', ...payload } });
  const conversation = async (guest: Guest) => (await t.as(guest.token, { method: 'POST', url: '/v1/conversations', payload: {} })).json().id as string;
  const signed = (url: string) => t.app.inject({ method: 'GET', url: new URL(url).pathname + new URL(url).search });

  it('answers 202 with a queued job, then the synchronous answer\'s data, with the images in the conversation', async () => {
    const conv = await conversation(alice);
    const res = await submit(alice, { n: 3, size: '512x512', conversation_id: conv });
    expect(res.statusCode).toBe(202);
    expect(res.headers['preference-applied']).toBe('respond-async');
    const accepted = res.json();
    expect(accepted).toEqual({ id: expect.stringMatching(/^imgjob_[0-9a-hjkmnp-tv-z]{26}$/), object: 'image.job', status: 'queued', created_at: expect.any(Number) });
    expect(res.headers.location).toBe(`/v1/images/jobs/${accepted.id}`);

    const job = await finished(t, alice, accepted.id);
    expect(job).toMatchObject({ id: accepted.id, object: 'image.job', status: 'succeeded', size: '512x512', output_format: 'png', conversation_id: conv, model: 'sdxl' });
    expect(job.data).toHaveLength(3);
    for (const item of job.data) {
      expect(item.id).toMatch(/^jan_/);
      expect((await signed(item.url)).rawPayload.equals(image)).toBe(true);
    }
    // n = 3 with max_n 2: the upstream was asked twice, by its own model name.
    expect(generations(upstream).map((r) => [bodyOf(r).model, bodyOf(r).n]).sort()).toEqual([['sd-xl-base', 1], ['sd-xl-base', 2]]);

    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv}/items?order=asc` })).json().data;
    expect(items.map((i: { type: string }) => i.type)).toEqual(['message', 'image_generation_call']);
    expect(items[0].content).toEqual([{ type: 'input_text', text: 'a blue square' }]);
    expect(items[1]).toMatchObject({ status: 'completed', prompt: 'a blue square', model: 'sdxl', size: '512x512' });
    expect(items[1].images.map((i: { id: string }) => i.id)).toEqual(job.data.map((d: { id: string }) => d.id));
  });

  it('signs URLs afresh at every read, and gives b64_json when that was asked for', async () => {
    const { id } = (await submit(alice, { response_format: 'url' })).json();
    const first = await finished(t, alice, id);
    await new Promise((r) => setTimeout(r, 1100));
    const again = await jobStatus(t, alice, id);
    expect(again.data[0].id).toBe(first.data[0].id);
    expect(again.data[0].url).not.toBe(first.data[0].url);
    const b64 = await finished(t, alice, (await submit(alice, { response_format: 'b64_json' })).json().id);
    expect(Buffer.from(b64.data[0].b64_json, 'base64').equals(image)).toBe(true);
    expect(b64.data[0].url).toBeUndefined();
  });

  it('hides a job from anyone but its owner', async () => {
    const { id } = (await submit(alice, {})).json();
    for (const res of [await t.as(bob.token, { method: 'GET', url: `/v1/images/jobs/${id}` }), await t.as(alice.token, { method: 'GET', url: '/v1/images/jobs/imgjob_01jg8x0v9q4m6t2w7k3c5r8b1d' })]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toMatchObject({ type: 'not_found_error' });
    }
    expect((await t.app.inject({ method: 'GET', url: `/v1/images/jobs/${id}` })).statusCode).toBe(401);
    await finished(t, alice, id);
  });

  it('records a provider failure as the job\'s error, keeping nothing', async () => {
    upstream.handler = (_req, res) => sendJson(res, 500, { error: { message: 'the sampler crashed' } });
    const conv = await conversation(alice);
    const media = await countRows(t, 'media');
    const { id } = (await submit(alice, { conversation_id: conv })).json();
    const job = await finished(t, alice, id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ type: 'provider_error', code: 'provider_error' });
    expect(job.error.message).toContain('HTTP 500');
    expect(job.data).toBeUndefined();
    // A 500 may follow accepted work: the job is not tried again.
    expect(generations(upstream)).toHaveLength(1);
    expect(await countRows(t, 'media')).toBe(media);
    expect((await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv}/items` })).json().data).toEqual([]);
  });

  it('queues a job again when the provider turned it away before accepting it (503), and it then succeeds', async () => {
    let refusals = 0;
    upstream.handler = (req, res) => {
      // More 503s than the adapter retries: the job itself has to wait and come back.
      if (refusals++ < 3) return sendJson(res, 503, { error: { message: 'queue full' } });
      answerImages(image)(req, res);
    };
    const { id } = (await submit(alice, {})).json();
    const job = await finished(t, alice, id);
    expect(job.status).toBe('succeeded');
    expect(generations(upstream)).toHaveLength(4);
  });

  it('refuses at once what a synchronous request would refuse, queueing nothing', async () => {
    const before = await t.container.db.kysely.selectFrom('image_jobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const unknown = await submit(alice, { model: 'dall-e-3' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('model_not_found');
    expect((await submit(alice, { prompt: '' })).statusCode).toBe(400);
    expect((await submit(alice, { conversation_id: await conversation(bob) })).statusCode).toBe(404);
    const streamed = await submit(alice, { stream: true });
    expect(streamed.statusCode).toBe(400);
    expect(streamed.json().error.param).toBe('stream');
    const after = await t.container.db.kysely.selectFrom('image_jobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('runs at most max_concurrency jobs at once on a provider; the others wait queued', async () => {
    const held: Array<() => void> = [];
    let inFlight = 0;
    let most = 0;
    upstream.handler = (req: RecordedRequest, res: http.ServerResponse) => {
      inFlight++;
      most = Math.max(most, inFlight);
      held.push(() => {
        inFlight--;
        answerImages(image)(req, res);
      });
    };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await submit(alice, { prompt: `job ${i}` })).json().id);
    await until(() => (held.length === 1 ? true : undefined), 'the first job to reach the upstream');
    // A full poll: it claims whatever it may.
    await t.container.imageJobRunner.kick();
    const statuses = await Promise.all(ids.map(async (id) => (await jobStatus(t, alice, id)).status));
    expect(statuses.filter((s) => s === 'running')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'queued')).toHaveLength(2);
    for (let released = 0; released < 3; released++) {
      await until(() => (held.length > released ? true : undefined), `job ${released} to reach the upstream`);
      held[released]!();
    }
    for (const id of ids) expect((await finished(t, alice, id)).status).toBe('succeeded');
    expect(most).toBe(1);
  });
});

describe.each(DATABASES)('two instances sharing one database on %s', (kind) => {
  let upstream: Upstream;
  let t: TestApp;
  let other: Container;
  let alice: Guest;

  beforeAll(async () => {
    upstream = await imageUpstream(await png(8, 8, '#cc9900'));
    // Room for every job on both instances, so both try to claim all of them at once.
    t = await startApp(kind, { ...NO_IMAGE_LIMIT, EASEL_PROVIDERS: jobsOn(upstream, 10) });
    other = await createContainer(loadConfig(t.env));
    alice = await t.guest();
  });
  afterAll(async () => {
    await other.close();
    await t.close();
    await upstream.close();
  });

  it('never run the same job: each is claimed by one of them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await t.as(alice.token, { method: 'POST', url: '/v1/images/generations', headers: ASYNC, payload: { prompt: `job ${i}` } });
      ids.push(res.json().id);
    }
    t.container.imageJobRunner.start();
    other.imageJobRunner.start();
    await Promise.all([t.container.imageJobRunner.kick(), other.imageJobRunner.kick()]);
    for (const id of ids) expect((await finished(t, alice, id)).status).toBe('succeeded');
    const prompts = generations(upstream).map((r) => bodyOf(r).prompt).sort();
    expect(prompts).toEqual(ids.map((_, i) => `job ${i}`).sort());
  });
});
