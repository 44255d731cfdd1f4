// A line chart in plain SVG: a few series over the charts' time window, gaps where a value is missing.
import { amount } from './format.js';

export interface Series {
  label: string;
  /** A CSS colour (a custom property of the page). */
  color: string;
  values: ReadonlyArray<number | null>;
}

interface ChartProps {
  id: string;
  title: string;
  unit: string;
  times: readonly number[];
  series: readonly Series[];
  /** The right edge (the latest figures' time) and the width of the window, in ms. */
  now: number;
  windowMs: number;
}

const WIDTH = 600;
const HEIGHT = 160;

/** The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `value`, so the axis reads in round numbers. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** The SVG path of one series: a line through its points, broken where a value is missing; a point alone is a dot. */
function path(
  times: readonly number[],
  values: ReadonlyArray<number | null>,
  x: (t: number) => number,
  y: (v: number) => number,
): string {
  let d = '';
  values.forEach((value, i) => {
    const time = times[i];
    if (value === null || time === undefined) return;
    const joined = i > 0 && values[i - 1] !== null;
    const alone = !joined && (values[i + 1] ?? null) === null;
    // A zero-length segment with round caps draws the dot.
    d += `${joined ? 'L' : 'M'}${x(time).toFixed(1)},${y(value).toFixed(1)}${alone ? 'h0.01' : ''}`;
  });
  return d;
}

export function LineChart({ id, title, unit, times, series, now, windowMs }: ChartProps) {
  let highest = 0;
  for (const { values } of series)
    for (const value of values) if (value !== null && value > highest) highest = value;
  const top = niceCeiling(highest);
  const start = now - windowMs;
  const x = (time: number) => ((time - start) / windowMs) * WIDTH;
  const y = (value: number) => HEIGHT - (value / top) * HEIGHT;
  const points = series.reduce((sum, { values }) => sum + values.filter((value) => value !== null).length, 0);
  const latest = series.map(({ values }) => values.at(-1) ?? null);
  return (
    <figure class="chart" id={id}>
      <figcaption>
        <span class="chart-title">{title}</span>
        <span class="legend">
          {series.map(({ label, color }, i) => (
            <span key={label} class="legend-item">
              <i style={{ background: color }} />
              {label} <b>{latest[i] === null || latest[i] === undefined ? '–' : amount(latest[i])}</b>
            </span>
          ))}
        </span>
      </figcaption>
      <div class="plot">
        <span class="axis top">
          {amount(top)} {unit}
        </span>
        <span class="axis zero">0</span>
        <svg
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={title}
          data-points={points}
        >
          {[0.25, 0.5, 0.75].map((f) => (
            <line key={f} class="grid" x1="0" x2={WIDTH} y1={HEIGHT * f} y2={HEIGHT * f} />
          ))}
          {series.map(({ label, color, values }) => (
            <path key={label} class="line" d={path(times, values, x, y)} style={{ stroke: color }} />
          ))}
        </svg>
      </div>
      <div class="time-axis">
        <span>{Math.round(windowMs / 60_000)} min ago</span>
        <span>now</span>
      </div>
    </figure>
  );
}
