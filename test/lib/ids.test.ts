import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ulid } from '../../src/lib/ids.ts';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** The ULID spec's reading: a 48-bit time and 80 random bits, together one base32 number. */
function decode(id: string): { time: bigint; random: bigint } {
  const value = [...id].reduce((acc, c) => acc * 32n + BigInt(ALPHABET.indexOf(c)), 0n);
  return { time: value >> 80n, random: value & ((1n << 80n) - 1n) };
}

describe('ulid', () => {
  // First: the later test moves this process's clock for ids far into the future.
  it('sorts in creation order, within a millisecond by counting up its random part', () => {
    const ids = Array.from({ length: 5000 }, () => ulid());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) {
      const [before, after] = [decode(ids[i - 1]!), decode(ids[i]!)];
      if (after.time === before.time) expect(after.random).toBe(before.random + 1n);
    }
    // A new millisecond draws new randomness.
    expect(new Set(ids.map((id) => id.slice(10, 12))).size).toBeGreaterThan(1);
  });

  it('encodes any time ULIDs can hold in its first ten characters', () => {
    let floor = 2 ** 47;
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 30 }), { minLength: 1, maxLength: 20 }), (offsets) => {
        for (const offset of offsets.sort((a, b) => a - b)) {
          const id = ulid(floor + offset);
          expect(id).toMatch(/^[0-9a-hjkmnp-tv-z]{26}$/);
          expect(decode(id).time).toBe(BigInt(floor + offset));
        }
        floor += Math.max(...offsets);
      }),
      { numRuns: 30 },
    );
    expect(decode(ulid(2 ** 48 - 1)).time).toBe(BigInt(2 ** 48 - 1));
  });
});
