#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { type Command, UsageError } from './command.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Each command lives in its own module (exporting `command`), loaded only when it runs. */
const commands: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  serve: { summary: 'run the Mercure hub', load: () => import('./serve.js') },
  publish: { summary: 'publish an update to a hub', load: () => import('./publish.js') },
  token: { summary: 'print a JWT for a hub', load: () => import('./token.js') },
  subscribe: { summary: "print an SSE stream's events as they arrive", load: () => import('./subscribe.js') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(11)} ${summary}`);
  return `siar ${version}: server-sent events toolkit and Mercure hub

Usage: siar <command> [options]

Commands:
${lines.join('\n')}

Run "siar <command> --help" for a command's options and examples.

Options:
  -h, --help      show this help
  -v, --version   print the version
`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (name === '-v' || name === '--version') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`siar: unknown command "${name}". Run "siar --help" to see the commands.\n`);
    return 2;
  }
  const { command } = await entry.load();
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(command.help);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`siar: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(
      `siar: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
