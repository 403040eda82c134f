// Idempotency keys: a client that repeats a request with the same Idempotency-Key (after a timeout, say)
// gets the first response again instead of a second provider call. Keys belong to one user and last
// 24 hours. Only a success is kept: a request that failed left nothing behind, so its key is released
// and the client may retry with it.
import { randomBytes } from 'node:crypto';
import { ApiError } from '../lib/errors.ts';
import type { IdempotencyRow } from '../store/db/schema.ts';
import type { IdempotencyRepository } from '../store/db/repositories/idempotency.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** An in-flight claim this old belongs to a process that died mid-request; a new request may take it over. */
export const IDEMPOTENCY_STALE_MS = 15 * 60_000;
/** Larger responses are not kept; a repeat is refused (409) rather than sent to the provider again. */
export const MAX_REPLAY_BYTES = 16 * 1024 * 1024;

export interface Claim {
  userId: string;
  key: string;
  id: string;
}

export interface ReplayedResponse {
  status: number;
  contentType: string;
  body: string;
  /** Headers that are part of the answer (an async job's Location, say), replayed with it. */
  headers: Record<string, string>;
}

const conflict = (message: string, code: string) => new ApiError(409, 'conflict_error', message, { code });

export type Begun = { kind: 'started'; claim: Claim } | { kind: 'replay'; response: ReplayedResponse };

export class IdempotencyService {
  private readonly repository: IdempotencyRepository;
  private readonly now: () => number;

  constructor(deps: { repository: IdempotencyRepository; now?: () => number }) {
    this.repository = deps.repository;
    this.now = deps.now ?? Date.now;
  }

  /**
   * Claims the key for a request with this hash, or answers what the key already holds: the stored
   * response (same request, completed), or 409 (another request, or the same one still running).
   */
  async begin(userId: string, key: string, requestHash: string): Promise<Begun> {
    const now = this.now();
    const row: IdempotencyRow = {
      user_id: userId,
      key,
      request_hash: requestHash,
      state: 'in_flight',
      claim_id: randomBytes(16).toString('base64url'),
      response_status: null,
      response_type: null,
      response_body: null,
      response_headers: null,
      created_at: now,
      expires_at: now + IDEMPOTENCY_TTL_MS,
    };
    const started: Begun = { kind: 'started', claim: { userId, key, id: row.claim_id } };
    // More rounds cover a row that is deleted or taken over between our insert and our read.
    for (let round = 0; round < 3; round++) {
      if (await this.repository.insert(row)) return started;
      const held = await this.repository.find(userId, key);
      if (!held) continue;
      const abandoned = held.expires_at <= now || (held.state === 'in_flight' && held.created_at + IDEMPOTENCY_STALE_MS <= now);
      if (abandoned) {
        if (await this.repository.replace(held.claim_id, row)) return started;
        continue;
      }
      if (held.request_hash !== requestHash) {
        throw conflict('This Idempotency-Key was already used with a different request. Use a new key for a new request.', 'idempotency_key_mismatch');
      }
      if (held.state === 'in_flight') {
        throw conflict('A request with this Idempotency-Key is still in progress. Retry once it has finished.', 'idempotency_key_in_use');
      }
      if (held.response_body === null || held.response_status === null) {
        throw conflict('This request was already completed, but its response is too large to be replayed.', 'idempotency_response_unavailable');
      }
      const headers = held.response_headers === null ? {} : (JSON.parse(held.response_headers) as Record<string, string>);
      return { kind: 'replay', response: { status: held.response_status, contentType: held.response_type ?? 'application/json; charset=utf-8', body: held.response_body, headers } };
    }
    throw conflict('A request with this Idempotency-Key is still in progress. Retry once it has finished.', 'idempotency_key_in_use');
  }

  /** Keeps the successful response for replays. */
  async complete(claim: Claim, response: ReplayedResponse): Promise<void> {
    const keep = Buffer.byteLength(response.body) <= MAX_REPLAY_BYTES;
    await this.repository.complete(claim.userId, claim.key, claim.id, {
      response_status: response.status,
      response_type: response.contentType,
      response_body: keep ? response.body : null,
      response_headers: JSON.stringify(response.headers),
    });
  }

  /** Frees the key after a failure, so the same key may be used to try again. */
  async release(claim: Claim): Promise<void> {
    await this.repository.release(claim.userId, claim.key, claim.id);
  }

  /** Deletes expired keys; the periodic sweeper calls it. */
  async deleteExpired(): Promise<number> {
    return this.repository.deleteExpired(this.now());
  }
}
