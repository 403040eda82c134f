import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { UsageService, utcDay } from '../../src/services/usage.ts';
import { UsageRepository } from '../../src/store/db/repositories/usage.ts';

const DAY = 86_400_000;

describe.each(DATABASES)('usage on %s', (kind) => {
  let t: TestApp;
  let alice: Guest;
  let bob: Guest;

  beforeAll(async () => {
    t = await startApp(kind);
    alice = await t.guest();
    bob = await t.guest();
  });
  afterAll(() => t.close());

  const usageOf = (guest: Guest, query = '') => t.as(guest.token, { method: 'GET', url: `/v1/usage${query}` });

  it('adds up images by size and chat tokens, per model and per day, for the caller only', async () => {
    const { usage } = t.container;
    await usage.recordImages(alice.userId, 'easel-demo-image', '1024x1024', 2);
    await usage.recordImages(alice.userId, 'easel-demo-image', '1024x1024', 1);
    await usage.recordImages(alice.userId, 'gpt-image-1', '512x512', 4);
    await usage.recordTokens(alice.userId, 'gpt-4o-mini', 10, 25);
    await usage.recordTokens(alice.userId, 'gpt-4o-mini', 5, 7);
    await usage.recordImages(bob.userId, 'easel-demo-image', '1024x1024', 9);

    const res = await usageOf(alice);
    expect(res.statusCode).toBe(200);
    const report = res.json();
    const today = utcDay(Date.now());
    expect(report).toMatchObject({ object: 'usage', end_date: today });
    const totals = { images: 7, images_by_size: { '1024x1024': 3, '512x512': 4 }, chat_completions: 2, prompt_tokens: 15, completion_tokens: 32, total_tokens: 47 };
    expect(report.totals).toEqual(totals);
    expect(report.data).toEqual([{ date: today, ...totals }]);
    expect(report.by_model).toEqual([
      { model: 'easel-demo-image', images: 3, images_by_size: { '1024x1024': 3 }, chat_completions: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      { model: 'gpt-4o-mini', images: 0, images_by_size: {}, chat_completions: 2, prompt_tokens: 15, completion_tokens: 32, total_tokens: 47 },
      { model: 'gpt-image-1', images: 4, images_by_size: { '512x512': 4 }, chat_completions: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    ]);
    expect((await usageOf(bob)).json().totals.images).toBe(9);
  });

  it('loses no increment when many requests record at once', async () => {
    const carol = await t.guest();
    await Promise.all(Array.from({ length: 25 }, () => t.container.usage.recordImages(carol.userId, 'm', '1024x1024', 1)));
    await Promise.all(Array.from({ length: 25 }, () => t.container.usage.recordTokens(carol.userId, 'c', 2, 3)));
    const { totals } = (await usageOf(carol)).json();
    expect(totals).toMatchObject({ images: 25, chat_completions: 25, prompt_tokens: 50, completion_tokens: 75 });
  });

  it('counts a completion without usage figures, and ignores non-positive image counts', async () => {
    const dave = await t.guest();
    await t.container.usage.recordTokens(dave.userId, 'c', undefined, null);
    await t.container.usage.recordTokens(dave.userId, 'c', -3, Number.NaN);
    await t.container.usage.recordImages(dave.userId, 'm', '512x512', 0);
    const { totals } = (await usageOf(dave)).json();
    expect(totals).toMatchObject({ images: 0, chat_completions: 2, total_tokens: 0 });
  });

  it('reports per UTC day within the asked range', async () => {
    const erin = await t.guest();
    const base = Date.UTC(2025, 0, 10, 23, 30);
    let now = base;
    const service = new UsageService({ usage: new UsageRepository(t.container.db.kysely), now: () => now });
    await service.recordImages(erin.userId, 'm', '1024x1024', 1);
    now = base + 60 * 60 * 1000; // 00:30 the next day
    await service.recordImages(erin.userId, 'm', '1024x1024', 2);
    now = base + 5 * DAY;
    await service.recordTokens(erin.userId, 'c', 1, 1);
    // Chat counts gather in memory for up to a second; this service is not the app's, so write them now.
    await service.flush();

    const all = (await usageOf(erin, '?start_date=2025-01-01&end_date=2025-01-31')).json();
    expect(all.data.map((d: { date: string; images: number; total_tokens: number }) => [d.date, d.images, d.total_tokens])).toEqual([
      ['2025-01-10', 1, 0],
      ['2025-01-11', 2, 0],
      ['2025-01-15', 0, 2],
    ]);
    const some = (await usageOf(erin, '?start_date=2025-01-11&end_date=2025-01-11')).json();
    expect(some.totals).toMatchObject({ images: 2, chat_completions: 0 });
    expect(some).toMatchObject({ start_date: '2025-01-11', end_date: '2025-01-11' });
    // Only end_date: the 30 days up to it.
    expect((await usageOf(erin, '?end_date=2025-01-11')).json()).toMatchObject({ start_date: '2024-12-13', totals: { images: 3 } });
  });

  it('writes gathered chat counts to the database on its own, within about a second', async () => {
    const frank = await t.guest();
    const repository = new UsageRepository(t.container.db.kysely);
    const service = new UsageService({ usage: repository });
    await service.recordTokens(frank.userId, 'c', 2, 3);
    await service.recordTokens(frank.userId, 'c', 1, 1);
    let rows: Awaited<ReturnType<UsageRepository['forUser']>> = [];
    for (let i = 0; i < 150 && rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      rows = await repository.forUser(frank.userId, '2000-01-01', '2999-12-31');
    }
    expect(rows).toMatchObject([{ kind: 'chat', model: 'c', count: 2, prompt_tokens: 3, completion_tokens: 4 }]);
  });

  it('validates the range', async () => {
    const cases: Array<[string, string]> = [
      ['?start_date=yesterday', 'start_date'],
      ['?end_date=2025-02-30', 'end_date'],
      ['?start_date=2025-02-01&end_date=2025-01-01', 'start_date'],
      ['?start_date=2023-01-01&end_date=2025-01-01', 'start_date'],
      ['?group_by=model', 'group_by'],
    ];
    for (const [query, param] of cases) {
      const res = await usageOf(alice, query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error).toMatchObject({ type: 'invalid_request_error', param });
    }
    expect((await t.app.inject({ method: 'GET', url: '/v1/usage' })).statusCode).toBe(401);
  });
});

describe('utcDay', () => {
  it('names the UTC day of any time, forwards, backwards and across midnight', () => {
    const times = [Date.UTC(2026, 10, 30, 23, 59, 59, 999), Date.UTC(2026, 11, 1), Date.UTC(2026, 10, 30), Date.UTC(2024, 1, 29, 12), Date.UTC(2026, 11, 1, 0, 0, 0, 1), 0];
    for (const ms of [...times, ...times.reverse()]) expect(utcDay(ms)).toBe(new Date(ms).toISOString().slice(0, 10));
  });
});
