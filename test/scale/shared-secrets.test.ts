// Two instances on one PostgreSQL schema share JWT keys and the media URL secret through the database.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { buildApp } from '../../src/app.ts';
import type { FastifyInstance } from 'fastify';
import { dropSchema, guestLogin, tempDir, testEnv } from '../helpers/app.ts';

interface Instance {
  app: FastifyInstance;
  container: Container;
  dataDir: string;
}

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const dataDir = tempDir();
  const container = await createContainer(loadConfig({ ...env, DATA_DIR: dataDir }));
  const app = await buildApp(container, { logger: false });
  await app.ready();
  return { app, container, dataDir };
}

const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;

const me = (instance: Instance, token: string) =>
  instance.app.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${token}` } });

/** An instance picks up a key another one created on its next reload (throttled to one a second); wait for it. */
async function eventuallyAccepted(instance: Instance, token: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { statusCode } = await me(instance, token);
    if (statusCode === 200 || Date.now() > deadline) return statusCode;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('shared secrets between two instances on one PostgreSQL schema', () => {
  const env = testEnv('postgres');
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    // Started at the same moment on a fresh schema: migrations and first keys must not collide.
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
  });
  afterAll(async () => {
    for (const instance of [a, b]) {
      if (!instance) continue;
      await instance.app.close();
      await instance.container.close();
      fs.rmSync(instance.dataDir, { recursive: true, force: true });
    }
    await dropSchema(env.DATABASE_SCHEMA!);
    fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  it('verifies on each instance the access tokens the other signed', async () => {
    const fromA = await guestLogin(a.app);
    const fromB = await guestLogin(b.app);
    expect(await eventuallyAccepted(b, fromA.token)).toBe(200);
    expect(await eventuallyAccepted(a, fromB.token)).toBe(200);
    expect((await me(b, fromA.token)).json().user_id).toBe(fromA.userId);
    expect((await me(a, fromB.token)).json().user_id).toBe(fromB.userId);
  });

  it('refreshes on one instance a token issued by the other, once', async () => {
    const guest = await guestLogin(a.app);
    const refresh = (instance: Instance, token: string) =>
      instance.app.inject({ method: 'POST', url: '/auth/refresh-token', payload: { refresh_token: token } });
    const first = await refresh(b, guest.refreshToken);
    expect(first.statusCode).toBe(200);
    expect((await refresh(a, guest.refreshToken)).statusCode).toBe(401);
  });

  it('signs media URLs that the other instance accepts, with one shared secret', () => {
    const url = new URL(a.container.mediaUrls.url('https://media.example', 'jan_01jg8x0v9q4m6t2w7k3c5r8b1d', 'image/png'));
    const exp = url.searchParams.get('exp')!;
    const sig = url.searchParams.get('sig')!;
    expect(b.container.mediaUrls.verify('jan_01jg8x0v9q4m6t2w7k3c5r8b1d', exp, sig)).toBe('ok');
    expect(b.container.mediaUrls.verify('jan_01jg8x0v9q4m6t2w7k3c5r8b1e', exp, sig)).toBe('invalid');
    const fromB = new URL(b.container.mediaUrls.url('https://media.example', 'jan_01jg8x0v9q4m6t2w7k3c5r8b1d', 'image/png'));
    expect(a.container.mediaUrls.verify('jan_01jg8x0v9q4m6t2w7k3c5r8b1d', fromB.searchParams.get('exp')!, fromB.searchParams.get('sig')!)).toBe('ok');
  });

  it('after a rotation on one instance, the new key signs and old tokens still verify on both', async () => {
    const before = await guestLogin(a.app);
    const oldKid = kidOf(before.token);

    const newKid = await a.container.keys.rotate();
    expect(newKid).not.toBe(oldKid);
    const after = await guestLogin(a.app);
    expect(kidOf(after.token)).toBe(newKid);

    // B learns the new key from the database when it first meets its kid…
    expect(await eventuallyAccepted(b, after.token)).toBe(200);
    // …and from then on signs with it too.
    expect(kidOf((await guestLogin(b.app)).token)).toBe(newKid);

    for (const instance of [a, b]) {
      expect((await me(instance, before.token)).statusCode).toBe(200);
      expect((await me(instance, after.token)).statusCode).toBe(200);
    }
    // Both publish both keys until the old one is retired.
    for (const instance of [a, b]) {
      const { keys } = (await instance.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      expect(keys.map((k: { kid: string }) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    }
  });
});
