// The optional shared Redis (REDIS_URL). Configured to fail fast rather than queue: when Redis is
// down a caller gets an error at once and can fail open, instead of a request hanging on a reconnect.
import type { Redis as RedisClient } from 'ioredis';

export interface RedisConnection {
  readonly client: RedisClient;
  /** Prefix of every key Easel writes (REDIS_KEY_PREFIX). */
  readonly keyPrefix: string;
  /** Throws when Redis cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const COMMAND_TIMEOUT_MS = 1000;
const FIRST_CONNECT_WAIT_MS = 2000;

/** Connects; an unreachable Redis does not stop the start (ioredis keeps reconnecting in the background). */
export async function openRedis(url: string, keyPrefix: string): Promise<RedisConnection> {
  // Loaded only when REDIS_URL is set.
  const { Redis } = await import('ioredis');
  const client: RedisClient = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: FIRST_CONNECT_WAIT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // ioredis prints unhandled 'error' events to stderr on every reconnect attempt; callers see the
  // failure on their own commands (rate limiter: warning log; readiness: "redis: error").
  client.on('error', () => {});
  // Wait for the first connection (or its first failure) so early requests do not all fail open.
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done).off('error', done);
      resolve();
    };
    const timer = setTimeout(done, FIRST_CONNECT_WAIT_MS);
    client.once('ready', done).once('error', done);
  });
  return {
    client,
    keyPrefix,
    async ping() {
      await client.ping();
    },
    async close() {
      if (client.status === 'ready') {
        await client.quit().catch(() => client.disconnect());
      } else {
        client.disconnect();
      }
    },
  };
}
