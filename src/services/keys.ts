// The JWT key ring, kept in the database so that every instance signs and verifies with the same keys.
// The newest key signs; older keys keep verifying until retired. Every instance reloads the ring
// periodically (so a rotation or retirement elsewhere reaches it), and at once — coalesced, at most
// once per interval — when a token names a kid it has not seen (a key another instance just made).
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { SecretsRepository } from '../store/db/repositories/secrets.ts';

interface LoadedKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  retired: boolean;
}

const MIN_RELOAD_INTERVAL_MS = 250;
const PERIODIC_RELOAD_MS = 60_000;

export class KeyRing {
  private readonly secrets: SecretsRepository;
  private keys: LoadedKey[] = [];
  private active = new Set<string>();
  private lastLoad = 0;
  private pendingReload: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(secrets: SecretsRepository) {
    this.secrets = secrets;
  }

  /** Loads the keys, creating the first one on a fresh database. */
  async init(): Promise<void> {
    await this.reload();
    if (this.keys.length === 0) {
      await this.rotate();
    }
    this.timer = setInterval(() => void this.reloadSoon().catch(() => undefined), PERIODIC_RELOAD_MS);
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

  async retire(kid: string): Promise<void> {
    await this.secrets.retireJwtKey(kid, Date.now());
    await this.reload();
  }

  private async reload(): Promise<void> {
    const rows = await this.secrets.jwtKeys();
    this.keys = await Promise.all(
      rows.map(async (row) => {
        const publicJwk = JSON.parse(row.public_jwk) as JWK;
        return {
          kid: row.kid,
          privateKey: (await importJWK(JSON.parse(row.private_jwk), 'RS256')) as CryptoKey,
          publicKey: (await importJWK(publicJwk, 'RS256')) as CryptoKey,
          publicJwk,
          retired: row.retired_at !== null,
        };
      }),
    );
    this.active = new Set(this.keys.filter((k) => !k.retired).map((k) => k.kid));
    this.lastLoad = Date.now();
  }

  /** Whether a kid may still verify tokens (known and not retired), as of the last load. */
  isActive(kid: string): boolean {
    return this.active.has(kid);
  }

  signingKey(): { kid: string; key: CryptoKey } {
    const key = this.keys.find((k) => !k.retired);
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
    const find = () => this.keys.find((k) => k.kid === kid && !k.retired)?.publicKey;
    const key = find();
    if (key || kid === undefined) return key;
    await this.reloadSoon();
    return find();
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.filter((k) => !k.retired).map((k) => k.publicJwk) };
  }
}
