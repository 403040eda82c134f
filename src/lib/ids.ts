// Ids are a type prefix and a lowercase ULID: sortable by creation time, unguessable.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lowercase

let lastTime = 0;
let lastRandom = new Uint8Array(10);

function encode(value: bigint, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
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
    lastRandom = new Uint8Array(randomBytes(10));
    lastTime = now;
  }
  const random = lastRandom.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  return encode(BigInt(now), 10) + encode(random, 16);
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
