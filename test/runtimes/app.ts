/**
 * Run by Bun or Deno, never by Node.js (test/runtimes/runtimes.test.ts spawns it): serves siar's Web
 * `Response` path on the runtime's own server (`Bun.serve`, `Deno.serve`), both bare
 * (`createEventStreamResponse`) and through Hono (`honoEventStream`), drives it with `siar/client` on
 * the same runtime, and prints what it saw, one JSON line per check, for the test to judge. It then
 * serves on until the test asks for `/quit`, so that a Node.js client can try the same server.
 */
import { Hono } from 'hono';
import { EventSource, subscribe } from '../../src/client/index.js';
import { createParser, encode, type ParsedEvent } from '../../src/protocol/index.js';
import {
  createEventStreamResponse,
  type EventStream,
  type EventStreamResponseOptions,
  honoEventStream,
} from '../../src/server/index.js';

/** Deno.serve's second argument; Bun passes its server there instead. */
interface HandlerInfo {
  completed?: Promise<void>;
}
type Handler = (request: Request, info?: HandlerInfo) => Response | Promise<Response>;

interface RuntimeGlobals {
  Bun?: {
    version: string;
    serve(options: { port: number; hostname: string; fetch: Handler; idleTimeout: number }): {
      port: number;
      stop(closeActive?: boolean): unknown;
    };
  };
  Deno?: {
    version: { deno: string };
    serve(
      options: { port: number; hostname: string; onListen(address: { port: number }): void },
      handler: Handler,
    ): { shutdown(): Promise<void> };
    exit(code: number): never;
  };
}

const runtime = globalThis as unknown as RuntimeGlobals;
const runtimeName = runtime.Deno ? `deno ${runtime.Deno.version.deno}` : `bun ${runtime.Bun?.version}`;

/** Every wait here is bounded: a check that hangs fails the run instead. */
const WAIT_MS = 10_000;
/** How long it serves the test's own client after its checks. */
const QUIT_WAIT_MS = 60_000;
const ROUTES = ['plain', 'hono'] as const;
type Route = (typeof ROUTES)[number];

/** The history every event route replays from: what a client missed since its Last-Event-ID. */
const HISTORY = [
  { id: 'e1', data: 'one' },
  { id: 'e2', data: 'two\nlines' },
  { id: 'e3', event: 'price', data: '42' },
  { id: 'e4', data: 'ünïcødé ✓' },
  { id: 'e5', data: '' },
  { id: 'e6', data: 'six' },
  { id: 'e7', data: 'seven' },
];
/** Each connection gets at most this many events, then the server ends it: the client must come back. */
const PER_CONNECTION = 3;

const state: Record<Route, { lastEventIds: string[]; opened: number; closed: number }> = {
  plain: { lastEventIds: [], opened: 0, closed: 0 },
  hono: { lastEventIds: [], opened: 0, closed: 0 },
};

function print(line: Record<string, unknown>): void {
  console.log(JSON.stringify(line));
}

/** What every event route does with its stream, bare or through Hono. */
function sendFromHistory(route: Route, stream: EventStream): void {
  state[route].lastEventIds.push(stream.lastEventId);
  const from =
    stream.lastEventId === '' ? 0 : HISTORY.findIndex((event) => event.id === stream.lastEventId) + 1;
  for (const event of HISTORY.slice(from, from + PER_CONNECTION)) stream.send(event);
  stream.close();
}

/** A stream that stays open until its client leaves; the server counts both ends. */
function stay(route: Route, stream: EventStream): void {
  state[route].opened++;
  stream.send({ id: 's1', data: 'stay' });
  void stream.closed.then(() => state[route].closed++);
}

const options: EventStreamResponseOptions = { retry: 20, heartbeatMs: 1000 };

const hono = new Hono();
hono.get('/hono/events', (c) => honoEventStream(c, (stream) => sendFromHistory('hono', stream), options));
hono.get('/hono/stay', (c) => honoEventStream(c, (stream) => stay('hono', stream), options));

let quit: (() => void) | undefined;

const handler: Handler = (request, info) => {
  const { pathname } = new URL(request.url);
  if (pathname.startsWith('/hono/')) return hono.fetch(request, info);
  // On Deno, the runtime's own end of a response; on Bun, the request's signal (the default).
  const own = { ...options, completed: info?.completed };
  if (pathname === '/plain/events') {
    const stream = createEventStreamResponse(request, own);
    sendFromHistory('plain', stream);
    return stream.response;
  }
  if (pathname === '/plain/stay') {
    const stream = createEventStreamResponse(request, own);
    stay('plain', stream);
    return stream.response;
  }
  if (pathname === '/status') return Response.json(state);
  if (pathname === '/quit') {
    setTimeout(() => quit?.(), 10);
    return new Response('bye');
  }
  return new Response('not found', { status: 404 });
};

