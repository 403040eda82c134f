import { describe, expect, it } from 'vitest';
import { allSettledOrFirstError } from '../../src/lib/settle.ts';

const after = <T>(ms: number, value: T, fail = false) => new Promise<T>((resolve, reject) => setTimeout(() => (fail ? reject(value) : resolve(value)), ms));

describe('allSettledOrFirstError', () => {
  it('gives every value in order when all succeed', async () => {
    expect(await allSettledOrFirstError([after(10, 'a'), after(1, 'b')])).toEqual(['a', 'b']);
  });

  it('rejects with the first failure in order, only once every promise has settled', async () => {
    let slowDone = false;
    const slow = after(30, 'slow').then((v) => ((slowDone = true), v));
    await expect(allSettledOrFirstError([after(5, 'late failure', true), after(1, 'early failure', true), slow])).rejects.toBe('late failure');
    expect(slowDone).toBe(true);
  });
});
