// Markdown tables: readable in a terminal and pasted as-is into BENCHMARKS.md.

export type Cell = string | number | null | undefined;

export function table(headers: string[], rows: Cell[][]): string {
  const text = rows.map((row) => row.map(cell));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(headers), rule, ...text.map(line)].join('\n');
}

function cell(value: Cell): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return Number.isFinite(value) ? formatNumber(value) : '—';
  return value;
}

/** Three significant digits for small numbers, whole numbers for large ones. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (Number.isInteger(value) || abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

export const ms = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '—' : `${formatNumber(value)} ms`);
export const signedMs = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '—' : `${value >= 0 ? '+' : ''}${formatNumber(value)} ms`);
export const times = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '—' : `${formatNumber(value)}×`);
