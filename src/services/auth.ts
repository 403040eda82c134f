// Guest accounts, RS256 access tokens and rotating refresh tokens.
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Config } from '../config.ts';
import { unauthorized } from '../lib/errors.ts';
import { newUserId, ulid } from '../lib/ids.ts';
import { toSeconds } from '../lib/time.ts';
import type { User } from '../store/db/schema.ts';
import type { UsersRepository } from '../store/db/repositories/users.ts';
import type { RefreshTokensRepository } from '../store/db/repositories/refresh-tokens.ts';
import type { KeyRing } from './keys.ts';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface Principal {
  userId: string;
  /** How the caller proved who they are. */
  via: 'jwt' | 'api_key';
}

/** Verifies bearer credentials that are not JWTs (API keys); returns undefined when the token is not one. */
export type CredentialVerifier = (token: string) => Promise<Principal | undefined>;

interface VerifiedToken {
  sub: string;
  /** Unix seconds. */
  exp: number;
  kid: string;
}

const VERIFIED_CACHE_SIZE = 10_000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class AuthService {
  private readonly config: Config['auth'];
  private readonly users: UsersRepository;
  private readonly refreshTokens: RefreshTokensRepository;
  private readonly keys: KeyRing;
  private readonly verifiers: CredentialVerifier[] = [];
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(deps: { config: Config['auth']; users: UsersRepository; refreshTokens: RefreshTokensRepository; keys: KeyRing }) {
    this.config = deps.config;
    this.users = deps.users;
    this.refreshTokens = deps.refreshTokens;
    this.keys = deps.keys;
  }

  /** Other credential kinds (API keys) plug in here. */
  addVerifier(verifier: CredentialVerifier): void {
    this.verifiers.push(verifier);
  }

  async guestLogin(): Promise<{ user: User; tokens: TokenPair }> {
    const id = newUserId('guest');
    const user = await this.users.create({ id, username: id, kind: 'guest', created_at: Date.now() });
    return { user, tokens: await this.issue(user.id, ulid()) };
  }

  async refresh(refreshToken: string): Promise<{ user: User; tokens: TokenPair }> {
    const row = await this.refreshTokens.findByHash(hashToken(refreshToken));
    const now = Date.now();
    if (!row || row.revoked_at !== null || row.expires_at <= now) throw unauthorized('Invalid or expired refresh token');
    if (!(await this.refreshTokens.claim(row.id, now))) {
      // A used token shown again means it leaked: end the whole session family.
      await this.refreshTokens.revokeFamily(row.family_id, now);
      throw unauthorized('Refresh token was already used; the session has been revoked');
    }
    const user = await this.users.find(row.user_id);
    if (!user) throw unauthorized('Invalid or expired refresh token');
    return { user, tokens: await this.issue(user.id, row.family_id) };
  }

  async logout(refreshToken: string): Promise<void> {
    const row = await this.refreshTokens.findByHash(hashToken(refreshToken));
    if (row) await this.refreshTokens.revokeFamily(row.family_id, Date.now());
  }

  async me(userId: string): Promise<User> {
    const user = await this.users.find(userId);
    if (!user) throw unauthorized('The user of this token no longer exists');
    return user;
  }

  /** Resolves a bearer token to a principal, or throws 401. */
  async authenticate(token: string): Promise<Principal> {
    for (const verify of this.verifiers) {
      const principal = await verify(token);
      if (principal) return principal;
    }
    return { userId: await this.verifyAccessToken(token), via: 'jwt' };
  }

  async verifyAccessToken(token: string): Promise<string> {
    // An RSA signature check costs ~100 µs; a token already verified is taken from memory until it
    // expires or its key is retired.
    const known = this.verified.get(token);
    if (known && known.exp * 1000 > Date.now() && this.keys.isActive(known.kid)) return known.sub;
    try {
      const { payload, protectedHeader } = await jwtVerify(token, async (header) => {
        const key = await this.keys.verificationKey(header.kid);
        if (!key) throw new joseErrors.JWKSNoMatchingKey();
        return key;
      }, {
        algorithms: ['RS256'],
        issuer: this.config.issuer,
        audience: this.config.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      this.remember(token, { sub: payload.sub!, exp: payload.exp!, kid: protectedHeader.kid! });
      return payload.sub!;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthorized('Access token has expired');
      throw unauthorized('Invalid access token');
    }
  }

  private remember(token: string, claims: VerifiedToken): void {
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      // Oldest first: a Map iterates in insertion order.
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(token, claims);
  }

  private async issue(userId: string, familyId: string): Promise<TokenPair> {
    const now = Date.now();
    const { kid, key } = this.keys.signingKey();
    const ttl = this.config.accessTokenTtlSeconds;
    const accessToken = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(this.config.issuer)
      .setAudience(this.config.audience)
      .setIssuedAt(toSeconds(now))
      .setExpirationTime(toSeconds(now) + ttl)
      .setJti(ulid())
      .sign(key);
    const refreshToken = `rt_${randomBytes(32).toString('base64url')}`;
    await this.refreshTokens.insert({
      id: ulid(),
      user_id: userId,
      family_id: familyId,
      token_hash: hashToken(refreshToken),
      expires_at: now + this.config.refreshTokenTtlSeconds * 1000,
      used_at: null,
      revoked_at: null,
      created_at: now,
    });
    return { access_token: accessToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: ttl };
  }
}
