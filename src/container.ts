// Opens every store and builds every service once; app.ts, the CLI and tests share it.
import { randomBytes } from 'node:crypto';
import type { Config } from './config.ts';
import { openDatabase, type Db } from './store/db/database.ts';
import { UsersRepository } from './store/db/repositories/users.ts';
import { RefreshTokensRepository } from './store/db/repositories/refresh-tokens.ts';
import { SecretsRepository } from './store/db/repositories/secrets.ts';
import { ConversationsRepository } from './store/db/repositories/conversations.ts';
import { ItemsRepository } from './store/db/repositories/items.ts';
import { MediaUrlSigner } from './store/media/signing.ts';
import { KeyRing } from './services/keys.ts';
import { AuthService } from './services/auth.ts';
import { ConversationsService } from './services/conversations.ts';

export interface Container {
  config: Config;
  db: Db;
  keys: KeyRing;
  mediaUrls: MediaUrlSigner;
  auth: AuthService;
  conversations: ConversationsService;
  /** Closes what was opened, in reverse order. */
  close(): Promise<void>;
}

export async function createContainer(config: Config): Promise<Container> {
  const db = await openDatabase(config.database);
  try {
    const secrets = new SecretsRepository(db.kysely);
    const keys = new KeyRing(secrets);
    await keys.init();
    const mediaSecret = await secrets.getOrCreate('media_url_secret', () => randomBytes(32).toString('base64url'));
    const mediaUrls = new MediaUrlSigner(mediaSecret, config.mediaUrlTtlSeconds);
    const auth = new AuthService({
      config: config.auth,
      users: new UsersRepository(db.kysely),
      refreshTokens: new RefreshTokensRepository(db.kysely),
      keys,
    });
    const conversations = new ConversationsService({
      db: db.kysely,
      conversations: new ConversationsRepository(db.kysely),
      items: new ItemsRepository(db.kysely),
    });
    return { config, db, keys, mediaUrls, auth, conversations, close: () => db.close() };
  } catch (error) {
    await db.close();
    throw error;
  }
}
