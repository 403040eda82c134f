// Ids are a type prefix and a lowercase ULID: sortable by creation time, unguessable.
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lowercase

// Randomness is drawn from the kernel 4 KiB at a time: one call per ~400 ids instead of one per id.
const pool = new Uint8Array(4096);
let poolAt = pool.length;

function randomPart(): Uint8Array {
  if (poolAt + 10 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += 10;
  return pool.slice(poolAt - 10, poolAt);
}

let lastTime = 0;
let lastRandom: Uint8Array = new Uint8Array(10);

/** `value` (below 2^53) as `length` base32 characters, most significant first. */
function encode(value: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[value % 32]! + out;
    value = Math.floor(value / 32);
  }
  return out;
}

/** A ULID; ids made in the same millisecond by this process still sort in creation order. */
export function ulid(now = Date.now()): string {
  if (now <= lastTime) {
    // Same millisecond: increment the random part so the order is kept.
    for (let i = lastRandom.length - 1; i >= 0; i--) {
      if (lastRandom[i]! < 255) {
        lastRandom[i]!++;
        break;
      }
      lastRandom[i] = 0;
    }
    now = lastTime;
  } else {
    lastRandom = randomPart();
    lastTime = now;
  }
  // 80 random bits as two 40-bit halves (exact in a double), 8 characters each.
  const r = lastRandom;
  const high = ((r[0]! * 256 + r[1]!) * 256 + r[2]!) * 65536 + r[3]! * 256 + r[4]!;
  const low = ((r[5]! * 256 + r[6]!) * 256 + r[7]!) * 65536 + r[8]! * 256 + r[9]!;
  return encode(now, 10) + encode(high, 8) + encode(low, 8);
}

export const PREFIX = {
  conversation: 'conv',
  message: 'msg',
  imageCall: 'ig',
  media: 'jan',
  apiKey: 'key',
  job: 'imgjob',
} as const;

export function newId(prefix: (typeof PREFIX)[keyof typeof PREFIX]): string {
  return `${prefix}_${ulid()}`;
}

export const ID_PATTERN = '^[a-z]+_[0-9a-hjkmnp-tv-z]{26}$';

/** User ids read like the guide's `guest-abc123`. */
export function newUserId(kind: 'guest' | 'user' = 'guest'): string {
  return `${kind}-${ulid()}`;
}
