#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import type { Command } from './command.js';
import { styleFor } from './style.js';
import { UsageError } from './usage-error.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/**
 * Each command lives in its own module (exporting `command`), loaded only when it runs; its one-line
 * summary is here, so that `siar --help` loads none of them.
 */
const commands: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  serve: {
    summary: 'run the Mercure hub (memory, SQLite or Redis store; dashboard; demo page)',
    load: () => import('./serve.js'),
  },
  publish: { summary: 'publish an update to a hub', load: () => import('./publish.js') },
  token: { summary: 'print a JWT for a hub', load: () => import('./token.js') },
  subscribe: { summary: "print an SSE stream's events as they arrive", load: () => import('./subscribe.js') },
  bench: { summary: 'measure a hub on this machine', load: () => import('./bench.js') },
  plan: {
    summary: 'plan processes, machines and limits from a calibration here',
    load: () => import('./plan.js'),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(11)} ${summary}`);
  return `siar ${version}: server-sent events toolkit and Mercure hub

Usage: siar <command> [options]

Commands:
${lines.join('\n')}

Options:
  -h, --help      show this help
  -v, --version   print the version

Examples:
  siar serve --demo
      a hub on http://localhost:3000 with a development key, the demo page and the dashboard
  siar token --publish '*' --subscribe '*' --key "$SECRET"
      a JWT allowed to publish and to receive every private update
  siar publish --topic https://example.com/books/1 --data '{"status":"sold"}' --key "$SECRET"
  siar subscribe http://localhost:3000/.well-known/mercure --topic https://example.com/books/1

Run "siar <command> --help" for a command's options and more examples.
`;
}

/** Edit distance, for "did you mean" on a mistyped command. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + cost);
    }
    row = next;
  }
  return row[b.length] as number;
}

/** Writes an error line for a person: "siar:" in red on a terminal. */
function fail(message: string): void {
  process.stderr.write(`${styleFor(process.stderr).red('siar:')} ${message}\n`);
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
    const near = Object.keys(commands).find((command) => distance(name, command) <= 2);
    fail(
      `unknown command "${name}".${near ? ` Did you mean "siar ${near}"?` : ''} Run "siar --help" to see the commands.`,
    );
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
      fail(error.message);
      process.exitCode = error.exitCode;
      return;
    }
    fail(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` +
        'This is a bug in siar: please report it with the command you ran and the lines above.',
    );
    process.exitCode = 1;
  },
);
