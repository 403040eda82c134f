// The JWT key ring, kept in the database so that every instance signs and verifies with the same keys.
// The newest key signs; older keys keep verifying until retired. Every instance reloads the ring every
// few seconds (so a rotation, or a retirement made by `easel jwt retire` or another instance, reaches it
// soon: a retired key is a key not to trust), and at once — coalesced, at most once per interval — when a
// token names a kid it has not seen (a key another instance just made).
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { JwtKeyRow, SecretsRepository } from '../store/db/repositories/secrets.ts';

interface LoadedKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  createdAt: number;
  retiredAt: number | null;
}

/** A key as operators see it: never its material. */
export interface KeyInfo {
  kid: string;
  created_at: number;
  retired_at: number | null;
  /** The key new tokens are signed with (the newest one not retired). */
  signing: boolean;
}

/** A key ring operation that cannot be done: an unknown kid, or retiring the last key that can sign. */
export class KeyRingError extends Error {
  override name = 'KeyRingError';
}

const MIN_RELOAD_INTERVAL_MS = 250;
export const DEFAULT_RELOAD_INTERVAL_MS = 5_000;

export class KeyRing {
  private readonly secrets: SecretsRepository;
  private keys: LoadedKey[] = [];
  private active = new Set<string>();
  private lastLoad = 0;
  private pendingReload: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly reloadIntervalMs: number;

  constructor(secrets: SecretsRepository, options: { reloadIntervalMs?: number } = {}) {
    this.secrets = secrets;
    this.reloadIntervalMs = options.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS;
  }

  /** Loads the keys, creating the first one on a fresh database. */
  async init(): Promise<void> {
    await this.reload();
    if (this.keys.length === 0) {
      await this.rotate();
    }
    this.timer = setInterval(() => void this.reloadSoon().catch(() => undefined), this.reloadIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Creates a new signing key; older keys still verify. */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256' };
    await this.secrets.insertJwtKey({
      kid,
      private_jwk: JSON.stringify(privateJwk),
      public_jwk: JSON.stringify(publicJwk),
      created_at: Date.now(),
      retired_at: null,
    });
    await this.reload();
    return kid;
  }

  /**
   * Stops a key from verifying, on every instance once it next reloads (within the reload interval).
   * Retiring a retired key does nothing; the last key that can sign is never retired (rotate first).
   */
  async retire(kid: string): Promise<void> {
    if (await this.secrets.retireJwtKey(kid, Date.now())) return this.reload();
    await this.reload();
    const key = this.keys.find((k) => k.kid === kid);
    if (!key) throw new KeyRingError(`No JWT key ${kid}`);
    if (key.retiredAt === null) throw new KeyRingError(`JWT key ${kid} is the only key left to sign with: rotate first, then retire it`);
  }

  /** Every key, newest first. */
  async list(): Promise<KeyInfo[]> {
    await this.reload();
    const signing = this.keys.find((k) => k.retiredAt === null)?.kid;
    return this.keys.map((k) => ({ kid: k.kid, created_at: k.createdAt, retired_at: k.retiredAt, signing: k.kid === signing }));
  }

  private async reload(): Promise<void> {
    const rows = await this.secrets.jwtKeys();
    // Key material never changes once written: only a key new to this instance is imported (RSA imports
    // are not free, and the ring reloads every few seconds).
    const loaded = new Map(this.keys.map((k) => [k.kid, k]));
    this.keys = await Promise.all(rows.map(async (row) => {
      const known = loaded.get(row.kid);
      return known ? { ...known, retiredAt: row.retired_at } : importKey(row);
    }));
    this.active = new Set(this.keys.filter((k) => k.retiredAt === null).map((k) => k.kid));
    this.lastLoad = Date.now();
  }

  /** Whether a kid may still verify tokens (known and not retired), as of the last load. */
  isActive(kid: string): boolean {
    return this.active.has(kid);
  }

  signingKey(): { kid: string; key: CryptoKey } {
    const key = this.keys.find((k) => k.retiredAt === null);
    if (!key) throw new Error('No active JWT signing key');
    return { kid: key.kid, key: key.privateKey };
  }

  /**
   * One reload shared by every caller that asks meanwhile, no sooner than the minimum interval after the
   * last: tokens with made-up kids cannot turn into a database query each.
   */
  private reloadSoon(): Promise<void> {
    this.pendingReload ??= (async () => {
      const wait = this.lastLoad + MIN_RELOAD_INTERVAL_MS - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await this.reload();
    })().finally(() => {
      this.pendingReload = undefined;
    });
    return this.pendingReload;
  }

  /** The public key for a kid, reloading the ring once when the kid is new to this instance. */
  async verificationKey(kid: string | undefined): Promise<CryptoKey | undefined> {
    const find = () => this.keys.find((k) => k.kid === kid && k.retiredAt === null)?.publicKey;
    const key = find();
    if (key || kid === undefined) return key;
    await this.reloadSoon();
    return find();
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.filter((k) => k.retiredAt === null).map((k) => k.publicJwk) };
  }
}

async function importKey(row: JwtKeyRow): Promise<LoadedKey> {
  const publicJwk = JSON.parse(row.public_jwk) as JWK;
  return {
    kid: row.kid,
    privateKey: (await importJWK(JSON.parse(row.private_jwk), 'RS256')) as CryptoKey,
    publicKey: (await importJWK(publicJwk, 'RS256')) as CryptoKey,
    publicJwk,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
  };
}
