import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type Guest, type TestApp } from '../helpers/app.ts';

const expectOpenAIError = (body: unknown) => {
  expect(body).toEqual({
    error: {
      message: expect.any(String),
      type: expect.any(String),
      param: expect.toSatisfy((p: unknown) => p === null || typeof p === 'string'),
      code: expect.toSatisfy((c: unknown) => c === null || typeof c === 'string'),
    },
  });
};

describe('errors are OpenAI-shaped', () => {
  let t: TestApp;
  let guest: Guest;
  beforeAll(async () => {
    t = await startApp('sqlite', { BODY_LIMIT_BYTES: '2048' });
    guest = await t.guest();
  });
  afterAll(() => t.close());

  it('unknown routes answer 404', async () => {
    for (const [method, url] of [['GET', '/nope'], ['POST', '/v1/nothing-here'], ['DELETE', '/auth/guest-login']] as const) {
      const res = await t.as(guest.token, { method, url });
      expect(res.statusCode, url).toBe(404);
      expectOpenAIError(res.json());
      expect(res.headers['x-request-id']).toBeTruthy();
    }
  });

  it('malformed JSON answers 400', async () => {
    const res = await t.as(guest.token, { method: 'POST', url: '/v1/conversations', headers: { 'content-type': 'application/json' }, payload: '{"title": ' });
    expect(res.statusCode).toBe(400);
    expectOpenAIError(res.json());
    expect(res.json().error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
  });

  it('a body that is not an object answers 400', async () => {
    for (const payload of ['[]', '"x"', '3', 'null']) {
      const res = await t.as(guest.token, { method: 'POST', url: '/v1/conversations', headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode, payload).toBe(400);
      expectOpenAIError(res.json());
    }
  });

  it('a wrong content type answers 415', async () => {
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const res = await t.as(guest.token, { method: 'POST', url: '/v1/conversations', headers: { 'content-type': type }, payload: 'title=x' });
      expect(res.statusCode, type).toBe(415);
      expectOpenAIError(res.json());
    }
  });

  it('a body over the limit answers 413', async () => {
    const res = await t.as(guest.token, { method: 'POST', url: '/v1/conversations', payload: { title: 'x'.repeat(4096) } });
    expect(res.statusCode).toBe(413);
    expectOpenAIError(res.json());
    expect(res.json().error.type).toBe('invalid_request_error');
  });

  it('strings are not numbers and numbers are not strings', async () => {
    const res = await t.as(guest.token, { method: 'POST', url: '/v1/conversations', payload: { metadata: { a: 3 } } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ type: 'invalid_request_error', param: 'metadata.a' });
  });

  it('names the allowed values of an enumerated field', async () => {
    const conv = (await t.as(guest.token, { method: 'POST', url: '/v1/conversations', payload: {} })).json();
    const res = await t.as(guest.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items?order=sideways` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ param: 'order', code: 'invalid_value' });
    expect(res.json().error.message).toBe(`Invalid value for 'order': expected one of "asc", "desc".`);
  });

  it('echoes a safe x-request-id and replaces an unsafe one', async () => {
    const kept = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'evil\u0000value with spaces' } });
    expect(replaced.headers['x-request-id']).toMatch(/^req_/);
  });

  it('health and readiness', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.database).toEqual({ status: 'ok' });
  });

  it('readiness fails when the database is gone', async () => {
    const other = await startApp('sqlite');
    await other.container.db.close();
    const res = await other.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().checks.database).toEqual({ status: 'error' });
    await other.app.close();
  });
});
