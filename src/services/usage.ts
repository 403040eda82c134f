// Per-user usage: images generated (by size) and chat tokens reported by the upstream's `usage`.
// Counters are kept per UTC day, so a user's totals and daily figures come from a few small rows.
import { badRequest } from '../lib/errors.ts';
import type { UsageRow } from '../store/db/schema.ts';
import type { UsageRepository } from '../store/db/repositories/usage.ts';

const DAY_MS = 86_400_000;
export const DEFAULT_RANGE_DAYS = 30;
export const MAX_RANGE_DAYS = 366;

export interface UsageFigures {
  images: number;
  images_by_size: Record<string, number>;
  chat_completions: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface UsageReport {
  object: 'usage';
  start_date: string;
  end_date: string;
  totals: UsageFigures;
  by_model: Array<{ model: string } & UsageFigures>;
  /** Days with any usage, oldest first. */
  data: Array<{ date: string } & UsageFigures>;
}

/** YYYY-MM-DD of a Unix-milliseconds time, in UTC. */
export function utcDay(ms: number): string {
  // Asked for every chat turn, and the answer changes once a day.
  if (ms >= lastDay.start && ms < lastDay.start + DAY_MS) return lastDay.day;
  const day = new Date(ms).toISOString().slice(0, 10);
  lastDay = { start: Date.parse(day), day };
  return day;
}
let lastDay = { start: Number.NaN, day: '' };

const empty = (): UsageFigures => ({ images: 0, images_by_size: {}, chat_completions: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });

function add(figures: UsageFigures, row: UsageRow): void {
  if (row.kind === 'image') {
    figures.images += row.count;
    figures.images_by_size[row.size] = (figures.images_by_size[row.size] ?? 0) + row.count;
  } else {
    figures.chat_completions += row.count;
    figures.prompt_tokens += row.prompt_tokens;
    figures.completion_tokens += row.completion_tokens;
    figures.total_tokens += row.prompt_tokens + row.completion_tokens;
  }
}

/** A count from an upstream may be missing or odd; usage only ever adds whole, non-negative numbers. */
const whole = (n: number | null | undefined): number => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);

/** How long chat counts gather in memory before one write; chat is the hot path, a write per request is not. */
const TOKEN_FLUSH_MS = 1000;

export class UsageService {
  private readonly usage: UsageRepository;
  private readonly now: () => number;
  private readonly pending = new Map<string, UsageRow>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(deps: { usage: UsageRepository; now?: () => number }) {
    this.usage = deps.usage;
    this.now = deps.now ?? Date.now;
  }

  /** Writes the chat counts gathered so far (also before every report, and at close). */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const rows = [...this.pending.values()];
    this.pending.clear();
    for (const row of rows) await this.usage.add(row);
  }

  async close(): Promise<void> {
    await this.flush();
  }

  /** Counts `n` images of `size` generated (or edited) for the user with `model`. */
  async recordImages(userId: string, model: string, size: string, n: number): Promise<void> {
    const count = whole(n);
    if (count === 0) return;
    await this.usage.add({ user_id: userId, day: utcDay(this.now()), kind: 'image', model, size, count, prompt_tokens: 0, completion_tokens: 0 });
  }

  /** Counts one chat completion and the tokens the upstream reported for it; written within a second. */
  async recordTokens(userId: string, model: string, promptTokens: number | null | undefined, completionTokens: number | null | undefined): Promise<void> {
    const day = utcDay(this.now());
    const key = `${userId}\u0000${day}\u0000${model}`;
    const row = this.pending.get(key) ?? { user_id: userId, day, kind: 'chat', model, size: '', count: 0, prompt_tokens: 0, completion_tokens: 0 };
    row.count += 1;
    row.prompt_tokens += whole(promptTokens);
    row.completion_tokens += whole(completionTokens);
    this.pending.set(key, row);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flush().catch(() => undefined), TOKEN_FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  /** The user's totals, per model and per day from `start` to `end` (inclusive; default the last 30 days). */
  async report(userId: string, range: { start_date?: string; end_date?: string } = {}): Promise<UsageReport> {
    await this.flush();
    const end = range.end_date ?? utcDay(this.now());
    const start = range.start_date ?? utcDay(Date.parse(end) - (DEFAULT_RANGE_DAYS - 1) * DAY_MS);
    if (start > end) throw badRequest('start_date must not be after end_date.', 'start_date', 'invalid_value');
    if ((Date.parse(end) - Date.parse(start)) / DAY_MS >= MAX_RANGE_DAYS) {
      throw badRequest(`The range may span at most ${MAX_RANGE_DAYS} days.`, 'start_date', 'invalid_value');
    }
    const totals = empty();
    const byModel = new Map<string, UsageFigures>();
    const byDay = new Map<string, UsageFigures>();
    for (const row of await this.usage.forUser(userId, start, end)) {
      add(totals, row);
      add(getOrCreate(byModel, row.model), row);
      add(getOrCreate(byDay, row.day), row);
    }
    return {
      object: 'usage',
      start_date: start,
      end_date: end,
      totals,
      by_model: [...byModel].sort(([a], [b]) => a.localeCompare(b)).map(([model, figures]) => ({ model, ...figures })),
      data: [...byDay].map(([date, figures]) => ({ date, ...figures })),
    };
  }
}

function getOrCreate(map: Map<string, UsageFigures>, key: string): UsageFigures {
  let figures = map.get(key);
  if (!figures) map.set(key, (figures = empty()));
  return figures;
}
