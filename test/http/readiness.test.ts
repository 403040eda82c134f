import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';

describe('readiness with the S3 media store', () => {
  let s3: TestS3;
  let t: TestApp;
  beforeAll(async () => {
    s3 = await startS3();
    t = await startApp('sqlite', s3.env);
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop().catch(() => undefined);
  });

  it('reports the database and the media store, and fails when the bucket is unreachable', async () => {
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { database: { status: 'ok' }, media: { status: 'ok' } } });

    await s3.stop();
    const down = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: 'error', checks: { database: { status: 'ok' }, media: { status: 'error' } } });
    expect(down.body).not.toContain(s3.endpoint);
  });
});
