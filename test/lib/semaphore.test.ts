import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/lib/semaphore.ts';

describe('Semaphore', () => {
  it('runs at most `limit` at once, the rest in arrival order, and frees slots on failure too', async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const task = (i: number) =>
      semaphore.run(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        if (i % 3 === 0) throw new Error(`task ${i}`);
        return i;
      });
    const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => task(i)));
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
    expect(await semaphore.run(async () => 'free again')).toBe('free again');
  });
});
