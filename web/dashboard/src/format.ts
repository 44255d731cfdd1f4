const whole = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const tenths = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

/** 12,345 */
export function count(value: number): string {
  return whole.format(value);
}

/** 12.3 under 100, 1,234 above. */
export function amount(value: number): string {
  return Math.abs(value) < 100 ? tenths.format(value) : whole.format(value);
}

/** Milliseconds, to the microsecond under 1 ms. */
export function millis(value: number): string {
  if (value < 1) return `${value.toFixed(3)} ms`;
  if (value < 100) return `${value.toFixed(1)} ms`;
  return `${whole.format(value)} ms`;
}

/** 3d 4h, 2h 5m, 4m 10s, 12s */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}
