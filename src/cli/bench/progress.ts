/** Width of the bar, in characters. */
const BAR_WIDTH = 30;

/**
 * Draws a progress bar on one line of a terminal (`\r` then the bar): the label, the bar, the
 * percentage and `done/total`. Call it again to redraw; end the line yourself when done.
 */
export function drawProgress(
  stream: NodeJS.WritableStream,
  label: string,
  done: number,
  total: number,
  unit = '',
): void {
  const part = Math.min(done, total) / Math.max(total, 1);
  const filled = Math.round(BAR_WIDTH * part);
  const count = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  stream.write(
    `\r${label.padEnd(11)} [${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(100 * part)).padStart(3)}%  ${count(done)}/${count(total)}${unit}   `,
  );
}
