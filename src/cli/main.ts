#!/usr/bin/env node
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const USAGE = `siar ${version}: server-sent events toolkit and hub

Usage: siar <command> [options]

Commands:
  serve       run the hub (coming with siar/hub)
  publish     publish an update to a hub
  subscribe   print the events of a stream
  token       print a JWT for a hub
  bench       run the benchmarks

Options:
  -h, --help      show this help
  -v, --version   print the version
`;

function main(argv: string[]): number {
  const [command] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  process.stderr.write(`siar: "${command}" is not available in this version yet.\n\n${USAGE}`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
