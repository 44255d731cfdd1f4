/**
 * Where Siar writes its log lines. The signature is pino's (`logger.warn(fields, message)`), so a
 * pino logger can be passed as it is; any object with these four methods works.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

function line(level: string) {
  return (fields: Record<string, unknown>, message: string): void => {
    const details = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    process.stderr.write(`siar ${level}: ${message}${details}\n`);
  };
}

/** The default: warnings and errors on stderr, one line each; debug and info are dropped. */
export const stderrLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: line('warn'),
  error: line('error'),
};

/** A logger that drops everything. */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
