// The JWT key ring, kept in the database so that every instance signs and verifies with the same keys.
// The newest key signs; older keys keep verifying until retired. An unknown kid triggers one reload,
// so a key created by another instance is picked up without a restart.
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

const RELOAD_INTERVAL_MS = 1000;

export class KeyRing {
  private readonly secrets: SecretsRepository;
  private keys: LoadedKey[] = [];
  private lastLoad = 0;

  constructor(secrets: SecretsRepository) {
    this.secrets = secrets;
  }

  /** Loads the keys, creating the first one on a fresh database. */
  async init(): Promise<void> {
    await this.reload();
    if (this.keys.length === 0) {
      await this.rotate();
    }
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
    this.lastLoad = Date.now();
  }

  signingKey(): { kid: string; key: CryptoKey } {
    const key = this.keys.find((k) => !k.retired);
    if (!key) throw new Error('No active JWT signing key');
    return { kid: key.kid, key: key.privateKey };
  }

  /** The public key for a kid, reloading once (throttled) when the kid is new to this instance. */
  async verificationKey(kid: string | undefined): Promise<CryptoKey | undefined> {
    const find = () => this.keys.find((k) => k.kid === kid && !k.retired)?.publicKey;
    const key = find();
    if (key || kid === undefined || Date.now() - this.lastLoad < RELOAD_INTERVAL_MS) return key;
    await this.reload();
    return find();
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.filter((k) => !k.retired).map((k) => k.publicJwk) };
  }
}
