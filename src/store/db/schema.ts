// Table shapes, shared by SQLite and PostgreSQL. Times are Unix milliseconds; JSON is stored as text.
import type { Generated, Insertable, Selectable } from 'kysely';

export interface UsersTable {
  id: string;
  username: string;
  kind: 'guest' | 'user';
  created_at: number;
}

export interface RefreshTokensTable {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

export interface JwtKeysTable {
  kid: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  retired_at: number | null;
}

export interface SecretsTable {
  name: string;
  value: string;
  created_at: number;
}

export interface ConversationsTable {
  id: string;
  user_id: string;
  title: string | null;
  metadata: string;
  created_at: number;
  updated_at: number;
}

export interface ItemsTable {
  seq: Generated<number>;
  id: string;
  conversation_id: string;
  type: string;
  /** The item's body without id and created_at, as JSON. */
  data: string;
  created_at: number;
}

export interface MediaTable {
  id: string;
  user_id: string;
  mime: string;
  bytes: number;
  sha256: string;
  storage_key: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  key_hash: string;
  /** The key's first and last characters, so a user can tell keys apart. */
  prefix: string;
  suffix: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
}

export interface UsageTable {
  user_id: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  kind: 'image' | 'chat';
  model: string;
  /** Image size; '' for chat. */
  size: string;
  /** Images generated, or chat completions. */
  count: number;
  prompt_tokens: number;
  completion_tokens: number;
}

export interface IdempotencyKeysTable {
  user_id: string;
  /** The client's Idempotency-Key header. */
  key: string;
  /** SHA-256 of method, path, user and body: the same key with another request is a conflict. */
  request_hash: string;
  state: 'in_flight' | 'completed';
  /** Random per request that claimed the key; only that request completes or releases it. */
  claim_id: string;
  /** The response to replay, once completed; a null body means it was too large to keep. */
  response_status: number | null;
  response_type: string | null;
  response_body: string | null;
  /** Headers replayed with it (JSON: name to value), such as an async job's Location. */
  response_headers: string | null;
  created_at: number;
  expires_at: number;
}

export type ImageJobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface ImageJobsTable {
  id: string;
  user_id: string;
  status: ImageJobStatus;
  /** The public model asked for; null for the default. */
  model: string | null;
  /** The validated request (ImageParams) as JSON. */
  request: string;
  /** The provider the job last ran on. */
  provider: string | null;
  /** Random per claim: only the claimant may renew, finish or hand back the job. */
  claim_id: string | null;
  /** A running job whose lease passed is free to claim again (its instance is gone). */
  lease_until: number;
  /** A queued job waits until then (a retry after every provider refused it). */
  available_at: number;
  attempts: number;
  /** When succeeded: the images (media ids) and response fields, as JSON. */
  result: string | null;
  /** When failed: OpenAI's error object, as JSON. */
  error: string | null;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
}

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  jwt_keys: JwtKeysTable;
  secrets: SecretsTable;
  conversations: ConversationsTable;
  items: ItemsTable;
  media: MediaTable;
  api_keys: ApiKeysTable;
  usage: UsageTable;
  idempotency_keys: IdempotencyKeysTable;
  image_jobs: ImageJobsTable;
}

export type User = Selectable<UsersTable>;
export type ConversationRow = Selectable<ConversationsTable>;
export type ItemRow = Selectable<ItemsTable>;
export type NewItemRow = Insertable<ItemsTable>;
export type MediaRow = Selectable<MediaTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type UsageRow = Selectable<UsageTable>;
export type IdempotencyRow = Selectable<IdempotencyKeysTable>;
export type ImageJobRow = Selectable<ImageJobsTable>;
