import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtherRuntime, otherRuntime, PROJECT_ROOT } from '../../scripts/runtimes.js';
import { createParser, type ParsedEvent } from '../../src/protocol/index.js';
import { waitFor } from '../helpers/net.js';

/*
 * siar/protocol, siar/server's Web Response path (bare and through Hono) and siar/client on Bun and
 * on Deno, each on its own server: test/runtimes/app.ts runs the checks on the runtime and prints
 * what it saw; this file judges it, then tries the same server with a Node.js client.
 */

const APP = 'test/runtimes/app.ts';
/** How long the app may take to start (Deno compiles the TypeScript first) and run its checks. */
const APP_TIMEOUT_MS = 60_000;

/** The history the app serves (test/runtimes/app.ts), as a client sees it. */
const EXPECTED = [
  { type: 'message', data: 'one', id: 'e1' },
  { type: 'message', data: 'two\nlines', id: 'e2' },
  { type: 'price', data: '42', id: 'e3' },
  { type: 'message', data: 'ünïcødé ✓', id: 'e4' },
  { type: 'message', data: '', id: 'e5' },
  { type: 'message', data: 'six', id: 'e6' },
  { type: 'message', data: 'seven', id: 'e7' },
];
/** The Last-Event-ID of each connection, three events to a connection: none, then the last one seen. */
const RECONNECTIONS = ['', 'e3', 'e6'];

interface Line {
  runtime?: string;
  port?: number;
  check?: string;
  route?: string;
  events?: Array<{ type: string; data: string; id: string }>;
  lastEventIds?: string[];
  opened?: number;
  closed?: number;
  done?: boolean;
  error?: string;
}

interface RunningApp {
  child: ChildProcess;
  lines: Line[];
  stderr: string;
  base: string;
  check(name: string, route?: string): Line;
  exited: Promise<number | null>;
}

function command(runtime: OtherRuntime, executable: string): string[] {
  if (runtime === 'bun') return [executable, APP];
  // Only what the app needs: loopback, the project's files, and `.js` imports of `.ts` files as tsc writes them.
  return [
    executable,
    'run',
    '--no-lock',
    '--unstable-sloppy-imports',
    '--allow-net=127.0.0.1',
    `--allow-read=${PROJECT_ROOT}`,
    '--allow-env',
    APP,
  ];
}

async function startApp(runtime: OtherRuntime): Promise<RunningApp> {
  const [executable, ...args] = command(runtime, otherRuntime(runtime));
  const child = spawn(executable as string, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const app: RunningApp = {
    child,
    lines: [],
    stderr: '',
    base: '',
    check(name, route) {
      const line = app.lines.find((each) => each.check === name && each.route === route);
      if (line === undefined)
        throw new Error(`${runtime} printed no "${name}" check${route ? ` for ${route}` : ''}`);
      return line;
    },
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    app.stderr += chunk.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    app.lines.push(JSON.parse(text) as Line);
  });
  const finished = () => app.lines.some((line) => line.done || line.error !== undefined);
  await waitFor(finished, APP_TIMEOUT_MS, `${APP} on ${runtime} to finish its checks`);
  const failure = app.lines.find((line) => line.error !== undefined);
  if (failure) throw new Error(`${APP} on ${runtime} failed: ${failure.error}\n${app.stderr}`);
  app.base = `http://127.0.0.1:${app.lines[0]?.port}`;
  return app;
}

async function status(app: RunningApp): Promise<Record<string, { opened: number; closed: number }>> {
  return (await (await fetch(`${app.base}/status`)).json()) as Record<
    string,
    { opened: number; closed: number }
  >;
}

/** GET with node:http until the server ends the response; the events in it. */
function readEvents(url: string, headers: Record<string, string>): Promise<ParsedEvent[]> {
  return new Promise((resolve, reject) => {
    const events: ParsedEvent[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event) });
    request(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => parser.feed(chunk));
      response.on('end', () => resolve(events));
    })
      .on('error', reject)
      .end();
  });
}

const shape = (event: ParsedEvent) => ({ type: event.type, data: event.data, id: event.lastEventId });

describe.each(['bun', 'deno'] as const)('on %s, with its own server', (runtime) => {
  let app: RunningApp | undefined;

  beforeAll(
    async () => {
      app = await startApp(runtime);
    },
    APP_TIMEOUT_MS + 5 * 60_000,
  );

  afterAll(async () => {
    if (app === undefined) return;
    await fetch(`${app.base}/quit`).catch(() => undefined);
    const code = await Promise.race([
      app.exited,
      new Promise((resolve) => setTimeout(resolve, 5000, 'running')),
    ]);
    if (code === 'running') app.child.kill('SIGKILL');
  });

  const running = () => app as RunningApp;

  it('siar/protocol: what it encodes parses back, a byte at a time, to the same events', () => {
    expect(running().lines[0]?.runtime).toMatch(new RegExp(`^${runtime} \\d`));
    expect(running().check('protocol').events).toEqual(EXPECTED);
  });

  describe.each(['plain', 'hono'])('the %s route', (route) => {
    it("siar/client's EventSource gets every event once, ids and types kept, coming back with Last-Event-ID each time the server ends the stream", () => {
      const line = running().check('event-source', route);
      expect(line.events).toEqual(EXPECTED);
      expect(line.lastEventIds).toEqual(RECONNECTIONS);
    });

    it('subscribe() does the same through its async iterator and its own reconnection', () => {
      const line = running().check('subscribe', route);
      expect(line.events).toEqual(EXPECTED);
      expect(line.lastEventIds).toEqual(RECONNECTIONS);
    });

    it('a client that leaves (EventSource.close(), leaving the loop) closes the stream on the server', () => {
      const line = running().check('leave', route);
      expect(line.opened).toBe(2);
      expect(line.closed).toBe(2);
    });

    it('a Node.js client coming back with Last-Event-ID gets what followed it', async () => {
      const events = await readEvents(`${running().base}/${route}/events`, { 'last-event-id': 'e4' });
      expect(events.map(shape)).toEqual(EXPECTED.slice(4));
    });

    it('a Node.js client whose connection drops: the stream closes on the server', async () => {
      const before = (await status(running()))[route];
      const socket = connect(Number(new URL(running().base).port), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString();
      });
      socket.write(`GET /${route}/stay HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
      await waitFor(() => received.includes('data: stay'), 10_000, 'the first event');
      socket.destroy();
      await waitFor(
        async () => (await status(running()))[route]?.closed === (before?.closed ?? 0) + 1,
        10_000,
        'the server to close the stream',
      );
      expect((await status(running()))[route]?.opened).toBe((before?.opened ?? 0) + 1);
    });
  });

  if (runtime === 'deno') {
    it("ends streams on the runtime's own signal: never reads request.signal (Deno warns of its legacy abort)", () => {
      expect(running().stderr).not.toMatch(/legacy|request\.signal/i);
    });
  }
});
