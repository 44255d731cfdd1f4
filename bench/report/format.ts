/** How the report writes numbers and tables. */
import { isSiar, type Row } from './outcomes.js';

export function number(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const us = (value: number | undefined) => number(value, 1);
export const ms = (value: number | undefined) => number(value, 1);
export const kb = (value: number | undefined) => (value === undefined ? '–' : number(value / 1000, 1));
export const mb = (value: number | undefined) => (value === undefined ? '–' : number(value / 1e6, 1));
export const rate = (value: number | undefined) => number(value);

export function table(header: string[], rows: string[][]): string {
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [header, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** a ÷ b as "0.95x", or "–" when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b !== undefined && b > 0 ? `${number(a / b, 2)}x` : '–';
}

/** The label cell: the server's name, and how many of its runs failed when some did. */
export function label(row: Row): string {
  const bold = isSiar(row) ? `**${row.label}**` : row.label;
  return row.failures.length > 0 ? `${bold} (${row.failures.length} run(s) failed)` : bold;
}
