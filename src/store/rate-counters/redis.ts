// Counters in Redis, shared by every instance. One round trip per hit: a script increments the key
// and starts its expiry on the first hit, so Redis's clock (not each instance's) defines the window.
import type { Result } from 'ioredis';
import type { RedisConnection } from '../redis.ts';
import type { WindowCounter, WindowHit } from './window-counter.ts';

const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    easelWindowHit(key: string, windowMs: number): Result<[number, number], Context>;
  }
}

export class RedisWindowCounter implements WindowCounter {
  readonly kind = 'redis' as const;
  private readonly redis: RedisConnection;

  constructor(redis: RedisConnection) {
    this.redis = redis;
    // defineCommand sends EVALSHA and falls back to EVAL once when Redis does not know the script.
    redis.client.defineCommand('easelWindowHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  }

  async hit(key: string, windowMs: number): Promise<WindowHit> {
    const [count, ttl] = await this.redis.client.easelWindowHit(`${this.redis.keyPrefix}rl:${key}`, windowMs);
    return { count, resetInMs: ttl };
  }
}
