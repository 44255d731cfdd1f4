/** A horizontal bar chart as a standalone SVG document, written by hand (no chart dependency). */

export interface Bar {
  label: string;
  value: number;
  /** Drawn in the accent colour (the Siar rows). */
  highlight?: boolean;
  /** Drawn in the reference colour (nchan, the Node floor). */
  reference?: boolean;
}

export interface BarChartOptions {
  title: string;
  /** Says what the numbers are and which way is better, under the title. */
  subtitle: string;
  bars: readonly Bar[];
  format: (value: number) => string;
}

const WIDTH = 720;
const LABEL_WIDTH = 200;
const VALUE_WIDTH = 110;
const BAR_HEIGHT = 22;
const GAP = 8;
const TOP = 58;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function barChart(options: BarChartOptions): string {
  const bars = options.bars.filter((bar) => Number.isFinite(bar.value));
  const max = Math.max(...bars.map((bar) => bar.value), Number.MIN_VALUE);
  const span = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20;
  const height = TOP + bars.length * (BAR_HEIGHT + GAP) + 16;
  const rows = bars.map((bar, i) => {
    const y = TOP + i * (BAR_HEIGHT + GAP);
    const length = Math.max(1, (bar.value / max) * span);
    const fill = bar.highlight ? '#d9480f' : bar.reference ? '#1971c2' : '#868e96';
    return [
      `<text x="${LABEL_WIDTH - 8}" y="${y + 15}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${length.toFixed(1)}" height="${BAR_HEIGHT}" rx="2" fill="${fill}"/>`,
      `<text x="${(LABEL_WIDTH + length + 6).toFixed(1)}" y="${y + 15}">${escapeXml(options.format(bar.value))}</text>`,
    ].join('\n  ');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13" role="img">
  <title>${escapeXml(`${options.title}: ${options.subtitle}`)}</title>
  <rect width="100%" height="100%" fill="#ffffff"/>
  <text x="12" y="22" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>
  <text x="12" y="42" fill="#495057">${escapeXml(options.subtitle)}</text>
  ${rows.join('\n  ')}
</svg>
`;
}
