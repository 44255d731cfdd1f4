/** One `siar` command: its help text and what it does. */
export interface Command {
  /** One line for `siar --help`. */
  summary: string;
  /** The whole help of `siar <command> --help`, with examples. */
  help: string;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** An error the user can act on: printed without a stack trace, with the exit code given. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode: number;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}
