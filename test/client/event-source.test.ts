import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { EventSource, type EventSourceErrorEvent, type EventSourceInit } from '../../src/client/index.js';
import { parseAll } from '../../src/protocol/index.js';
import { sleep, waitFor } from '../helpers/net.js';
import {
  eventStream,
  type Script,
  type ScriptedServer,
  splitAt,
  startScriptedServer,
  writeChunks,
} from '../helpers/scripted-server.js';

// Each case is one rule of the HTML standard's EventSource (§9.2), most named after the WPT
// eventsource test that checks the same rule in browsers. The servers are raw node:http scripts.

const servers: ScriptedServer[] = [];
const sources: EventSource[] = [];

afterEach(async () => {
  for (const source of sources.splice(0)) source.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(script: Script): Promise<ScriptedServer> {
  const server = await startScriptedServer(script);
  servers.push(server);
  return server;
}

function open(url: string | URL, init?: EventSourceInit): EventSource {
  const source = new EventSource(url, init);
  sources.push(source);
  return source;
}

/** What an EventSource dispatched, in order, one line each. */
interface Log {
  lines: string[];
  errors: EventSourceErrorEvent[];
  messages: MessageEvent<string>[];
}

/** Records open, error, message and the named `types`, each with the readyState at dispatch. */
function record(source: EventSource, types: string[] = []): Log {
  const log: Log = { lines: [], errors: [], messages: [] };
  source.addEventListener('open', () => log.lines.push(`open ${source.readyState}`));
  source.addEventListener('error', (event) => {
    log.errors.push(event);
    log.lines.push(`error ${source.readyState}`);
  });
  for (const type of ['message', ...types]) {
    source.addEventListener(type, (event: MessageEvent<string>) => {
      log.messages.push(event);
      log.lines.push(`${event.type} ${JSON.stringify(event.data)} id=${JSON.stringify(event.lastEventId)}`);
    });
  }
  return log;
}

const stream =
  (text: string, end = true): Script =>
  (_request, res) => {
    eventStream(res);
    if (end) res.end(text);
    else res.write(text);
  };

describe('EventSource: connecting', () => {
  it('sends Accept: text/event-stream and Cache-Control: no-cache, then dispatches open and messages (request-accept, request-cache-control, eventsource-onopen)', async () => {
    const server = await serve(stream('data: hello\n\n', false));
    const source = open(`${server.origin}/events`);
    expect(source.readyState).toBe(EventSource.CONNECTING);
    const log = record(source);
    const opened = new Promise<Event>((resolve) => source.addEventListener('open', resolve));

    const request = await server.waitForRequests(1);
    expect(request.headers.accept).toBe('text/event-stream');
    expect(request.headers['cache-control']).toBe('no-cache');
    expect(request.lastEventId).toBeUndefined();

    const openEvent = await opened;
    expect(openEvent.constructor).toBe(Event);
    expect(openEvent.bubbles).toBe(false);
    expect(openEvent.cancelable).toBe(false);
    await waitFor(() => log.messages.length === 1);
    const [message] = log.messages;
    expect(message).toBeInstanceOf(MessageEvent);
    expect({ data: message?.data, lastEventId: message?.lastEventId, origin: message?.origin }).toEqual({
      data: 'hello',
      lastEventId: '',
      origin: server.origin,
    });
    expect(log.lines).toEqual(['open 1', 'message "hello" id=""']);
  });

  it('has CONNECTING, OPEN and CLOSED on the class and on every instance, and exposes url and withCredentials', async () => {
    const server = await serve(stream('', false));
    expect([EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED]).toEqual([0, 1, 2]);
    const source = open(new URL(`${server.origin}/a/../events?x=1`), { withCredentials: true });
    expect([source.CONNECTING, source.OPEN, source.CLOSED]).toEqual([0, 1, 2]);
    expect(Object.hasOwn(source, 'OPEN')).toBe(false);
    expect(source.url).toBe(`${server.origin}/events?x=1`);
    expect(source.withCredentials).toBe(true);
    expect(open(server.origin).withCredentials).toBe(false);
  });

  it('throws a SyntaxError DOMException for a URL it cannot parse (eventsource-constructor-url-bogus)', () => {
    for (const url of ['http://this is invalid/', '', '/relative']) {
      let thrown: unknown;
      try {
        open(url);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DOMException);
      expect((thrown as DOMException).name).toBe('SyntaxError');
    }
  });

  it('fails a URL whose scheme is not http or https, after the constructor returns (eventsource-constructor-non-same-origin)', async () => {
    for (const url of ['ftp://127.0.0.1/', 'mailto:someone@example.com']) {
      const source = open(url);
      const log = record(source);
      expect(log.lines).toEqual([]);
      await waitFor(() => log.errors.length === 1);
      expect(source.readyState).toBe(EventSource.CLOSED);
      expect(log.lines).toEqual(['error 2']);
    }
  });

  it('sends the headers option, but always its own Accept, Cache-Control and Last-Event-ID', async () => {
    const server = await serve(stream('', false));
    open(server.origin, {
      headers: {
        Authorization: 'Bearer token',
        Cookie: 'mercureAuthorization=abc',
        Accept: 'text/html',
        'Cache-Control': 'max-age=60',
        'Last-Event-ID': 'forged',
      },
    });
    const { headers } = await server.waitForRequests(1);
    expect(headers.authorization).toBe('Bearer token');
    expect(headers.cookie).toBe('mercureAuthorization=abc');
    expect(headers.accept).toBe('text/event-stream');
    expect(headers['cache-control']).toBe('no-cache');
    expect(headers['last-event-id']).toBeUndefined();
  });

  it('uses the fetch option for every request', async () => {
    const server = await serve(stream('retry: 20\ndata: x\n\n'));
    const urls: string[] = [];
    const source = open(server.origin, {
      fetch: (url, init) => {
        urls.push(url);
        return fetch(url, init);
      },
    });
    const log = record(source);
    await waitFor(() => log.messages.length >= 2);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    expect(new Set(urls)).toEqual(new Set([`${server.origin}/`]));
  });
});

describe('EventSource: failing for good', () => {
  /**
   * The first response is a stream that sets `retry: 20` and ends, so the EventSource reconnects
   * quickly; the second is `respond`. A failure must close it: one error, CLOSED, and no third
   * request even after many reconnection times.
   */
  async function expectFailureOnReconnect(respond: (res: ServerResponse) => void) {
    const server = await serve((request, res) => {
      if (request.index === 0) {
        eventStream(res);
        res.end('retry: 20\ndata: first\n\n');
      } else respond(res);
    });
    const source = open(server.origin);
    const log = record(source);
    await waitFor(() => source.readyState === EventSource.CLOSED, 5000, 'CLOSED');
    await sleep(200);
    expect(server.requests.length).toBe(2);
    expect(log.lines).toEqual(['open 1', 'message "first" id=""', 'error 0', 'error 2']);
    return log.errors[1] as EventSourceErrorEvent;
  }

  it.each([204, 205, 210, 299, 404, 410, 500, 503])(
    'fails on HTTP %i: CLOSED, one error, no reconnection (request-status-error)',
    async (status) => {
      const error = await expectFailureOnReconnect((res) => {
        res.writeHead(status, { 'content-type': 'text/event-stream', 'retry-after': '0' });
        res.end(status === 204 || status === 205 ? undefined : 'retry: 20\ndata: ignored\n\n');
      });
      expect(error.status).toBe(status);
      expect(error.message).toContain(String(status));
    },
  );

  it('fails on the first connection too, without ever opening', async () => {
    const server = await serve((_request, res) => {
      res.writeHead(503);
      res.end();
    });
    const source = open(server.origin);
    const log = record(source);
    await waitFor(() => log.errors.length === 1);
    await sleep(50);
    expect(log.lines).toEqual(['error 2']);
    expect(server.requests.length).toBe(1);
  });

  it.each([
    'text/plain',
    'x bogus',
    'text/x-bogus',
    'text/event-streams',
    'application/json; type=text/event-stream',
    '',
  ])('fails on Content-Type %j (format-mime-bogus, format-mime-valid-bogus)', async (contentType) => {
    const error = await expectFailureOnReconnect((res) => {
      res.writeHead(200, contentType === '' ? {} : { 'content-type': contentType });
      res.end('retry: 20\ndata: ignored\n\n');
    });
    expect(error.status).toBe(200);
    expect(error.message).toContain('text/event-stream');
  });

  it.each([
    'text/event-stream;',
    'text/event-stream; charset=utf-8',
    'TEXT/Event-Stream',
    'text/event-stream;charset=windows-1252',
  ])(
    'accepts Content-Type %j, and decodes as UTF-8 whatever the charset (format-mime-trailing-semicolon, format-utf-8)',
    async (contentType) => {
      const server = await serve((_request, res) => {
        res.writeHead(200, { 'content-type': contentType });
        res.write('data: ok…\n\n');
      });
      const log = record(open(server.origin));
      await waitFor(() => log.messages.length === 1);
      expect(log.lines).toEqual(['open 1', 'message "ok…" id=""']);
    },
  );
});

describe('EventSource: redirects', () => {
  it.each([301, 302, 303, 307, 308])(
    'follows a %i redirect, takes origin from the final URL, and reconnects to the original URL (request-redirect)',
    async (status) => {
      const target = await serve((request, res) => {
        eventStream(res);
        res.end(`retry: 20\nid: ${request.index}\ndata: from the target\n\n`);
      });
      const start = await serve((_request, res) => {
        res.writeHead(status, { location: `${target.origin}/stream` });
        res.end();
      });
      expect(new URL(target.origin).origin).not.toBe(new URL(start.origin).origin);
      const source = open(`${start.origin}/start`);
      const log = record(source);
      await waitFor(() => log.messages.length === 2, 5000, 'two messages');
      source.close();
      expect(log.messages.map((event) => event.origin)).toEqual([target.origin, target.origin]);
      expect(source.url).toBe(`${start.origin}/start`);
      // The reconnection went to the original URL, then was redirected again.
      expect(start.requests.map((request) => request.url)).toEqual(['/start', '/start']);
      expect(target.requests.map((request) => request.url)).toEqual(['/stream', '/stream']);
      expect(target.requests[1]?.lastEventId).toBe('0');
    },
  );
});

describe('EventSource: reconnecting', () => {
  it('fires error with CONNECTING when the stream ends, then reconnects with Last-Event-ID (eventsource-reconnect, format-field-id)', async () => {
    const server = await serve((request, res) => {
      eventStream(res);
      if (request.index === 0) res.end('retry: 20\nid: é…1\ndata: a\n\n');
      else res.write('data: b\n\n');
    });
    const source = open(server.origin);
    const log = record(source);
    await waitFor(() => log.messages.length === 2);
    expect(log.lines).toEqual([
      'open 1',
      'message "a" id="é…1"',
      'error 0',
      'open 1',
      'message "b" id="é…1"',
    ]);
    expect(server.requests.map((request) => request.lastEventId)).toEqual([undefined, 'é…1']);
    expect(log.errors[0]?.constructor.name).toBe('EventSourceErrorEvent');
    expect(log.errors[0]).toBeInstanceOf(Event);
    expect(log.errors[0]).not.toBeInstanceOf(MessageEvent);
  });

  it('keeps the last event ID across reconnections, and an empty id: clears it (format-field-id-2, format-field-id-3)', async () => {
    const server = await serve((request, res) => {
      eventStream(res);
      const scripts = ['retry: 20\nid: 1\ndata: a\n\n', 'data: b\n\n', 'id:\ndata: c\n\n', 'data: d\n\n'];
      res.end(scripts[request.index] ?? '');
    });
    const source = open(server.origin);
    const log = record(source);
    await waitFor(() => log.messages.length === 4);
    source.close();
    expect(log.messages.map((event) => [event.data, event.lastEventId])).toEqual([
      ['a', '1'],
      ['b', '1'],
      ['c', ''],
      ['d', ''],
    ]);
    expect(server.requests.slice(0, 4).map((request) => request.lastEventId)).toEqual([
      undefined,
      '1',
      '1',
      undefined,
    ]);
  });

  it('discards an unfinished event at the end of the stream, its id too (format-data-before-final-empty-line)', async () => {
    const server = await serve(stream('retry: 20\ndata: test1\n\nid: test\ndata: test2'));
    const source = open(server.origin);
    const log = record(source);
    await waitFor(() => log.messages.length === 2);
    source.close();
    expect(log.messages.map((event) => [event.data, event.lastEventId])).toEqual([
      ['test1', ''],
      ['test1', ''],
    ]);
    expect(server.requests[1]?.lastEventId).toBeUndefined();
  });

  it('reconnects after a network error', async () => {
    const server = await serve((request, res, req) => {
      if (request.index === 1) {
        req.socket.destroy();
        return;
      }
      eventStream(res);
      const text = `retry: 20\ndata: ${request.index}\n\n`;
      if (request.index === 0) res.end(text);
      else res.write(text);
    });
    const source = open(server.origin);
    const log = record(source);
    await waitFor(() => log.messages.length === 2);
    source.close();
    expect(log.lines).toEqual([
      'open 1',
      'message "0" id=""',
      'error 0',
      'error 0',
      'open 1',
      'message "2" id=""',
    ]);
    expect(log.errors[1]?.message).toMatch(/failed/);
  });

  it('waits the reconnection time the server sets with retry: (format-field-retry)', async () => {
    const server = await serve(stream('retry: 300\ndata: a\n\n'));
    const source = open(server.origin);
    let errorAt = 0;
    source.onerror = () => {
      errorAt ||= performance.now();
    };
    const second = await server.waitForRequests(2);
    source.close();
    expect(second.at - errorAt).toBeGreaterThanOrEqual(250);
  });

  it('waits 3000 ms by default: no reconnection soon after the stream ends', async () => {
    const server = await serve(stream('data: a\n\n'));
    const source = open(server.origin);
    const log = record(source);
    await waitFor(() => log.errors.length === 1);
    expect(source.readyState).toBe(EventSource.CONNECTING);
    await sleep(500);
    expect(server.requests.length).toBe(1);
  });
});

describe('EventSource: close()', () => {
  it('closes synchronously and cancels the request: the server sees the connection close (eventsource-close)', async () => {
    const server = await serve(stream('data: a\n\n', false));
    const source = open(server.origin);
    await new Promise((resolve) => source.addEventListener('message', resolve));
    expect(source.readyState).toBe(EventSource.OPEN);
    source.close();
    expect(source.readyState).toBe(EventSource.CLOSED);
    const request = server.requests[0];
    await request?.closed;
    expect(request?.abortedByClient()).toBe(true);
  });

  it('stops a pending reconnection: the server sees no new request', async () => {
    const server = await serve(stream('retry: 100\ndata: a\n\n'));
    const source = open(server.origin);
    const log = record(source);
    await waitFor(() => log.errors.length === 1);
    expect(source.readyState).toBe(EventSource.CONNECTING);
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timers();
    source.close();
    // The reconnection timer is cleared, so it does not hold the process open for the delay.
    expect(timers()).toBe(before - 1);
    await sleep(400);
    expect(server.requests.length).toBe(1);
    expect(log.lines).toEqual(['open 1', 'message "a" id=""', 'error 0']);
  });

  it('stops a reconnection when called from the error listener', async () => {
    const server = await serve(stream('retry: 20\ndata: a\n\n'));
    const source = open(server.origin);
    source.onerror = () => source.close();
    await waitFor(() => source.readyState === EventSource.CLOSED);
    await sleep(200);
    expect(server.requests.length).toBe(1);
  });

  it('dispatches no event after close(), not even the rest of the chunk being parsed', async () => {
    const server = await serve(async (_request, res) => {
      eventStream(res);
      await writeChunks(res, ['data: 1\n\ndata: 2\n\nevent: x\ndata: 3\n\n', 'data: 4\n\n']);
    });
    const source = open(server.origin);
    const log = record(source, ['x']);
    source.addEventListener('message', () => source.close());
    await server.waitForRequests(1).then((request) => request.closed);
    await sleep(50);
    expect(log.lines).toEqual(['open 1', 'message "1" id=""']);
  });

  it('dispatches nothing when closed from the open listener', async () => {
    const server = await serve(stream('data: 1\n\n', false));
    const source = open(server.origin);
    const log = record(source);
    source.onopen = () => source.close();
    await server.waitForRequests(1).then((request) => request.closed);
    await sleep(50);
    expect(log.lines).toEqual(['open 1']);
  });
});

describe('EventSource: events', () => {
  it('dispatches named events to addEventListener(type), the rest to onmessage (format-field-event, format-field-event-empty)', async () => {
    const server = await serve(
      stream('event: price\ndata: 1\n\ndata: 2\n\nevent: \ndata: 3\n\nevent: price\ndata: 4\n\n', false),
    );
    const source = open(server.origin);
    const prices: string[] = [];
    const messages: string[] = [];
    source.addEventListener('price', (event) => prices.push(event.data));
    source.onmessage = (event) => messages.push(event.data);
    await waitFor(() => prices.length + messages.length === 4);
    expect(prices).toEqual(['1', '4']);
    expect(messages).toEqual(['2', '3']);
  });

  it('has onopen, onmessage and onerror handler properties: set, replaced in place, removed by null', async () => {
    const server = await serve((request, res) => {
      if (request.index === 0) {
        eventStream(res);
        res.end('retry: 20\ndata: a\n\ndata: b\n\n');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    const source = open(server.origin);
    const calls: string[] = [];
    source.addEventListener('message', () => calls.push('listener before'));
    source.onmessage = () => calls.push('first handler');
    source.addEventListener('message', () => calls.push('listener after'));
    source.onmessage = function (this: EventSource, event) {
      calls.push(`handler ${event.data} ${this === source}`);
      if (event.data === 'a') return;
      source.onmessage = null;
    };
    source.onopen = (event) => calls.push(`open ${event.type}`);
    source.onerror = () => calls.push(`error ${source.readyState}`);
    expect(typeof source.onmessage).toBe('function');
    await waitFor(() => source.readyState === EventSource.CLOSED);
    expect(calls).toEqual([
      'open open',
      'listener before',
      'handler a true',
      'listener after',
      'listener before',
      'handler b true',
      'listener after',
      'error 0',
      'error 2',
    ]);
    expect(source.onmessage).toBeNull();
    source.onopen = 'not a function' as unknown as null;
    expect(source.onopen).toBeNull();
  });

  it('parses bytes split at awkward places: BOM, CR then LF, UTF-8 characters, field names', async () => {
    const text =
      '\uFEFFid: é1\r\ndata: café 😀\r\n\r\nevent: x\rdata: a\rdata: b\r\r:comment\n\ndata: end\n\n';
    const bytes = new TextEncoder().encode(text);
    const cr = bytes.indexOf(13);
    const emoji = bytes.indexOf(0xf0);
    const chunks = splitAt(bytes, 1, 2, 5, cr + 1, emoji + 1, emoji + 2, emoji + 3, bytes.length - 7);
    const server = await serve(async (_request, res) => {
      eventStream(res);
      await writeChunks(res, chunks);
    });
    const source = open(server.origin);
    const log = record(source, ['x']);
    await waitFor(() => log.messages.length === 3);
    const seen = log.messages.map(({ type, data, lastEventId }) => ({ type, data, lastEventId }));
    expect(seen).toEqual([
      { type: 'message', data: 'café 😀', lastEventId: 'é1' },
      { type: 'x', data: 'a\nb', lastEventId: 'é1' },
      { type: 'message', data: 'end', lastEventId: 'é1' },
    ]);
    expect(seen).toEqual(parseAll(bytes));
  });

  it('parses a stream sent one byte at a time', async () => {
    const bytes = new TextEncoder().encode('data: ü\r\n\r\nid: 7\nevent: y\ndata: 1\ndata:2\n\n');
    const server = await serve(async (_request, res) => {
      eventStream(res);
      await writeChunks(
        res,
        Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)),
        2,
      );
    });
    const log = record(open(server.origin), ['y']);
    await waitFor(() => log.messages.length === 2);
    expect(log.messages.map(({ type, data, lastEventId }) => ({ type, data, lastEventId }))).toEqual(
      parseAll(bytes),
    );
  });
});
