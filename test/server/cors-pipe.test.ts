import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { cors, createCorsPolicy, createEventStream, pipe, ServerError } from '../../src/server/index.js';
import { closeServer, listen, waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map(closeServer));
  servers = [];
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  return listen(server);
}

describe('cors', () => {
  const allowed = 'http://app.example';

  async function corsServer() {
    let streamsStarted = 0;
    const allow = cors({ origins: [allowed], credentials: true });
    const url = await serve((req, res) => {
      if (!allow(req, res)) return;
      streamsStarted++;
      createEventStream(req, res).close();
    });
    return { url, started: () => streamsStarted };
  }

  it('echoes an allowed origin with credentials, never *', async () => {
    const { url } = await corsServer();
    const response = await fetch(url, { headers: { origin: allowed } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('vary')).toBe('Origin');
    await response.text();
  });

  it('refuses another origin with 403 before any stream starts', async () => {
    const { url, started } = await corsServer();
    const response = await fetch(url, { headers: { origin: 'http://evil.example' } });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(await response.text()).toContain('not allowed');
    expect(started()).toBe(0);
  });

  it('serves requests without an Origin (same origin, or not a browser)', async () => {
    const { url, started } = await corsServer();
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    await response.text();
    expect(started()).toBe(1);
  });

  it('answers a preflight with 204 and the allowed methods and headers', async () => {
    const { url, started } = await corsServer();
    const response = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin: allowed,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'last-event-id',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(response.headers.get('access-control-allow-methods')).toContain('GET');
    expect(response.headers.get('access-control-allow-headers')).toContain('Last-Event-ID');
    expect(started()).toBe(0);
    const refused = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(refused.status).toBe(403);
  });

  it('refuses to combine credentials with any origin', () => {
    expect(() => createCorsPolicy({ origins: '*', credentials: true })).toThrow(ServerError);
    expect(
      createCorsPolicy({ origins: '*' })('http://any.example', 'GET').headers['access-control-allow-origin'],
    ).toBe('*');
  });
});

describe('pipe', () => {
  it('sends every item of an async iterable, then closes the stream', async () => {
    const url = await serve((req, res) => {
      async function* numbers() {
        for (let i = 1; i <= 3; i++) yield { n: i };
        yield 'text';
      }
      void pipe(numbers(), createEventStream(req, res));
    });
    const client = await openSse(url);
    await client.ended;
    expect(client.events.map((event) => event.data)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}', 'text']);
  });

  it('maps the items of a Readable to events', async () => {
    const url = await serve((req, res) => {
      const source = Readable.from([{ price: 1 }, { price: 2 }]);
      void pipe(source, createEventStream(req, res), {
        map: (item: { price: number }) => ({
          event: 'price',
          id: String(item.price),
          data: String(item.price),
        }),
      });
    });
    const client = await openSse(url);
    await client.ended;
    expect(client.events).toEqual([
      { type: 'price', data: '1', lastEventId: '1' },
      { type: 'price', data: '2', lastEventId: '2' },
    ]);
  });

  it('stops pulling from the source as soon as the client goes away', async () => {
    let produced = 0;
    let finished = false;
    let sentTotal: number | undefined;
    const url = await serve((req, res) => {
      async function* endless() {
        try {
          for (;;) {
            produced++;
            yield String(produced);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        } finally {
          finished = true;
        }
      }
      pipe(endless(), createEventStream(req, res)).then((sent) => {
        sentTotal = sent;
      });
    });
    const client = await openSse(url);
    await client.waitForEvents(3);
    client.close();
    await waitFor(() => finished, 5000, 'the generator to finish');
    const at = produced;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(produced).toBe(at);
    expect(sentTotal).toBeGreaterThanOrEqual(3);
  });
});
