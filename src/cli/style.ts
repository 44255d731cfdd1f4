/** ANSI styles for terminal output; each is the identity when colour is off. */
export interface Style {
  /** Whether the styles add escape codes. */
  readonly color: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const plain = (text: string) => text;

/**
 * The styles for writing to `stream`: colour only when it is a terminal and `NO_COLOR` is unset or
 * empty (https://no-color.org), so piped output and log files hold plain text.
 */
export function styleFor(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined> = process.env,
): Style {
  const color = stream.isTTY === true && !env.NO_COLOR;
  const paint = (open: number, close: number) =>
    color ? (text: string) => `\x1b[${open}m${text}\x1b[${close}m` : plain;
  return {
    color,
    bold: paint(1, 22),
    dim: paint(2, 22),
    red: paint(31, 39),
    green: paint(32, 39),
    yellow: paint(33, 39),
    cyan: paint(36, 39),
  };
}
