import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/net.js';

const scripts: Record<string, string> = JSON.parse(readFileSync('package.json', 'utf8')).scripts;

let children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(
    children.map((child) =>
      child.exitCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve).kill()),
    ),
  );
  children = [];
});

/** Runs a `node …` command line as npm would (env PORT=0: any free port) and collects its output. */
function run(command: string, args: string[] = []) {
  const [program, ...rest] = command.split(' ');
  expect(program).toBe('node');
  const child = spawn(process.execPath, [...rest, ...args], {
    env: { ...process.env, PORT: '0', API_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return {
    output: () => output,
    /** Waits until the output matches `pattern`; returns the match. */
    waitFor: (pattern: RegExp): Promise<RegExpExecArray> =>
      waitFor(() => pattern.exec(output), 15_000, `${pattern} in the output of ${command}`).then(
        (match) => match as RegExpExecArray,
        (error: Error) => {
          throw new Error(`${error.message}; it printed:\n${output}`);
        },
      ),
  };
}

const url = /http:\/\/localhost:\d+/;

describe('npm run example:<name>', () => {
  it('example:counter serves the stream at the URL it prints', async () => {
    const [printed] = await run(scripts['example:counter'] as string).waitFor(url);
    const response = await fetch(`${printed}/stream`);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await response.body?.cancel();
  });

  it('example:json serves its page at the URL it prints', async () => {
    const [printed] = await run(scripts['example:json'] as string).waitFor(url);
    expect(await (await fetch(printed)).text()).toContain('new EventSource');
  });

  it('example:cookie-auth serves the page and the backend at the URLs it prints', async () => {
    const match = await run(scripts['example:cookie-auth'] as string).waitFor(
      /open (http:\/\/localhost:\d+) \(the SSE backend is (http:\/\/localhost:\d+)/,
    );
    const [, page, api] = match;
    expect(await (await fetch(page as string)).text()).toContain(api);
    expect((await fetch(`${api}/events`, { headers: { origin: page as string } })).status).toBe(401);
  });

  it('example:ticker serves its page at the URL it prints', async () => {
    const [printed] = await run(scripts['example:ticker'] as string).waitFor(url);
    expect(await (await fetch(printed)).text()).toContain("addEventListener('price'");
  });

  it('example:handshake, with the Node client it names, delivers a message', async () => {
    const server = run(scripts['example:handshake'] as string);
    const [, handshakeUrl] = await server.waitFor(/node --import tsx examples\/handshake\/client\.ts (\S+)/);
    const client = run('node --import tsx examples/handshake/client.ts', [handshakeUrl as string]);
    await server.waitFor(/client connected/);
    const base = (handshakeUrl as string).replace('/handshake', '');
    expect(await (await fetch(`${base}/sendmessage?message=hi`)).text()).toBe('Sent to 1 client(s).\n');
    await client.waitFor(/message: hi/);
  });
});
