// A unique Redis key prefix per test, and cleanup of every key under it.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { REDIS_URL } from './app.ts';

export function redisPrefix(): string {
  return `easel-test:${randomBytes(6).toString('hex')}:`;
}

export async function redisKeys(prefix: string): Promise<string[]> {
  const client = new Redis(REDIS_URL);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    client.disconnect();
  }
}

export async function deleteRedisKeys(prefix: string): Promise<void> {
  const keys = await redisKeys(prefix);
  if (keys.length === 0) return;
  const client = new Redis(REDIS_URL);
  try {
    await client.del(...keys);
  } finally {
    client.disconnect();
  }
}
