import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, jwtVerify, createLocalJWKSet } from 'jose';
import { DATABASES, startApp, type TestApp } from '../helpers/app.ts';

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe.each(DATABASES)('auth on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(kind);
  });
  afterAll(() => t.close());

  it('guest login answers the guide\'s shape with an RS256 token', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/auth/guest-login', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(body.user_id).toMatch(/^guest-[0-9a-z]{26}$/);
    expect(body.username).toBe(body.user_id);
    expect(body.refresh_token).toMatch(/^rt_/);
    expect(decodeProtectedHeader(body.access_token)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ sub: body.user_id, iss: 'easel', aud: 'easel-api' });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(typeof claims.jti).toBe('string');
    expect(res.headers['x-request-id']).toMatch(/^req_/);
  });

  it('guest login works with no body and no content type', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/auth/guest-login' })).statusCode).toBe(201);
  });

  it('publishes a JWKS that verifies issued tokens', async () => {
    const guest = await t.guest();
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(key.d).toBeUndefined();
    }
    const { payload } = await jwtVerify(guest.token, createLocalJWKSet(jwks), { issuer: 'easel', audience: 'easel-api' });
    expect(payload.sub).toBe(guest.userId);
  });

  it('/auth/me returns the caller', async () => {
    const guest = await t.guest();
    const res = await t.as(guest.token, { method: 'GET', url: '/auth/me' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: guest.userId, user_id: guest.userId, kind: 'guest', object: 'user' });
  });

  it('rotates refresh tokens and revokes the family on reuse', async () => {
    const guest = await t.guest();
    const first = await t.app.inject({ method: 'POST', url: '/auth/refresh-token', payload: { refresh_token: guest.refreshToken } });
    expect(first.statusCode).toBe(200);
    const pair = first.json();
    expect(pair.user_id).toBe(guest.userId);
    expect(pair.refresh_token).not.toBe(guest.refreshToken);
    expect((await t.as(pair.access_token, { method: 'GET', url: '/auth/me' })).statusCode).toBe(200);

    // The old token again: refused, and the whole family (including the new token) is revoked.
    const reuse = await t.app.inject({ method: 'POST', url: '/auth/refresh-token', payload: { refresh_token: guest.refreshToken } });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().error.type).toBe('authentication_error');
    const afterReuse = await t.app.inject({ method: 'POST', url: '/auth/refresh-token', payload: { refresh_token: pair.refresh_token } });
    expect(afterReuse.statusCode).toBe(401);
  });

  it('lets only one of two concurrent refreshes win', async () => {
    const guest = await t.guest();
    const results = await Promise.all([0, 1].map(() => t.app.inject({ method: 'POST', url: '/auth/refresh-token', payload: { refresh_token: guest.refreshToken } })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401]);
  });

  it('logout revokes the refresh token', async () => {
    const guest = await t.guest();
    const out = await t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: guest.refreshToken } });
    expect(out.statusCode).toBe(204);
    const res = await t.app.inject({ method: 'POST', url: '/auth/refresh-token', payload: { refresh_token: guest.refreshToken } });
    expect(res.statusCode).toBe(401);
  });

  it('refuses unknown, malformed and missing refresh tokens', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/auth/refresh-token', payload: { refresh_token: 'rt_nope' } })).statusCode).toBe(401);
    const missing = await t.app.inject({ method: 'POST', url: '/auth/refresh-token', payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.param).toBe('refresh_token');
    expect((await t.app.inject({ method: 'POST', url: '/auth/refresh-token', payload: { refresh_token: 5 } })).statusCode).toBe(400);
  });

  describe('rejects bad access tokens with 401', () => {
    const expectRejected = async (authorization: string | undefined) => {
      const res = await t.app.inject({ method: 'GET', url: '/v1/conversations', headers: authorization === undefined ? {} : { authorization } });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toMatchObject({ type: 'authentication_error' });
      return res;
    };

    it('missing or malformed header', async () => {
      await expectRejected(undefined);
      await expectRejected('Bearer');
      await expectRejected('Basic dXNlcjpwYXNz');
      await expectRejected('Bearer not.a.jwt');
      await expectRejected('Bearer a b');
    });

    it('alg none', async () => {
      const guest = await t.guest();
      const claims = decodeJwt(guest.token);
      await expectRejected(`Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`);
    });

    it('HS256 signed with the public key', async () => {
      const guest = await t.guest();
      const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
      const forged = await new SignJWT(decodeJwt(guest.token)).setProtectedHeader({ alg: 'HS256', kid: jwks.keys[0].kid }).sign(secret);
      await expectRejected(`Bearer ${forged}`);
    });

    it('signed by a key Easel does not have, under its kid', async () => {
      const guest = await t.guest();
      const { kid } = decodeProtectedHeader(guest.token);
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT(decodeJwt(guest.token)).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
      await expectRejected(`Bearer ${forged}`);
      const unknownKid = await new SignJWT(decodeJwt(guest.token)).setProtectedHeader({ alg: 'RS256', kid: 'nope' }).sign(privateKey);
      await expectRejected(`Bearer ${unknownKid}`);
    });

    it('expired, wrong issuer, wrong audience, tampered payload', async () => {
      const guest = await t.guest();
      const row = (await t.container.db.kysely.selectFrom('jwt_keys').selectAll().executeTakeFirstOrThrow());
      const key = await importJWK(JSON.parse(row.private_jwk), 'RS256');
      const sign = (claims: Record<string, unknown>) =>
        new SignJWT({ ...decodeJwt(guest.token), ...claims }).setProtectedHeader({ alg: 'RS256', kid: row.kid }).sign(key);
      const now = Math.floor(Date.now() / 1000);
      const expired = await expectRejected(`Bearer ${await sign({ iat: now - 7200, exp: now - 3600 })}`);
      expect(expired.json().error.message).toMatch(/expired/i);
      await expectRejected(`Bearer ${await sign({ iss: 'someone-else' })}`);
      await expectRejected(`Bearer ${await sign({ aud: 'other-api' })}`);
      // Sanity: the same key and claims, unchanged, are accepted — so the rejections above are about the claims.
      const good = await t.app.inject({ method: 'GET', url: '/v1/conversations', headers: { authorization: `Bearer ${await sign({})}` } });
      expect(good.statusCode).toBe(200);
      const [h, p, s] = guest.token.split('.');
      const tampered = `${h}.${b64url({ ...decodeJwt(guest.token), sub: 'guest-someoneelse' })}.${s}`;
      expect(p).not.toBe(tampered.split('.')[1]);
      await expectRejected(`Bearer ${tampered}`);
    });
  });

  it('keeps keys across a restart of the app on the same database', async () => {
    const guest = await t.guest();
    const { createContainer } = await import('../../src/container.ts');
    const { loadConfig } = await import('../../src/config.ts');
    const { buildApp } = await import('../../src/app.ts');
    const container = await createContainer(loadConfig(t.env));
    const app = await buildApp(container, { logger: false });
    try {
      const res = await app.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${guest.token}` } });
      expect(res.statusCode).toBe(200);
    } finally {
      await app.close();
      await container.close();
    }
  });

  it('a rotated key signs new tokens while old tokens still verify', async () => {
    const before = await t.guest();
    const newKid = await t.container.keys.rotate();
    const after = await t.guest();
    expect(decodeProtectedHeader(after.token).kid).toBe(newKid);
    expect(decodeProtectedHeader(before.token).kid).not.toBe(newKid);
    for (const g of [before, after]) expect((await t.as(g.token, { method: 'GET', url: '/auth/me' })).statusCode).toBe(200);
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual(expect.arrayContaining([newKid, decodeProtectedHeader(before.token).kid]));
    // A retired key stops verifying.
    await t.container.keys.retire(decodeProtectedHeader(before.token).kid!);
    expect((await t.as(before.token, { method: 'GET', url: '/auth/me' })).statusCode).toBe(401);
    expect((await t.as(after.token, { method: 'GET', url: '/auth/me' })).statusCode).toBe(200);
  });
});

describe('key ring across instances', () => {
  it('a second instance accepts tokens signed with a key made after it loaded, at once', async () => {
    const a = await startApp('postgres');
    const { createContainer } = await import('../../src/container.ts');
    const { loadConfig } = await import('../../src/config.ts');
    const { buildApp } = await import('../../src/app.ts');
    const container = await createContainer(loadConfig(a.env));
    const b = await buildApp(container, { logger: false });
    try {
      await a.container.keys.rotate();
      const guest = await a.guest();
      // b loaded its ring before the rotation; the unknown kid makes it reload instead of refusing.
      const res = await b.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${guest.token}` } });
      expect(res.statusCode).toBe(200);
    } finally {
      await b.close();
      await container.close();
      await a.close();
    }
  });

  it('a key retired on one instance stops verifying on another within JWT_KEYS_RELOAD_SECONDS; the last signing key is never retired', async () => {
    const a = await startApp('postgres');
    const { createContainer } = await import('../../src/container.ts');
    const { loadConfig } = await import('../../src/config.ts');
    const { buildApp } = await import('../../src/app.ts');
    const container = await createContainer(loadConfig({ ...a.env, JWT_KEYS_RELOAD_SECONDS: '1' }));
    const b = await buildApp(container, { logger: false });
    const me = (token: string) => b.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${token}` } });
    try {
      const before = await a.guest();
      const oldKid = decodeProtectedHeader(before.token).kid!;
      const newKid = await a.container.keys.rotate();
      expect((await me(before.token)).statusCode).toBe(200); // b has verified it (and remembers it)
      await a.container.keys.retire(oldKid);
      // b learns of the retirement from the database at its next reload, with no token to prompt it.
      const deadline = Date.now() + 5_000;
      let status = 200;
      while (status === 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await me(before.token)).statusCode;
      }
      expect(status).toBe(401);
      expect(container.keys.jwks().keys.map((k) => k.kid)).toEqual([newKid]);
      // The one key left signs every new token: retiring it is refused, on the database itself.
      await expect(a.container.keys.retire(newKid)).rejects.toThrow(/only key left to sign with/);
      await expect(a.container.keys.retire('no-such-kid')).rejects.toThrow(/No JWT key no-such-kid/);
      await a.container.keys.retire(oldKid); // already retired: nothing to do
      expect((await a.container.keys.list()).map((k) => [k.kid, k.signing, k.retired_at === null])).toEqual([[newKid, true, true], [oldKid, false, false]]);
    } finally {
      await b.close();
      await container.close();
      await a.close();
    }
  });
});
