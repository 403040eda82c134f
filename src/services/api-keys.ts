// API keys: long-lived bearer credentials a user creates for scripts and SDKs. Only a key's SHA-256 is
// stored; the key itself is shown once. AuthService asks verify() about every bearer token.
import { createHash, randomBytes } from 'node:crypto';
import { badRequest, conflict, forbidden, notFound, unauthorized } from '../lib/errors.ts';
import { newId, PREFIX } from '../lib/ids.ts';
import { toSeconds } from '../lib/time.ts';
import type { ApiKeyRow } from '../store/db/schema.ts';
import type { ApiKeysRepository } from '../store/db/repositories/api-keys.ts';
import type { UsersRepository } from '../store/db/repositories/users.ts';
import type { Principal } from './auth.ts';

export const KEY_PREFIX = 'sk_live_';
/** Every key Easel issues starts with this; other bearer tokens (JWTs) never do. */
const KEY_FAMILY = 'sk_';
/** Last use is written at most this often per key, so a busy key costs one write a minute, not one per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;
export const MAX_KEYS_PER_USER = 20;
export const MAX_LIFETIME_DAYS = 3650;
const DAY_MS = 86_400_000;

export interface ApiKeyView {
  id: string;
  object: 'api_key';
  name: string;
  /** The key's first characters and last four, to tell keys apart; never enough to use it. */
  prefix: string;
  suffix: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
}

export interface CreateApiKey {
  name: string;
  expires_in_days?: number;
  /** Unix seconds. */
  expires_at?: number;
}

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

function view(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    object: 'api_key',
    name: row.name,
    prefix: row.prefix,
    suffix: row.suffix,
    created_at: toSeconds(row.created_at),
    last_used_at: row.last_used_at === null ? null : toSeconds(row.last_used_at),
    expires_at: row.expires_at === null ? null : toSeconds(row.expires_at),
  };
}

export class ApiKeysService {
  private readonly keys: ApiKeysRepository;
  private readonly users: UsersRepository;
  private readonly now: () => number;

  constructor(deps: { keys: ApiKeysRepository; users: UsersRepository; now?: () => number }) {
    this.keys = deps.keys;
    this.users = deps.users;
    this.now = deps.now ?? Date.now;
  }

  /** Creates a key for the caller. A key cannot mint keys: a leaked key must not be able to outlive its revocation. */
  async createFor(principal: Principal, input: CreateApiKey): Promise<ApiKeyView & { key: string }> {
    if (principal.via !== 'jwt') throw forbidden('API keys cannot create API keys; sign in and use an access token.');
    return this.create(principal.userId, input);
  }

  /** Creates a key for any existing user (the CLI's `keys create`). */
  async create(userId: string, input: CreateApiKey): Promise<ApiKeyView & { key: string }> {
    const now = this.now();
    const expiresAt = this.expiry(input, now);
    if (!(await this.users.find(userId))) throw notFound(`No user with id '${userId}'`, 'user');
    if ((await this.keys.countForUser(userId)) >= MAX_KEYS_PER_USER) {
      throw conflict(`A user may have at most ${MAX_KEYS_PER_USER} API keys; delete one first.`);
    }
    const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const row: ApiKeyRow = {
      id: newId(PREFIX.apiKey),
      user_id: userId,
      name: input.name,
      key_hash: hashKey(key),
      prefix: key.slice(0, KEY_PREFIX.length + 4),
      suffix: key.slice(-4),
      created_at: now,
      last_used_at: null,
      expires_at: expiresAt,
    };
    await this.keys.insert(row);
    return { ...view(row), key };
  }

  async list(userId: string): Promise<ApiKeyView[]> {
    return (await this.keys.listForUser(userId)).map(view);
  }

  /** Revokes at once: the row goes, so the next request with the key is refused. */
  async delete(userId: string, id: string): Promise<{ id: string; object: 'api_key.deleted'; deleted: true }> {
    if (!(await this.keys.deleteOwned(id, userId))) throw notFound(`No API key with id '${id}'`, 'id');
    return { id, object: 'api_key.deleted', deleted: true };
  }

  /** The principal for an Easel API key; undefined for tokens that are not API keys; 401 for a bad, revoked or expired key. */
  async verify(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(KEY_FAMILY)) return undefined;
    const row = await this.keys.findByHash(hashKey(token));
    if (!row) throw unauthorized('Invalid or revoked API key');
    const now = this.now();
    if (row.expires_at !== null && row.expires_at <= now) throw unauthorized('API key has expired');
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      await this.keys.touch(row.id, now, now - LAST_USED_RESOLUTION_MS);
    }
    return { userId: row.user_id, via: 'api_key' };
  }

  private expiry(input: CreateApiKey, now: number): number | null {
    if (input.expires_in_days !== undefined && input.expires_at !== undefined) {
      throw badRequest('Give either expires_in_days or expires_at, not both.', 'expires_at', 'invalid_value');
    }
    if (input.expires_in_days !== undefined) return now + input.expires_in_days * DAY_MS;
    if (input.expires_at === undefined) return null;
    const at = input.expires_at * 1000;
    if (at <= now) throw badRequest('expires_at must be in the future (Unix seconds).', 'expires_at', 'invalid_value');
    if (at > now + MAX_LIFETIME_DAYS * DAY_MS) {
      throw badRequest(`expires_at must be within ${MAX_LIFETIME_DAYS} days.`, 'expires_at', 'invalid_value');
    }
    return at;
  }
}
