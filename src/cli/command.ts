import { type Flags, type FlagValues, flagsHelp, parseFlags } from './flags.js';

/** One `siar` command: its help text and what it does. (Its one-line summary is in main.ts.) */
export interface Command {
  /** The whole help of `siar <command> --help`, with examples. */
  help: string;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** A command as written: its help's parts around its table of flags, and what it does with their values. */
export interface CommandSpec<F extends Flags> {
  /** As in `siar <name>`. */
  name: string;
  /** What follows `siar <name>` on the usage line: `<url> [options]`. */
  usage: string;
  /** What the command does: the paragraph under the usage line. */
  about: string;
  flags: F;
  /** Whether it takes arguments other than flags (a URL); it checks them itself. */
  positionals?: boolean;
  /** What the help says after the options: notes, exit status, examples. */
  more: string;
  run(values: FlagValues<F>, positionals: string[]): Promise<number>;
}

/** The command a spec describes: help and parsing both from its flags. */
export function defineCommand<const F extends Flags>(spec: CommandSpec<F>): Command {
  return {
    help: `Usage: siar ${spec.name} ${spec.usage}\n\n${spec.about}\n\n${flagsHelp(spec.flags)}\n${spec.more}`,
    run(argv) {
      const { values, positionals } = parseFlags(spec.name, spec.flags, argv, process.env, spec.positionals);
      return spec.run(values, positionals);
    },
  };
}