async function serve(): Promise<{ port: number; stop(): Promise<void> }> {
  const { Bun, Deno } = runtime;
  if (Deno) {
    return new Promise((resolve) => {
      const server = Deno.serve(
        {
          port: 0,
          hostname: '127.0.0.1',
          onListen: ({ port }) => resolve({ port, stop: () => server.shutdown() }),
        },
        handler,
      );
    });
  }
  if (Bun) {
    // Bun ends a connection idle for idleTimeout seconds (10 by default), event streams too: with
    // heartbeats every second this one is never idle, and 0 turns the limit off.
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: handler, idleTimeout: 0 });
    return { port: server.port, stop: async () => void server.stop(true) };
  }
  throw new Error('test/runtimes/app.ts runs on Bun or Deno.');
}

async function within<T>(what: string, promise: Promise<T>, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  await within(
    what,
    (async () => {
      while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
  );
}

function shape(event: ParsedEvent): { type: string; data: string; id: string } {
  return { type: event.type, data: event.data, id: event.lastEventId };
}

/** The protocol alone: encoded, then parsed back a byte at a time. */
function protocolCheck(): void {
  const bytes = new TextEncoder().encode(HISTORY.map((event) => encode(event)).join(''));
  const events: ParsedEvent[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  for (const byte of bytes) parser.feed(Uint8Array.of(byte));
  parser.end();
  print({ check: 'protocol', events: events.map(shape) });
}

/** siar's EventSource: every event once, across the connections the server ends. */
async function eventSourceCheck(base: string, route: Route): Promise<void> {
  const seen: Array<{ type: string; data: string; id: string }> = [];
  const source = new EventSource(`${base}/${route}/events`);
  const record = (event: Event) => {
    const message = event as MessageEvent<string>;
    seen.push({ type: message.type, data: message.data, id: message.lastEventId });
  };
  source.addEventListener('message', record);
  source.addEventListener('price', record);
  try {
    await until(`${route}: EventSource gets ${HISTORY.length} events`, () => seen.length >= HISTORY.length);
  } finally {
    source.close();
  }
  print({ check: 'event-source', route, events: seen, lastEventIds: state[route].lastEventIds.splice(0) });
}

/** siar's subscribe(): the same, through its async iterator and its own reconnection. */
async function subscribeCheck(base: string, route: Route): Promise<void> {
  const seen: Array<{ type: string; data: string; id: string }> = [];
  const subscription = subscribe(`${base}/${route}/events`, {
    reconnect: { initialDelayMs: 10, maxDelayMs: 50, jitter: 0 },
  });
  await within(
    `${route}: subscribe() gets ${HISTORY.length} events`,
    (async () => {
      for await (const event of subscription) {
        seen.push(shape(event));
        if (seen.length === HISTORY.length) break;
      }
    })(),
  );
  print({ check: 'subscribe', route, events: seen, lastEventIds: state[route].lastEventIds.splice(0) });
}

/** A client that leaves: the server's stream must close, not wait for a write to fail. */
async function leaveCheck(base: string, route: Route): Promise<void> {
  const before = { ...state[route] };
  const source = new EventSource(`${base}/${route}/stay`);
  await within(
    `${route}: the first event of /stay`,
    new Promise((resolve) => source.addEventListener('message', resolve, { once: true })),
  );
  source.close();
  await until(`${route}: the server sees the EventSource leave`, () => state[route].closed > before.closed);
  await within(
    `${route}: subscribe() to /stay, left after its first event`,
    (async () => {
      for await (const _ of subscribe(`${base}/${route}/stay`)) break;
    })(),
  );
  await until(`${route}: the server sees subscribe() leave`, () => state[route].closed > before.closed + 1);
  print({
    check: 'leave',
    route,
    opened: state[route].opened - before.opened,
    closed: state[route].closed - before.closed,
  });
}

async function main(): Promise<void> {
  const server = await serve();
  const base = `http://127.0.0.1:${server.port}`;
  print({ runtime: runtimeName, port: server.port });
  protocolCheck();
  for (const route of ROUTES) {
    await eventSourceCheck(base, route);
    await subscribeCheck(base, route);
    await leaveCheck(base, route);
  }
  print({ done: true });
  await within('a request for /quit', new Promise<void>((resolve) => (quit = resolve)), QUIT_WAIT_MS);
  await server.stop();
}

main().then(
  () => runtime.Deno?.exit(0) ?? process.exit(0),
  (error: unknown) => {
    print({ error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
    return runtime.Deno?.exit(1) ?? process.exit(1);
  },
);
