/** Log lines kept for assertions (and quiet on the terminal). */
export class LogRecorder {
  readonly lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  private record(level: string) {
    return (fields: Record<string, unknown>, message: string) => {
      this.lines.push({ level, message, fields });
    };
  }
  readonly debug = this.record('debug');
  readonly info = this.record('info');
  readonly warn = this.record('warn');
  readonly error = this.record('error');
  has(pattern: RegExp): boolean {
    return this.lines.some((line) => pattern.test(line.message));
  }
}
