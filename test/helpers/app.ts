// Builds the real app on a real database for a test: a temporary SQLite file, or a fresh PostgreSQL schema.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { buildApp } from '../../src/app.ts';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type DatabaseKind = 'sqlite' | 'postgres';
export const DATABASES: DatabaseKind[] = ['sqlite', 'postgres'];

export function tempDir(prefix = 'easel-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Environment for one isolated test instance on the given database. */
export function testEnv(kind: DatabaseKind, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { DATA_DIR: tempDir(), LOG_LEVEL: 'silent' };
  if (kind === 'postgres') {
    env.DATABASE_URL = POSTGRES_URL;
    env.DATABASE_SCHEMA = `test_${randomBytes(6).toString('hex')}`;
  }
  return { ...env, ...extra };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

export interface TestApp {
  app: FastifyInstance;
  container: Container;
  env: Record<string, string>;
  /** inject with a bearer token. */
  as(token: string, options: InjectOptions): Promise<LightMyRequestResponse>;
  guest(): Promise<Guest>;
  close(): Promise<void>;
}

export interface Guest {
  token: string;
  refreshToken: string;
  userId: string;
  headers: { authorization: string };
}

export async function startApp(kind: DatabaseKind = 'sqlite', extra: Record<string, string> = {}): Promise<TestApp> {
  const env = testEnv(kind, extra);
  const container = await createContainer(loadConfig(env));
  const app = await buildApp(container, { logger: false });
  await app.ready();
  return {
    app,
    container,
    env,
    as: (token, options) => app.inject({ ...options, headers: { ...options.headers, authorization: `Bearer ${token}` } }),
    guest: () => guestLogin(app),
    async close() {
      await app.close();
      await container.close();
      if (env.DATABASE_SCHEMA) await dropSchema(env.DATABASE_SCHEMA);
      fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
    },
  };
}

export async function guestLogin(app: FastifyInstance): Promise<Guest> {
  const res = await app.inject({ method: 'POST', url: '/auth/guest-login', payload: {} });
  if (res.statusCode !== 201) throw new Error(`guest login failed: ${res.statusCode} ${res.body}`);
  const body = res.json();
  return { token: body.access_token, refreshToken: body.refresh_token, userId: body.user_id, headers: { authorization: `Bearer ${body.access_token}` } };
}
