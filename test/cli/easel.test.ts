// The `easel` command, run for real (process.execPath bin/easel.ts …) against a temporary SQLite DATA_DIR.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createContainer } from '../../src/container.ts';
import { decodeProtectedHeader } from 'jose';
import { ROOT, startServer } from '../helpers/server-process.ts';
import { tempDir } from '../helpers/app.ts';

const BIN = path.join(ROOT, 'bin/easel.ts');

interface Result { code: number; stdout: string; stderr: string }

function easel(args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('easel CLI', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let userId: string;

  beforeAll(async () => {
    dataDir = tempDir('easel-cli-');
    env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  /** Work with the same database in-process, the way a running server would. */
  async function withContainer<T>(fn: (c: Awaited<ReturnType<typeof createContainer>>) => Promise<T>): Promise<T> {
    const container = await createContainer(loadConfig(env));
    try {
      return await fn(container);
    } finally {
      await container.close();
    }
  }

  it('starts with a shebang for node', () => {
    expect(fs.readFileSync(BIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('migrates a fresh database, then finds it up to date', async () => {
    const first = await easel(['migrate'], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain('applied 0001_initial');
    expect(first.stdout).toContain('applied 0003_usage');
    const again = await easel(['migrate'], env);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe('Database is up to date.');
  });

  it('lists users', async () => {
    userId = await withContainer(async (c) => (await c.auth.guestLogin()).user.id);
    const table = await easel(['users', 'list'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^${userId}\\s+guest\\s+\\d{4}-`, 'm'));
    const json = await easel(['users', 'list', '--json', '--limit', '5'], env);
    expect(JSON.parse(json.stdout)).toContainEqual(expect.objectContaining({ id: userId, kind: 'guest' }));
  });

  it('creates an API key that authenticates as the user, and lists and revokes it', async () => {
    const created = await easel(['keys', 'create', '--user', userId, '--name', 'deploy bot', '--expires-in-days', '30'], env);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^sk_live_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/^Created API key key_\w+ \(deploy bot\)/);
    expect(await withContainer((c) => c.auth.authenticate(key))).toEqual({ userId, via: 'api_key' });

    const listed = JSON.parse((await easel(['keys', 'list', '--user', userId, '--json'], env)).stdout);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name: 'deploy bot', expires_at: expect.any(Number) });
    expect(JSON.stringify(listed)).not.toContain(key);

    const revoked = await easel(['keys', 'revoke', '--user', userId, '--id', listed[0].id], env);
    expect(revoked.code).toBe(0);
    await expect(withContainer((c) => c.auth.authenticate(key))).rejects.toMatchObject({ status: 401 });
  });

  it('rotates the JWT signing key, keeping the old one for verification', async () => {
    const before = await withContainer(async (c) => c.keys.jwks().keys.map((k) => k.kid));
    const res = await easel(['jwt', 'rotate'], env);
    expect(res.code).toBe(0);
    const kid = /New signing key (\S+)/.exec(res.stdout)?.[1];
    expect(kid).toBeDefined();
    const after = await withContainer(async (c) => ({ kids: c.keys.jwks().keys.map((k) => k.kid), signing: c.keys.signingKey().kid }));
    expect(after.signing).toBe(kid);
    expect(after.kids).toEqual(expect.arrayContaining([...before, kid]));
  });

  it('lists the JWT keys and retires one: a running server refuses its tokens within JWT_KEYS_RELOAD_SECONDS', async () => {
    const server = await startServer({ ...env, JWT_KEYS_RELOAD_SECONDS: '1' });
    try {
      const login = async () => (await (await fetch(`${server.url}/auth/guest-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()).access_token as string;
      const me = async (token: string) => (await fetch(`${server.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status;
      const token = await login();
      const listed = await easel(['jwt', 'list', '--json'], env);
      expect(listed.code).toBe(0);
      const keys = JSON.parse(listed.stdout) as Array<{ kid: string; signing: boolean; retired_at: number | null }>;
      const signing = keys.find((k) => k.signing)!;
      expect(keys.filter((k) => k.signing)).toHaveLength(1);
      expect(listed.stdout).not.toMatch(/"d"|private/); // never the key material

      const rotated = /New signing key (\S+)/.exec((await easel(['jwt', 'rotate'], env)).stdout)![1]!;
      const retired = await easel(['jwt', 'retire', '--kid', signing.kid], env);
      expect(retired).toMatchObject({ code: 0, stdout: `Retired ${signing.kid}\n` });
      const deadline = Date.now() + 5_000;
      while ((await me(token)) === 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await me(token)).toBe(401);
      // By then the server has the new key too, and signs with it.
      expect(decodeProtectedHeader(await login()).kid).toBe(rotated);

      const table = (await easel(['jwt', 'list'], env)).stdout;
      expect(table).toMatch(new RegExp(`^${rotated}  \\d{4}-\\S+  signing$`, 'm'));
      expect(table).toMatch(new RegExp(`^${signing.kid}  \\d{4}-\\S+  retired \\d{4}-`, 'm'));
    } finally {
      await server.stop();
    }
  });

  it('refuses to retire an unknown key or the only key that can sign, and needs --kid', async () => {
    const list = async () => JSON.parse((await easel(['jwt', 'list', '--json'], env)).stdout) as Array<{ kid: string; signing: boolean; retired_at: number | null }>;
    for (const k of (await list()).filter((k) => !k.signing && k.retired_at === null)) expect((await easel(['jwt', 'retire', '--kid', k.kid], env)).code).toBe(0);
    const signing = (await list()).find((k) => k.signing)!;
    const last = await easel(['jwt', 'retire', '--kid', signing.kid], env);
    expect(last).toMatchObject({ code: 1, stderr: `easel: JWT key ${signing.kid} is the only key left to sign with: rotate first, then retire it\n` });
    expect((await list()).find((k) => k.kid === signing.kid)).toMatchObject({ signing: true, retired_at: null });
    expect(await easel(['jwt', 'retire', '--kid', 'nope'], env)).toMatchObject({ code: 1, stderr: 'easel: No JWT key nope\n' });
    expect(await easel(['jwt', 'retire'], env)).toMatchObject({ code: 2, stderr: 'easel: --kid <kid> is required\n' });
  });

  it('prunes media files no row refers to, once they are older than the grace period', async () => {
    const mediaDir = path.join(dataDir, 'media');
    const write = (key: string, ageHours: number) => {
      const file = path.join(mediaDir, key);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, 'bytes');
      const when = new Date(Date.now() - ageHours * 3_600_000);
      fs.utimesSync(file, when, when);
    };
    write('aa/jan_01jg8x0v9q4m6t2w7k3c5r8baa.png', 48); // orphan, old
    write('bb/jan_01jg8x0v9q4m6t2w7k3c5r8bbb.png', 48); // has a row
    write('cc/jan_01jg8x0v9q4m6t2w7k3c5r8bcc.png', 0); // orphan, but fresh: maybe being recorded right now
    await withContainer((c) => c.db.kysely.insertInto('media').values({
      id: 'jan_01jg8x0v9q4m6t2w7k3c5r8bbb', user_id: userId, mime: 'image/png', bytes: 5, sha256: 'x', storage_key: 'bb/jan_01jg8x0v9q4m6t2w7k3c5r8bbb.png', created_at: Date.now(),
    }).execute());

    const dry = await easel(['media', 'prune', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would delete aa/jan_01jg8x0v9q4m6t2w7k3c5r8baa.png');
    expect(dry.stdout).toContain('Scanned 3 files: 1 orphaned');
    expect(fs.existsSync(path.join(mediaDir, 'aa/jan_01jg8x0v9q4m6t2w7k3c5r8baa.png'))).toBe(true);

    const real = await easel(['media', 'prune', '--grace-hours', '24'], env);
    expect(real.code).toBe(0);
    expect(real.stdout).toContain('deleted 1 orphaned');
    expect(fs.existsSync(path.join(mediaDir, 'aa/jan_01jg8x0v9q4m6t2w7k3c5r8baa.png'))).toBe(false);
    expect(fs.existsSync(path.join(mediaDir, 'bb/jan_01jg8x0v9q4m6t2w7k3c5r8bbb.png'))).toBe(true);
    expect(fs.existsSync(path.join(mediaDir, 'cc/jan_01jg8x0v9q4m6t2w7k3c5r8bcc.png'))).toBe(true);
  });

  it('prints help for every command with exit code 0', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['migrate', '--help'], ['keys', '--help'], ['keys', 'create', '--help'], ['users', 'list', '--help'], ['media', 'prune', '--help'], ['jwt', 'rotate', '--help'], ['jwt', 'list', '--help'], ['jwt', 'retire', '--help']]) {
      const res = await easel(args, env);
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stdout, args.join(' ')).toMatch(/^Usage: easel/);
    }
  });

  it('answers usage mistakes with exit code 2 and failures with 1, each in one line', async () => {
    const cases: Array<[string[], number, RegExp, Record<string, string>?]> = [
      [[], 2, /missing command/],
      [['frobnicate'], 2, /unknown command 'frobnicate'/],
      [['keys'], 2, /missing command for 'easel keys'/],
      [['keys', 'create'], 2, /--user <user_id> is required/],
      [['keys', 'create', '--user', 'x', '--bogus'], 2, /Unknown option '--bogus'/],
      [['keys', 'create', '--user', 'x', '--expires-in-days', 'soon'], 2, /--expires-in-days must be a whole number/],
      [['users', 'list', '--limit', '0'], 2, /--limit must be/],
      [['users', 'list'], 2, /invalid configuration: LOG_LEVEL/, { LOG_LEVEL: 'loud' }],
      [['keys', 'create', '--user', 'guest-nobody'], 1, /No user with id 'guest-nobody'/],
    ];
    for (const [args, code, message, extra] of cases) {
      const res = await easel(args, { ...env, ...extra });
      expect(res.code, args.join(' ')).toBe(code);
      expect(res.stderr, args.join(' ')).toMatch(message);
      expect(res.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(res.stderr).toMatch(/^easel: /);
    }
  });

  it('serves until SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const { freePort } = await import('../helpers/server-process.ts');
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    try {
      let healthy = false;
      for (let i = 0; i < 200 && !healthy; i++) {
        healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
        if (!healthy) await new Promise((r) => setTimeout(r, 50));
      }
      expect(healthy).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
