import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { LAST_USED_RESOLUTION_MS, MAX_KEYS_PER_USER } from '../../src/services/api-keys.ts';

describe.each(DATABASES)('API keys on %s', (kind) => {
  let t: TestApp;
  let alice: Guest;
  let bob: Guest;

  beforeAll(async () => {
    t = await startApp(kind);
    alice = await t.guest();
    bob = await t.guest();
  });
  afterAll(() => t.close());

  const create = (token: string, payload: object) => t.as(token, { method: 'POST', url: '/auth/api-keys', payload });
  const list = async (token: string) => (await t.as(token, { method: 'GET', url: '/auth/api-keys' })).json().data;
  const row = (id: string) => t.container.db.kysely.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('creates a key shown once, stores only its hash, and lists it without the key', async () => {
    const res = await create(alice.token, { name: 'laptop' });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({ object: 'api_key', name: 'laptop', last_used_at: null, expires_at: null });
    expect(created.id).toMatch(/^key_[0-9a-z]{26}$/);
    expect(created.key).toMatch(/^sk_live_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created.key.endsWith(created.suffix)).toBe(true);

    const stored = await row(created.id);
    expect(JSON.stringify(stored)).not.toContain(created.key.slice(8));
    expect(stored.key_hash).toMatch(/^[0-9a-f]{64}$/);

    const listed = (await list(alice.token)).find((k: { id: string }) => k.id === created.id);
    const { key: _key, ...withoutKey } = created;
    expect(listed).toEqual(withoutKey);
    expect(await list(bob.token)).toEqual([]);
  });

  it('authenticates as its user wherever a token is accepted', async () => {
    const { key } = (await create(alice.token, { name: 'sdk' })).json();
    const me = await t.as(key, { method: 'GET', url: '/auth/me' });
    expect(me.statusCode).toBe(200);
    expect(me.json().id).toBe(alice.userId);
    const conv = await t.as(key, { method: 'POST', url: '/v1/conversations', payload: { title: 'via key' } });
    expect(conv.statusCode).toBe(200);
    const mine = await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.json().id}` });
    expect(mine.statusCode).toBe(200);
  });

  it('records last use at most once a minute', async () => {
    const { id, key } = (await create(alice.token, { name: 'busy' })).json();
    await t.as(key, { method: 'GET', url: '/auth/me' });
    const first = (await row(id)).last_used_at;
    expect(first).toEqual(expect.any(Number));
    await t.as(key, { method: 'GET', url: '/auth/me' });
    expect((await row(id)).last_used_at).toBe(first);
    // A use older than the resolution is refreshed on the next request.
    const old = first! - LAST_USED_RESOLUTION_MS - 1000;
    await t.container.db.kysely.updateTable('api_keys').set({ last_used_at: old }).where('id', '=', id).execute();
    await t.as(key, { method: 'GET', url: '/auth/me' });
    expect((await row(id)).last_used_at).toBeGreaterThan(old);
    const listed = (await list(alice.token)).find((k: { id: string }) => k.id === id);
    expect(listed.last_used_at).toEqual(expect.any(Number));
  });

  it('refuses a deleted key, an expired key and an unknown key with 401', async () => {
    const deleted = (await create(alice.token, { name: 'to delete' })).json();
    const del = await t.as(alice.token, { method: 'DELETE', url: `/auth/api-keys/${deleted.id}` });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ id: deleted.id, object: 'api_key.deleted', deleted: true });

    const expired = (await create(alice.token, { name: 'short', expires_in_days: 1 })).json();
    expect(expired.expires_at).toBeGreaterThan(expired.created_at);
    await t.container.db.kysely.updateTable('api_keys').set({ expires_at: Date.now() - 1000 }).where('id', '=', expired.id).execute();

    for (const key of [deleted.key, expired.key, 'sk_live_not-a-real-key-at-all-000000000000000000']) {
      const res = await t.as(key, { method: 'GET', url: '/v1/conversations' });
      expect(res.statusCode, key).toBe(401);
      expect(res.json().error.type).toBe('authentication_error');
      expect(res.body).not.toContain(key);
    }
    expect((await t.as(expired.key, { method: 'GET', url: '/auth/me' })).json().error.message).toMatch(/expired/);
  });

  it('deletes only the caller\'s own keys', async () => {
    const { id, key } = (await create(alice.token, { name: 'mine' })).json();
    const res = await t.as(bob.token, { method: 'DELETE', url: `/auth/api-keys/${id}` });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.type).toBe('not_found_error');
    expect((await t.as(key, { method: 'GET', url: '/auth/me' })).statusCode).toBe(200);
    expect((await t.as(alice.token, { method: 'DELETE', url: '/auth/api-keys/key_unknown' })).statusCode).toBe(404);
  });

  it('needs an access token to create a key, but a key may list and delete', async () => {
    const { id, key } = (await create(alice.token, { name: 'limited' })).json();
    const minted = await create(key, { name: 'child' });
    expect(minted.statusCode).toBe(403);
    expect(minted.json().error.type).toBe('permission_error');
    expect((await t.as(key, { method: 'GET', url: '/auth/api-keys' })).statusCode).toBe(200);
    expect((await t.as(key, { method: 'DELETE', url: `/auth/api-keys/${id}` })).statusCode).toBe(200);
    expect((await t.as(key, { method: 'GET', url: '/auth/me' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/auth/api-keys' })).statusCode).toBe(401);
  });

  it('validates the request', async () => {
    const future = Math.floor(Date.now() / 1000) + 3600;
    const cases: Array<[object, string]> = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x', expires_in_days: 0 }, 'expires_in_days'],
      [{ name: 'x', expires_in_days: '7' }, 'expires_in_days'],
      [{ name: 'x', expires_at: Math.floor(Date.now() / 1000) - 10 }, 'expires_at'],
      [{ name: 'x', expires_at: future, expires_in_days: 3 }, 'expires_at'],
      [{ name: 'x', scopes: ['all'] }, 'scopes'],
    ];
    for (const [payload, param] of cases) {
      const res = await create(alice.token, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error).toMatchObject({ type: 'invalid_request_error', param });
    }
    const dated = await create(alice.token, { name: 'dated', expires_at: future });
    expect(dated.statusCode).toBe(201);
    expect(dated.json().expires_at).toBe(future);
  });

  it(`limits a user to ${MAX_KEYS_PER_USER} keys`, async () => {
    const carol = await t.guest();
    for (let i = 0; i < MAX_KEYS_PER_USER; i++) expect((await create(carol.token, { name: `k${i}` })).statusCode).toBe(201);
    const over = await create(carol.token, { name: 'one too many' });
    expect(over.statusCode).toBe(409);
    expect(over.json().error.type).toBe('conflict_error');
  });
});
