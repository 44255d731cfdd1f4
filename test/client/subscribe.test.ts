import { once } from 'node:events';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClientError,
  type RetryInfo,
  type SubscribeOptions,
  type Subscription,
  subscribe,
} from '../../src/client/index.js';
import type { ParsedEvent } from '../../src/protocol/index.js';
import { closeServer, listen, sleep } from '../helpers/net.js';
import {
  eventStream,
  type Script,
  type ScriptedServer,
  startScriptedServer,
  writeChunks,
} from '../helpers/scripted-server.js';

const servers: ScriptedServer[] = [];
const subscriptions: Subscription[] = [];

afterEach(async () => {
  for (const subscription of subscriptions.splice(0)) subscription.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(script: Script): Promise<ScriptedServer> {
  const server = await startScriptedServer(script);
  servers.push(server);
  return server;
}

function start(url: string, options?: SubscribeOptions): Subscription {
  const subscription = subscribe(url, options);
  subscriptions.push(subscription);
  return subscription;
}

/** Reads up to `count` events (all of them when not given), then leaves the loop. */
async function take(subscription: Subscription, count = Number.POSITIVE_INFINITY): Promise<ParsedEvent[]> {
  const events: ParsedEvent[] = [];
  if (count === 0) return events;
  for await (const event of subscription) {
    events.push(event);
    if (events.length >= count) break;
  }
  return events;
}

/** The error `promise` rejects with; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** A fast, predictable reconnection policy for tests. */
const FAST = { initialDelayMs: 10, jitter: 0 };

const message = (data: string, lastEventId = '', type = 'message'): ParsedEvent => ({
  type,
  data,
  lastEventId,
});

describe('subscribe(): events', () => {
  it('yields each event as { type, data, lastEventId }, requesting with Accept and Cache-Control', async () => {
    const server = await serve((_request, res) => {
      eventStream(res);
      res.write('id: 1\ndata: a\n\nevent: price\ndata: b\ndata: c\n\n');
    });
    const subscription = start(server.origin);
    expect(await take(subscription, 2)).toEqual([message('a', '1'), message('b\nc', '1', 'price')]);
    expect(subscription.lastEventId).toBe('1');
    const [request] = server.requests;
    expect(request?.method).toBe('GET');
    expect(request?.headers.accept).toBe('text/event-stream');
    expect(request?.headers['cache-control']).toBe('no-cache');
  });

  it('starts the request with the first next(), not before', async () => {
    const server = await serve((_request, res) => {
      eventStream(res);
      res.write('data: a\n\n');
    });
    const subscription = start(server.origin);
    await sleep(50);
    expect(server.requests.length).toBe(0);
    expect(await take(subscription, 1)).toEqual([message('a')]);
  });

  it('sends a POST with its body and headers, and does not resend it when the stream ends', async () => {
    const server = await serve((_request, res) => {
      eventStream(res);
      res.end('retry: 10\ndata: token 1\n\ndata: token 2\n\n');
    });
    const body = JSON.stringify({ prompt: 'Hello' });
    const events = await take(
      start(`${server.origin}/v1/chat`, {
        method: 'POST',
        body,
        headers: {
          Authorization: 'Bearer key',
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
        },
      }),
    );
    expect(events).toEqual([message('token 1'), message('token 2')]);
    await sleep(100);
    expect(server.requests.length).toBe(1);
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/v1/chat');
    expect(request?.body).toBe(body);
    expect(request?.headers.authorization).toBe('Bearer key');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.accept).toBe('application/json, text/event-stream');
  });

  it('resends a POST, body and all, when retryNonIdempotent is set', async () => {
    const server = await serve((request, res) => {
      eventStream(res);
      res.end(`retry: 10\ndata: ${request.index}\n\n`);
    });
    const events = await take(
      start(server.origin, { method: 'POST', body: 'q=1', retryNonIdempotent: true }),
      3,
    );
    expect(events.map((event) => event.data)).toEqual(['0', '1', '2']);
    expect(server.requests.slice(0, 3).map((request) => [request.method, request.body])).toEqual([
      ['POST', 'q=1'],
      ['POST', 'q=1'],
      ['POST', 'q=1'],
    ]);
  });

  it('does not retry a POST the server refused with 503', async () => {
    const server = await serve((_request, res) => {
      res.writeHead(503, { 'retry-after': '0' });
      res.end('busy');
    });
    const error = await rejection(take(start(server.origin, { method: 'POST', body: 'x', reconnect: FAST })));
    expect(error).toMatchObject({ code: 'http-status', status: 503 });
    await sleep(50);
    expect(server.requests.length).toBe(1);
  });

  it('sends lastEventId as Last-Event-ID on the first request, then the latest ID on each reconnection', async () => {
    const server = await serve((request, res) => {
      eventStream(res);
      if (request.index === 0) res.end('retry: 10\nid: é7\ndata: a\n\n');
      else res.write('data: b\n\n');
    });
    const subscription = start(server.origin, { lastEventId: 'start-5' });
    expect(await take(subscription, 2)).toEqual([message('a', 'é7'), message('b', 'é7')]);
    expect(server.requests.map((request) => request.lastEventId)).toEqual(['start-5', 'é7']);
  });

  it('ends without an error on 204 No Content', async () => {
    const server = await serve((request, res) => {
      if (request.index === 0) {
        eventStream(res);
        res.end('retry: 10\ndata: last\n\n');
      } else {
        res.writeHead(204);
        res.end();
      }
    });
    expect(await take(start(server.origin))).toEqual([message('last')]);
    expect(server.requests.length).toBe(2);
  });

  it('ends without an error when the stream ends and reconnect is false', async () => {
    const server = await serve((_request, res) => {
      eventStream(res);
      res.end('retry: 10\ndata: only\n\n');
    });
    expect(await take(start(server.origin, { reconnect: false }))).toEqual([message('only')]);
    await sleep(50);
    expect(server.requests.length).toBe(1);
  });

  it('uses the fetch option', async () => {
    const server = await serve((_request, res) => {
      eventStream(res);
      res.write('data: a\n\n');
    });
    const urls: string[] = [];
    const events = await take(
      start(`${server.origin}/x`, {
        fetch: (url, init) => {
          urls.push(url);
          return fetch(url, init);
        },
      }),
      1,
    );
    expect(events).toEqual([message('a')]);
    expect(urls).toEqual([`${server.origin}/x`]);
  });

  it('calls onOpen with the response before its events; a throw there ends the subscription', async () => {
    const server = await serve((_request, res) => {
      eventStream(res, { 'x-api-version': '1' });
      res.write('data: a\n\n');
    });
    const versions: Array<string | null> = [];
    const error = await rejection(
      take(
        start(server.origin, {
          onOpen: (response) => {
            versions.push(response.headers.get('x-api-version'));
            throw new Error('API version 2 needed');
          },
        }),
      ),
    );
    expect(versions).toEqual(['1']);
    expect((error as Error).message).toBe('API version 2 needed');
    expect(server.requests.length).toBe(1);
  });
});

describe('subscribe(): refusals and retries', () => {
  it('throws ClientError http-status with the status, headers and a body snippet on 401, and does not retry', async () => {
    const server = await serve((_request, res) => {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      // 37 bytes before the two-byte characters: the first KiB ends in the middle of one.
      res.end(JSON.stringify({ error: 'invalid token!', padding: 'é'.repeat(2000) }));
    });
    const error = await rejection(take(start(server.origin, { reconnect: FAST })));
    expect(error).toBeInstanceOf(ClientError);
    const refusal = error as ClientError;
    expect(refusal).toMatchObject({ code: 'http-status', status: 401, statusText: 'Unauthorized' });
    expect(refusal.headers?.['www-authenticate']).toBe('Bearer');
    expect(refusal.body?.startsWith('{"error":"invalid token!","padding":"éé')).toBe(true);
    // The first KiB, cut on a character boundary.
    expect(new TextEncoder().encode(refusal.body).length).toBe(1023);
    expect(refusal.body).not.toContain('\uFFFD');
    expect(refusal.message).toContain('401 Unauthorized');
    expect(refusal.message).toContain('invalid token');
    await sleep(50);
    expect(server.requests.length).toBe(1);
  });

  it('throws ClientError bad-content-type on a 200 that is not text/event-stream, and does not retry', async () => {
    const server = await serve((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<title>Login</title>');
    });
    const error = await rejection(take(start(server.origin, { reconnect: FAST })));
    expect(error).toMatchObject({ code: 'bad-content-type', status: 200, body: '<title>Login</title>' });
    expect(server.requests.length).toBe(1);
  });

  it('retries a 503 after its Retry-After delay', async () => {
    const server = await serve((request, res) => {
      if (request.index === 0) {
        res.writeHead(503, { 'retry-after': '1' });
        res.end('overloaded');
        return;
      }
      eventStream(res);
      res.write('data: back\n\n');
    });
    const retries: RetryInfo[] = [];
    const errors: ClientError[] = [];
    const subscription = start(server.origin, {
      reconnect: FAST,
      onError: (error) => {
        errors.push(error);
      },
      onRetry: (retry) => retries.push(retry),
    });
    expect(await take(subscription, 1)).toEqual([message('back')]);
    expect(retries).toEqual([{ attempt: 1, delayMs: 1000, lastEventId: '' }]);
    expect(errors.map((error) => [error.code, error.status, error.body])).toEqual([
      ['http-status', 503, 'overloaded'],
    ]);
    const [first, second] = server.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('retries a 429, with Retry-After as an HTTP date', async () => {
    const server = await serve((request, res) => {
      if (request.index === 0) {
        res.writeHead(429, { 'retry-after': new Date(Date.now() - 60_000).toUTCString() });
        res.end();
        return;
      }
      eventStream(res);
      res.write('data: ok\n\n');
    });
    const retries: RetryInfo[] = [];
    const subscription = start(server.origin, { reconnect: FAST, onRetry: (retry) => retries.push(retry) });
    expect(await take(subscription, 1)).toEqual([message('ok')]);
    expect(retries).toEqual([{ attempt: 1, delayMs: 0, lastEventId: '' }]);
  });

  it('gives up after maxRetries failed reconnections in a row: retries-exhausted, with the last error as cause', async () => {
    const server = await serve((request, res) => {
      res.writeHead(500);
      res.end(`failure ${request.index}`);
    });
    const delays: number[] = [];
    const error = await rejection(
      take(
        start(server.origin, {
          reconnect: { initialDelayMs: 5, factor: 2, jitter: 0, maxRetries: 3 },
          onError: (_error, { delayMs }) => {
            delays.push(delayMs);
          },
        }),
      ),
    );
    expect(error).toMatchObject({ code: 'retries-exhausted' });
    expect((error as ClientError).cause).toMatchObject({
      code: 'http-status',
      status: 500,
      body: 'failure 3',
    });
    expect(delays).toEqual([5, 10, 20]);
    expect(server.requests.length).toBe(4);
  });

  it('counts only failures in a row: a successful connection starts the count again', async () => {
    const server = await serve((request, res) => {
      if (request.index % 2 === 0) {
        res.writeHead(500);
        res.end();
        return;
      }
      eventStream(res);
      res.end(`data: ${request.index}\n\n`);
    });
    // Each stream that ends is followed by a reconnection refused with 500: two reconnections in a row
    // before the next success, so a count that never started again would run out at the third.
    const events = await take(start(server.origin, { reconnect: { ...FAST, maxRetries: 2 } }), 3);
    expect(events.map((event) => event.data)).toEqual(['1', '3', '5']);
  });

  it('does not retry a 4xx other than 429, unless isRetryableStatus says so', async () => {
    const script: Script = (request, res) => {
      if (request.index === 0) {
        res.writeHead(404);
        res.end();
        return;
      }
      eventStream(res);
      res.write('data: found\n\n');
    };
    const refused = await serve(script);
    expect(await rejection(take(start(refused.origin, { reconnect: FAST })))).toMatchObject({ status: 404 });
    expect(refused.requests.length).toBe(1);

    const retried = await serve(script);
    const events = await take(
      start(retried.origin, { reconnect: FAST, isRetryableStatus: (status) => status === 404 }),
      1,
    );
    expect(events).toEqual([message('found')]);
  });

  it('stops when onError returns false, throwing that error', async () => {
    const server = await serve((_request, res) => {
      res.writeHead(502);
      res.end();
    });
    const error = await rejection(take(start(server.origin, { reconnect: FAST, onError: () => false })));
    expect(error).toMatchObject({ code: 'http-status', status: 502 });
    expect(server.requests.length).toBe(1);
  });

  it('retries after a network error, and throws ClientError network when reconnect is false', async () => {
    const server = await serve((request, res, req) => {
      if (request.index === 0) {
        req.socket.destroy();
        return;
      }
      eventStream(res);
      res.write('data: after\n\n');
    });
    const errors: string[] = [];
    const subscription = start(server.origin, {
      reconnect: FAST,
      onError: (error) => {
        errors.push(error.code);
      },
    });
    expect(await take(subscription, 1)).toEqual([message('after')]);
    expect(errors).toEqual(['network']);

    const closed = createServer();
    const origin = await listen(closed);
    await closeServer(closed);
    const error = await rejection(take(start(origin, { reconnect: false })));
    expect(error).toMatchObject({ code: 'network' });
    expect((error as ClientError).message).toContain('ECONNREFUSED');
    expect((error as ClientError).cause).toBeInstanceOf(Error);
  });

  it("bases the delay on the server's retry:, grown by factor and capped at maxDelayMs", async () => {
    const server = await serve((request, res) => {
      if (request.index === 0) {
        eventStream(res);
        res.end('retry: 40\ndata: a\n\n');
        return;
      }
      res.writeHead(500);
      res.end();
    });
    const delays: number[] = [];
    await rejection(
      take(
        start(server.origin, {
          reconnect: { initialDelayMs: 1, maxDelayMs: 100, factor: 2, jitter: 0, maxRetries: 4 },
          onRetry: ({ delayMs }) => delays.push(delayMs),
        }),
      ),
    );
    expect(delays).toEqual([40, 80, 100, 100]);
  });

  it('takes up to jitter of each delay off at random', async () => {
    const server = await serve((_request, res) => {
      res.writeHead(500);
      res.end();
    });
    const delays: number[] = [];
    await rejection(
      take(
        start(server.origin, {
          reconnect: { initialDelayMs: 20, factor: 1, jitter: 0.5, maxRetries: 8 },
          onRetry: ({ delayMs }) => delays.push(delayMs),
        }),
      ),
    );
    expect(delays.length).toBe(8);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(10);
      expect(delay).toBeLessThanOrEqual(20);
    }
    expect(new Set(delays).size).toBeGreaterThan(1);
  });

  it('fails for good on an event that grows past maxEventSize', async () => {
    const server = await serve(async (_request, res) => {
      eventStream(res);
      await writeChunks(res, ['data: small\n\ndata: ', 'x'.repeat(60), '\ndata: ', 'y'.repeat(60), '\n\n']);
    });
    const events: ParsedEvent[] = [];
    const error = await rejection(
      (async () => {
        for await (const event of start(server.origin, { maxEventSize: 100, reconnect: FAST }))
          events.push(event);
      })(),
    );
    expect(events).toEqual([message('small')]);
    expect(error).toMatchObject({ code: 'event-too-large' });
    expect(server.requests.length).toBe(1);
  });
});

describe('subscribe(): stopping', () => {
  const holdOpen: Script = (_request, res) => {
    eventStream(res);
    res.write('data: first\n\n');
  };

  it('break cancels the request at once: the server sees the connection close', async () => {
    const server = await serve(holdOpen);
    expect(await take(start(server.origin), 1)).toEqual([message('first')]);
    const [request] = server.requests;
    await request?.closed;
    expect(request?.abortedByClient()).toBe(true);
  });

  it('return() while a next() waits settles it as done and cancels the request', async () => {
    const server = await serve((_request, res) => eventStream(res));
    const subscription = start(server.origin);
    const pending = subscription.next();
    const request = await server.waitForRequests(1);
    await subscription.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    await request.closed;
    expect(request.abortedByClient()).toBe(true);
    expect(await subscription.next()).toEqual({ value: undefined, done: true });
  });

  it('aborting the signal cancels the request and makes the iterator throw the reason', async () => {
    const server = await serve(holdOpen);
    const controller = new AbortController();
    const subscription = start(server.origin, { signal: controller.signal });
    expect(await subscription.next()).toEqual({ value: message('first'), done: false });
    const pending = subscription.next();
    controller.abort(new Error('user left'));
    expect(await rejection(pending)).toMatchObject({ message: 'user left' });
    const [request] = server.requests;
    await request?.closed;
    expect(request?.abortedByClient()).toBe(true);
    expect(await subscription.next()).toEqual({ value: undefined, done: true });
  });

  it('aborting during a reconnection delay stops at once, with no new request', async () => {
    const server = await serve((_request, res) => {
      eventStream(res);
      res.end('retry: 5000\ndata: a\n\n');
    });
    const controller = new AbortController();
    const retries: RetryInfo[] = [];
    const subscription = start(server.origin, {
      signal: controller.signal,
      onRetry: (retry) => {
        retries.push(retry);
        controller.abort();
      },
    });
    const error = await rejection(take(subscription));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    expect(retries.length).toBe(1);
    await sleep(50);
    expect(server.requests.length).toBe(1);
  });

  it('makes no request when closed before the first next()', async () => {
    const server = await serve(holdOpen);
    const subscription = start(server.origin);
    subscription.close();
    expect(await subscription.next()).toEqual({ value: undefined, done: true });
    await sleep(50);
    expect(server.requests.length).toBe(0);
  });

  it('makes no request when the signal is already aborted', async () => {
    const server = await serve(holdOpen);
    const error = await rejection(take(start(server.origin, { signal: AbortSignal.abort() })));
    expect((error as DOMException).name).toBe('AbortError');
    await sleep(50);
    expect(server.requests.length).toBe(0);
  });

  it('reconnects when nothing arrives for idleTimeoutMs', async () => {
    const server = await serve((request, res) => {
      eventStream(res);
      res.write(`id: ${request.index}\ndata: ${request.index}\n\n`);
    });
    const errors: string[] = [];
    const events = await take(
      start(server.origin, {
        idleTimeoutMs: 100,
        reconnect: FAST,
        onError: (error) => {
          errors.push(error.code);
        },
      }),
      2,
    );
    expect(events).toEqual([message('0', '0'), message('1', '1')]);
    expect(errors).toEqual(['idle-timeout']);
    expect(server.requests[1]?.lastEventId).toBe('0');
    await server.requests[0]?.closed;
    expect(server.requests[0]?.abortedByClient()).toBe(true);
  });

  it('does not count comments as silence', async () => {
    const server = await serve(async (_request, res) => {
      eventStream(res);
      res.write('data: a\n\n');
      for (let i = 0; i < 20 && !res.destroyed; i++) {
        await sleep(20);
        res.write(':\n');
      }
      res.write('data: b\n\n');
    });
    const events = await take(start(server.origin, { idleTimeoutMs: 200, reconnect: FAST }), 2);
    expect(events).toEqual([message('a'), message('b')]);
    expect(server.requests.length).toBe(1);
  });
});

describe('subscribe(): backpressure', () => {
  it('stops reading while maxQueuedEvents wait for the consumer, so the server sees its writes back up', async () => {
    const frame = `data: ${'x'.repeat(1000)}\n\n`;
    // Far more than the socket buffers and the queue can hold: reaching it means the client read everything.
    const limit = 30_000;
    let resolveWritten: (count: number) => void = () => {};
    const written = new Promise<{ count: number; stalled: boolean }>((resolve) => {
      resolveWritten = (count) => resolve({ count, stalled: count < limit });
    });
    const server = await serve(async (_request, res) => {
      eventStream(res);
      let count = 0;
      for (;;) {
        let accepted = true;
        while (accepted && count < limit) {
          accepted = res.write(frame);
          count++;
        }
        if (count >= limit) break;
        // The socket pushed back. A client that keeps reading drains it at once.
        const drained = await Promise.race([
          once(res, 'drain').then(() => true),
          sleep(300).then(() => false),
        ]);
        if (!drained) break;
      }
      resolveWritten(count);
      res.end();
    });
    const subscription = start(server.origin, { maxQueuedEvents: 10, reconnect: false });
    expect((await subscription.next()).done).toBe(false);
    // The consumer takes nothing more for now.
    const { count, stalled } = await written;
    expect(stalled).toBe(true);
    expect(count).toBeLessThan(limit);
    // Then it reads everything: not one event lost.
    const rest = await take(subscription);
    expect(rest.length + 1).toBe(count);
  });
});

describe('subscribe(): invalid arguments', () => {
  it('throws ClientError at once for an invalid URL or option', () => {
    expect(() => subscribe('not a url')).toThrow(expect.objectContaining({ code: 'invalid-url' }));
    expect(() => subscribe('ftp://example.com/')).toThrow(expect.objectContaining({ code: 'invalid-url' }));
    expect(() => subscribe('http://127.0.0.1/', { maxQueuedEvents: 0 })).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    );
    expect(() => subscribe('http://127.0.0.1/', { idleTimeoutMs: -1 })).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    );
    expect(() => subscribe('http://127.0.0.1/', { reconnect: { factor: 0.5 } })).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    );
    expect(() => subscribe('http://127.0.0.1/', { headers: { 'bad header': 'x' } })).toThrow(TypeError);
  });
});
