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

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  jwt_keys: JwtKeysTable;
  secrets: SecretsTable;
  conversations: ConversationsTable;
  items: ItemsTable;
  media: MediaTable;
}

export type User = Selectable<UsersTable>;
export type ConversationRow = Selectable<ConversationsTable>;
export type ItemRow = Selectable<ItemsTable>;
export type NewItemRow = Insertable<ItemsTable>;
export type MediaRow = Selectable<MediaTable>;
