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
import { ApiKeysRepository } from './store/db/repositories/api-keys.ts';
import { UsageRepository } from './store/db/repositories/usage.ts';
import { ApiKeysService } from './services/api-keys.ts';
import { UsageService } from './services/usage.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import type { ModelSource } from './providers/models.ts';
import type { ChatProvider } from './providers/chat/provider.ts';
import { buildRouting } from './providers/routing/build.ts';
import type { ProviderState } from './providers/routing/provider-state.ts';
import { ChatService } from './services/chat.ts';
import { ModelsService } from './services/models.ts';
import { openRedis, type RedisConnection } from './store/redis.ts';
import type { WindowCounter } from './store/rate-counters/window-counter.ts';
import { MemoryWindowCounter } from './store/rate-counters/memory.ts';
import { RedisWindowCounter } from './store/rate-counters/redis.ts';
import { createMediaStore, type MediaStore } from './store/media/index.ts';
import { MediaRepository } from './store/db/repositories/media.ts';
import { MediaService } from './services/media.ts';
import type { ImageProvider } from './providers/image/provider.ts';
import { ImagesService } from './services/images.ts';
import { IdempotencyRepository } from './store/db/repositories/idempotency.ts';
import { IdempotencyService } from './services/idempotency.ts';
import { ImageJobsRepository } from './store/db/repositories/image-jobs.ts';
import { ImageJobsService } from './services/image-jobs.ts';
import { ImageJobRunner } from './services/image-job-runner.ts';

export interface Container {
  config: Config;
  db: Db;
  keys: KeyRing;
  mediaUrls: MediaUrlSigner;
  auth: AuthService;
  conversations: ConversationsService;
  apiKeys: ApiKeysService;
  /** Per-user usage: `usage.recordImages(userId, model, size, n)`, `usage.recordTokens(userId, model, prompt, completion)`. */
  usage: UsageService;
  /** Prometheus metrics of this instance: `metrics.observeUpstream(provider, model, seconds, outcome)`, `metrics.imagesGenerated(size, n)`, … */
  metrics: Metrics;
  chat: ChatService;
  /** Everything /v1/models lists, in order (chat first); each provider contributes its models here. */
  modelSources: ModelSource[];
  models: ModelsService;
  /** Where image bytes live (MEDIA_STORE: fs or s3). */
  mediaStore: MediaStore;
  media: MediaService;
  /** The router over the configured image providers (or the built-in demo image model). */
  imageProvider: ImageProvider;
  images: ImagesService;
  /** Every configured provider's live state (circuit, in flight, jobs), for GET /v1/providers. */
  providers: ProviderState[];
  /** Async image jobs: submission and reading. */
  imageJobs: ImageJobsService;
  /** Runs queued image jobs; main.ts starts it (tests may too), close() stops it. */
  imageJobRunner: ImageJobRunner;
  /** Idempotency-Key claims and stored responses, for routes that opt in. */
  idempotency: IdempotencyService;
  /** The shared Redis when REDIS_URL is set. */
  redis: RedisConnection | undefined;
  /** Rate-limit counters: in Redis when configured (shared by all instances), else in this process. */
  rateCounter: WindowCounter;
  /** Closes what was opened, in reverse order. */
  close(): Promise<void>;
}

export async function createContainer(config: Config): Promise<Container> {
  const db = await openDatabase(config.database);
  let redis: RedisConnection | undefined;
  try {
    redis = config.redisUrl ? await openRedis(config.redisUrl, config.redisKeyPrefix) : undefined;
    const rateCounter: WindowCounter = redis ? new RedisWindowCounter(redis) : new MemoryWindowCounter();
    const secrets = new SecretsRepository(db.kysely);
    const keys = new KeyRing(secrets, { reloadIntervalMs: config.auth.keysReloadSeconds * 1000 });
    await keys.init();
    const mediaSecret = await secrets.getOrCreate('media_url_secret', () => randomBytes(32).toString('base64url'));
    const mediaUrls = new MediaUrlSigner(mediaSecret, config.mediaUrlTtlSeconds);
    const metrics = createMetrics();
    if (db.poolStats) metrics.watchDatabasePool(db.poolStats);
    const users = new UsersRepository(db.kysely);
    const auth = new AuthService({
      config: config.auth,
      users,
      refreshTokens: new RefreshTokensRepository(db.kysely),
      keys,
    });
    const apiKeys = new ApiKeysService({ keys: new ApiKeysRepository(db.kysely), users });
    auth.addVerifier((token) => apiKeys.verify(token));
    const usage = new UsageService({ usage: new UsageRepository(db.kysely) });
    const conversations = new ConversationsService({
      db: db.kysely,
      conversations: new ConversationsRepository(db.kysely),
      items: new ItemsRepository(db.kysely),
      // Items may show only the user's own images (see withOwnMedia).
      media: new MediaRepository(db.kysely),
    });
    // EASEL_PROVIDERS (or LLM_/IMAGE_PROVIDER_URL) picks the upstreams; a kind without one gets the built-in demo model.
    const routing = buildRouting(config.providers, {
      maxImageBytes: config.maxImageBytes,
      modelsCacheTtlSeconds: config.modelsCacheTtlSeconds,
      observe: (provider, model, seconds, outcome) => metrics.observeUpstream(provider, model ?? 'default', seconds, outcome),
    });
    const chatProvider: ChatProvider = routing.chat;
    const chat = new ChatService({ provider: chatProvider, conversations, usage });
    const mediaStore = await createMediaStore(config.media);
    const media = new MediaService({ store: mediaStore, repository: new MediaRepository(db.kysely), maxImageBytes: config.maxImageBytes });
    const imageProvider = routing.images;
    const images = new ImagesService({
      config: {
        imageGenerationEnabled: config.imageGenerationEnabled,
        imageProviderEnabled: config.imageProviderEnabled,
        maxEditInputBytes: config.maxImageBytes * 4,
      },
      provider: imageProvider,
      media,
      conversations,
      usage,
      metrics,
    });
    const modelSources: ModelSource[] = [chatProvider];
    // Image models are listed only when images can be made.
    if (config.imageGenerationEnabled && config.imageProviderEnabled) modelSources.push(imageProvider);
    const models = new ModelsService(modelSources);
    const idempotency = new IdempotencyService({ repository: new IdempotencyRepository(db.kysely) });
    const imageJobsRepository = new ImageJobsRepository(db.kysely);
    const imageJobRunner = new ImageJobRunner({ repository: imageJobsRepository, images, router: routing.images });
    const imageJobs = new ImageJobsService({ repository: imageJobsRepository, images, media, onSubmit: () => void imageJobRunner.kick() });
    const close = async () => {
      await imageJobRunner.stop();
      keys.stop();
      await usage.close().catch(() => undefined);
      await redis?.close();
      await db.close();
    };
    return { config, db, keys, mediaUrls, auth, apiKeys, usage, metrics, conversations, chat, modelSources, models, mediaStore, media, imageProvider, images, providers: routing.providers, imageJobs, imageJobRunner, idempotency, redis, rateCounter, close };
  } catch (error) {
    await redis?.close();
    await db.close();
    throw error;
  }
}
